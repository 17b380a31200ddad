"""Robustness: whatever the BibTeX loader, the citation parser, the content loader, the hygiene checks and the
renderer are fed, they return a result or problems with a file and line, never a traceback (property-based,
deterministic). Control characters, bidi controls, look-alike keys and deep nesting are among what they are fed, and
must come back as located problems."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import hygiene
from generator.build import validate_report
from generator.citations import AUTHOR_IN_TEXT, KEY, find_citations, parse_citation_body, written_key
from generator.config import SiteConfig
from generator.errors import Problems
from generator.render.report import CitationState, Renderer
from generator.reports.model import parse_report
from generator.sources.bib import Bibliography, parse_bib_text, validate_source
from generator.sources.references import ReferenceFormatter, to_csl

from .conftest import MINIMAL_BIB, MINIMAL_REPORT, write_tree

# Example counts, all derandomized: 11 600 a run, the most on the cheapest targets (~45 s on 2 cores).
EXAMPLES = {"bib": 2000, "bib_format": 50, "cite": 5000, "cite_roundtrip": 400, "yaml_text": 1200,
            "yaml_structure": 800, "render": 1000, "prose": 1000}
TOTAL_EXAMPLES = sum(EXAMPLES.values())


def fuzz(name: str) -> settings:
    """Deterministic settings: same examples on every run and machine, no example database, no deadline."""
    return settings(max_examples=EXAMPLES[name], derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def mutations(base: str, tokens: list[str]) -> st.SearchStrategy[str]:
    """`base` with up to three edits: a slice deleted and/or a token inserted at random places."""
    edit = st.tuples(st.integers(0, len(base)), st.integers(0, 12), st.sampled_from(tokens))

    def apply(edits: list[tuple[int, int, str]]) -> str:
        text = base
        for position, delete, token in edits:
            position = min(position, len(text))
            text = text[:position] + token + text[position + delete:]
        return text

    return st.lists(edit, min_size=1, max_size=3).map(apply)


def assert_located(problems: Problems, text: str, path: str) -> None:
    """Every problem names the file and a line that exists in it (YAML also breaks lines at `\\r`, U+2028, …)."""
    last = max(text.count("\n"), len(text.splitlines())) + 1
    for problem in problems.items:
        assert problem.path == path, problem
        assert problem.line is not None and 1 <= problem.line <= last, problem.format()
        assert problem.message, problem


# -- BibTeX ------------------------------------------------------------------------------------

BIB_TOKENS = [
    "@online{", "@article{", "@string{", "@comment{", "@preamble{", "@{", "@online(", "@misc ", "}", "{", "(", ")",
    ",", " = ", "=", '"', " # ", "#", "\n", " ", "\t", "key2025", "title", "author", "url", "doi", "date", "year",
    "urldate", "kind", "news", "peer-reviewed", "fact-chek", "{Smith, J. and Doe, K}", "Smith, J, K, L",
    "{Unclosed", "https://example.org/x", "javascript:alert(1)", "10.1234/abc", "2025-13-45", "2025", "jan",
    "\\'e", "\\", "%", "~", "$x$", "--", " and ", "{{", "}}", "\\{", "</script><!--", "Ж", "@", "{\\\"u}",
    "\\url{", "\\emph{x}", "\ufeff", "\r\n",
    # hygiene: control characters, bidi controls, a Cyrillic look-alike key
    "\x07", "\x1b[31m", "\x85", "\r", "\ufffe", "\u202e", "\u2066", "t\u0430ss2025", "@online{t\u0430ss2025,",
]
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]|\r(?!\n)")
bib_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(BIB_TOKENS), st.text(max_size=4)), max_size=60).map("".join),
    mutations(MINIMAL_BIB, BIB_TOKENS),
)
BIB_PATH = "bib/fuzz.bib"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with the two section files the fuzzed report.yml refers to."""
    root = tmp_path_factory.mktemp("fuzz")
    write_tree(root, {"content/example/summary.md": "Summary [@alpha2025].\n",
                      "content/example/evidence.md": "Evidence [@beta2024, p. 2].\n"})
    return root


def load_bib_text(text: str, root: Path) -> tuple[Bibliography, Problems]:
    sources, problems = parse_bib_text(text, root / BIB_PATH, root)
    bib = Bibliography(problems=problems)
    for source in sources:
        if source.broken:
            continue
        validate_source(source, problems)
        bib.sources.setdefault(source.key, source)
    return bib, problems


@fuzz("bib")
@given(text=bib_texts)
def test_bib_loader_returns_sources_or_located_problems(root: Path, text: str) -> None:
    bib, problems = load_bib_text(text, root)
    assert_located(problems, text, BIB_PATH)
    assert_hygiene_found(problems, text.removeprefix("\ufeff"), BIB_PATH)
    for source in bib.sources.values():
        assert source.key and 1 <= source.line <= text.count("\n") + 1
        for name in source.fields:
            assert isinstance(source.text(name), str)
        source.persons()
        source.persons("editor")
        item = to_csl(source)
        assert item["id"] == source.key


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs.extend(v or "" for k, v in attrs if k == "href")
        assert not any(k.startswith("on") for k, _ in attrs)


@fuzz("bib_format")
@given(text=mutations(MINIMAL_BIB, BIB_TOKENS))
def test_formatted_references_are_safe_html(root: Path, formatter: ReferenceFormatter, text: str) -> None:
    bib, problems = load_bib_text(text, root)
    for source in bib.sources.values():
        formatted = formatter.format(source)
        parser = _Tags()
        parser.feed(formatted.html)
        assert parser.tags <= {"a", "em", "strong", "u", "s", "sup", "sub", "span", "code"}
        if not any(p.code in ("unsafe-url", "bad-url") for p in problems.items):
            assert all(h.startswith(("https://", "http://")) for h in parser.hrefs), parser.hrefs


def assert_hygiene_found(problems: Problems, text: str, path: str, first_line: int = 1) -> None:
    """The first control character and the first bidi control of a text are reported on their line."""
    for pattern, code in ((CONTROL, "control-character"), (re.compile("[\u202a-\u202e\u2066-\u2069]"), "bidi-control")):
        match = pattern.search(text)
        if match:
            line = first_line + text.count("\n", 0, match.start())
            assert any(p.code == code and p.line == line and p.path == path for p in problems.items), (code, line)


# -- citations ---------------------------------------------------------------------------------

CITE_TOKENS = ["[", "]", "@", ";", ",", " ", "-", "key", "a.b", "doi:10.1/x", "p. 4", "see", "`", "```\n", "~~~\n",
               "\n", "(", ")", ":", "me@mail.org", "[@", "](", "\\", "[^1]", "Ж", ".", "\x07", "\u202e", "\u0430",
               "[@t\u0430ss2025]", "~~~", "[^1]: ", "-@", "``", "````\n", "\r"]
cite_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(CITE_TOKENS), st.text(max_size=3)), max_size=50).map("".join),
)


@fuzz("cite")
@given(text=cite_texts)
def test_citation_parser_returns_citations_or_located_errors(text: str) -> None:
    citations, errors = find_citations(text)
    last = text.count("\n") + 1
    previous_end = 0
    for citation in citations:
        assert previous_end <= citation.start < citation.end <= len(text)
        written = text[citation.start:citation.end]
        if citation.items[0].mode == AUTHOR_IN_TEXT or written.startswith("-@"):  # narrative: `@key`, `@key [p. 4]`
            assert written.lstrip("-").startswith("@") and citation.items[0].key in written
        else:
            assert written.startswith("[") and written.endswith("]")
        assert 1 <= citation.line <= last
        assert citation.items and all(re.fullmatch(KEY, item.key) or written_key(item.key).startswith("{")
                                      for item in citation.items)
        previous_end = citation.end
    for error in errors:
        assert 1 <= error.line <= last and error.message and error.hint


plain_keys = st.from_regex(r"[A-Za-z0-9_](?:[:./-]?[A-Za-z0-9_]){0,6}", fullmatch=True)  # Pandoc's simple keys
locators = st.one_of(st.just(""), st.from_regex(r"(p|pp|ch|sec)\. [0-9]{1,3}(-[0-9]{1,3})?", fullmatch=True))


@fuzz("cite_roundtrip")
@given(items=st.lists(st.tuples(plain_keys, locators), min_size=1, max_size=4))
def test_written_citations_parse_back(items: list[tuple[str, str]]) -> None:
    body = "; ".join(f"@{key}, {locator}" if locator else f"@{key}" for key, locator in items)
    [citation], errors = find_citations(f"Text [{body}] more.")
    assert errors == []
    assert [(item.key, item.suffix.removeprefix(", ")) for item in citation.items] == items
    assert parse_citation_body(body) == citation.items


# -- report.yml --------------------------------------------------------------------------------

YAML_TOKENS = [":", ": ", "- ", "  ", "\n", "'", '"', "[", "]", "{", "}", "&a ", "*a", "!!python/object:os.system ",
               "!!binary ", "2026-02-30", "2999-01-01", "20260127", "false", "null", "~", "\t", "? ", "---\n", "...\n",
               "%YAML 1.1\n", "claims", "rating: nope", "version: 0", "kind: evidense", "#", "|\n", ">-\n", "\ufeff",
               "<<: *a\n", "x" * 20, "[@alpha2025]", "[@nope]", "[@a @b]", "</script><!--",
               # hygiene: escaped and raw control characters, bidi controls, booleans for numbers, deep nesting
               '"\\x07"', '"\\u202e"', '"\\ud800"', '"\\uFFFE"', "\x85", "\u202e", "yes", "version: true",
               "[" * 120, "- " * 60, '"' + "- " * 60 + 'x"', "[@t\u0430ss2025]"]
REPORT_PATH = "content/example/report.yml"


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**9), st.text(max_size=20),
                        st.dates().map(dt.date.isoformat), st.sampled_from(["unproven", "summary", "alpha2025"]))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=5)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


BASE = yaml.safe_load(MINIMAL_REPORT)
BASE_PATHS = _paths(BASE)[1:]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)
    return copy


structured_reports = st.lists(st.tuples(st.sampled_from(BASE_PATHS), _json_values()), min_size=1, max_size=3).map(
    lambda edits: _apply_all(edits))


def _apply_all(edits: list[tuple[tuple[Any, ...], Any]]) -> str:
    data = BASE
    for path, value in edits:
        try:
            data = _replace(data, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier edit removed the path
            continue
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _check_report_text(root: Path, renderer: Renderer, text: str) -> None:
    """Load, and when the report loads, validate and render it: problems only, each on a line of report.yml."""
    problems = Problems(root=root)
    report = parse_report(text, root / "content" / "example", problems)
    assert report is not None or problems.errors
    if report is not None:
        validate_report(report, renderer.config, renderer.bib, problems, dt.date(2026, 2, 1))
        renderer.page_markdown(renderer.render_report(report, problems))
    yml = [p for p in problems.items if p.path == REPORT_PATH]
    assert_located(Problems(items=yml), text, REPORT_PATH)
    assert all(p.path.startswith("content/example/") for p in problems.items)


@fuzz("yaml_text")
@given(text=st.one_of(st.text(max_size=300), mutations(MINIMAL_REPORT, YAML_TOKENS)))
def test_report_loader_returns_report_or_located_problems(root: Path, renderer: Renderer, text: str) -> None:
    _check_report_text(root, renderer, text)


@fuzz("yaml_structure")
@given(text=structured_reports)
def test_schema_violations_are_located(root: Path, renderer: Renderer, text: str) -> None:
    _check_report_text(root, renderer, text)


# -- whole pipeline on valid reports with arbitrary text ----------------------------------------

def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


TEXT_PATHS = [p for p in BASE_PATHS if isinstance(_get(BASE, p), str)
              and p[-1] not in ("date", "checked_on", "kind", "file", "id", "rating")]
hostile_text = st.one_of(
    st.text(min_size=1, max_size=40).filter(str.strip),
    st.sampled_from(["</script><script>alert(1)</script>", "<!--", "]]>", "{{ 7*7 }}", "[@nope]", "[@alpha2025",
                     "<img src=x onerror=alert(1)>", "javascript:alert(1)", "\u2028", "&amp;", "`</script>`",
                     "bell \x07", "\u202eevil", "[@t\u0430ss2025]", "- " * 60 + "x", ">" * 120 + " x",
                     "<div>" * 120, "*a " * 120 + "x", "\ud800", "RGCITE5X", "RGCIT&#69;0X"]),
)


@pytest.fixture(scope="module")
def formatter() -> ReferenceFormatter:
    return ReferenceFormatter("ieee")


@pytest.fixture(scope="module")
def renderer(root: Path, formatter: ReferenceFormatter) -> Renderer:
    bib, problems = load_bib_text(MINIMAL_BIB, root)
    assert not problems.errors
    return Renderer(SiteConfig(), bib, formatter)


@fuzz("render")
@given(edits=st.lists(st.tuples(st.sampled_from(TEXT_PATHS), hostile_text), min_size=1, max_size=4))
def test_any_text_renders_or_is_reported(root: Path, renderer: Renderer, edits: list[tuple[tuple[Any, ...], str]]) -> None:
    data = BASE
    for path, value in edits:
        data = _replace(data, path, value)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    problems = Problems(root=root)
    report = parse_report(text, root / "content" / "example", problems)
    if report is None:
        assert problems.errors
        return
    validate_report(report, renderer.config, renderer.bib, problems, dt.date(2026, 2, 1))
    rendered = renderer.render_report(report, problems)
    page = renderer.page_markdown(rendered)
    assert page.count("<script") == 1  # the JSON-LD block, and nothing from the content
    assert_located(Problems(items=[p for p in problems.items if p.path == REPORT_PATH]), text, REPORT_PATH)


# -- Markdown prose: hygiene checks and rendering ------------------------------------------------

PROSE_TOKENS = ["> ", ">", "- ", "* ", "1. ", "    ", "\t", "x", "\n", "\n\n", "*a ", "*", "**", "_", "<div>", "</div>",
                '<div markdown="1">\n', "<ul><li>", "<table><tr><td>", ": ", "a\n: ", "[^1]: ", "<span>", "```\n", "`",
                "[@alpha2025]", "[@nope", "[@t\u0430ss2025]", "\x07", "\u202e", "\r", "\x85", "- " * 30, "> " * 30,
                "<div>" * 30, "*a " * 30, "RGCITE0X", "RGCITE99X", "RGCIT&#69;7X", "![a [@alpha2025]](x.png)"]
prose_texts = st.one_of(st.lists(st.sampled_from(PROSE_TOKENS), max_size=80).map("".join), st.text(max_size=200))
PROSE_PATH = "content/example/summary.md"


@fuzz("prose")
@given(text=prose_texts)
def test_prose_is_checked_and_rendered_with_located_problems(root: Path, renderer: Renderer, text: str) -> None:
    problems = Problems(root=root)
    path = root / PROSE_PATH
    hygiene.check_prose(text, path, problems)
    assert_hygiene_found(problems, text, PROSE_PATH)
    state = CitationState(None, renderer.bib, renderer.formatter, problems)  # type: ignore[arg-type]
    html = str(renderer.prose(text, state, path))
    assert "<script" not in html
    assert hygiene.html_nesting(html) <= hygiene.MAX_HTML_NESTING
    assert_located(problems, text, PROSE_PATH)
