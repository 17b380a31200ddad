"""Text hygiene: invisible control characters, bidi overrides, look-alike keys, booleans for numbers and nesting too
deep for a parser's stack; each a located problem through `report check`, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator import hygiene
from generator.cli import main
from generator.config import SiteConfig
from generator.errors import Problems
from generator.render.report import CitationState, Renderer
from generator.sources.bib import Bibliography, parse_bib_text
from generator.sources.references import ReferenceFormatter

from .conftest import MINIMAL_BIB, MINIMAL_REPORT

CITES_ALL = "[@alpha2025; @gamma2025; @beta2024]"
DELETE = "  hint: delete it (it is invisible in most editors)"


def check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", str(root)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out


def entry(key: str, title: str = "T") -> str:
    return (f"@online{{{key},\n  title = {{{title}}},\n  date = {{2025}},\n  url = {{https://example.org/t}},\n"
            "  kind = {news},\n}\n")


# -- control characters ------------------------------------------------------------------------

def test_control_character_in_prose_is_an_error_on_its_line(make_project, capsys) -> None:
    root = make_project(**{"content/example/summary.md": f"First line {CITES_ALL}.\nA bell \x07 here.\n"})
    code, out = check(root, capsys)
    assert code == 1
    assert f"content/example/summary.md:2: error: control character U+0007 in text\n{DELETE}\n" in out


@pytest.mark.parametrize(("char", "kind"), [("\x1b", "control character U+001B"), ("\x7f", "control character U+007F"),
                                            ("\x9b", "control character U+009B"), ("\ufffe", "non-character U+FFFE"),
                                            ("\x00", "control character U+0000")])
def test_every_forbidden_character_is_found(char: str, kind: str) -> None:
    problems = Problems()
    hygiene.check_text(f"ok\n\nbad {char} text\n", "x.md", problems)
    assert [(p.line, p.message, p.severity.value) for p in problems.items] == [(3, f"{kind} in text", "error")]


def test_tab_newline_and_crlf_are_fine_a_lone_cr_is_not() -> None:
    problems = Problems()
    hygiene.check_text("a\tb\r\nc\r\n", "x.md", problems)
    assert problems.items == []
    hygiene.check_text("a\rb\n", "x.md", problems)
    [problem] = problems.items
    assert (problem.line, problem.message) == (1, "control character U+000D in text")
    assert "line endings" in problem.hint


def test_many_lines_are_summed_up() -> None:
    problems = Problems()
    hygiene.check_text("\x07\n" * 50, "x.md", problems)
    assert len(problems.items) == hygiene.MAX_LISTED + 1
    assert problems.items[-1].message.startswith("30 more line(s), from this one on")


def test_escaped_control_characters_in_report_yml_are_errors_on_the_field(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace('"Test disclaimer."', '"Bad \\x07 and \\uFFFE"')
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert "content/example/report.yml:25: error: invisible characters U+0007, U+FFFE in `disclaimer`" in out


def test_raw_control_character_in_report_yml_reads_the_same_as_yaml_s_own(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace("Test disclaimer.", "Test \x07 disclaimer.")
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert ("content/example/report.yml:25: error: invalid YAML: report.yml contains the control character U+0007\n"
            f"{DELETE}\n") in out


def test_raw_c1_character_yaml_accepts_is_caught_on_its_line(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace("Test disclaimer.", "Test \x85 disclaimer.")
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert f"content/example/report.yml:25: error: control character U+0085 in text\n{DELETE}\n" in out


def test_unpaired_surrogate_escape_is_located(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace('"Test disclaimer."', '"Bad \\ud800"')
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert "content/example/report.yml:25: error: unpaired surrogate U+D800 in `disclaimer`" in out


def test_control_character_in_bib_is_an_error_on_its_line(make_project, capsys) -> None:
    bib = MINIMAL_BIB.replace("title = {Alpha announces a result}", "title = {Alpha \x1b[31m result}")
    code, out = check(make_project(**{"bib/sources.bib": bib}), capsys)
    assert code == 1
    assert f"bib/sources.bib:4: error: control character U+001B in text\n{DELETE}\n" in out


def test_prose_of_a_rejected_report_is_checked_too(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace("checked_on: 2026-01-27", "checked_on: 2026-02-30")
    root = make_project(**{"content/example/report.yml": report,
                           "content/example/summary.md": f"Bell \x07 {CITES_ALL}\n"})
    code, out = check(root, capsys)
    assert code == 1
    assert "content/example/summary.md:1: error: control character U+0007 in text" in out
    assert "content/example/report.yml:5: error: `checked_on`: `2026-02-30` is not a valid date" in out


# -- bidi controls -----------------------------------------------------------------------------

BIDI_HINT = f"  hint: {hygiene.BIDI_HINT}"


def test_bidi_override_in_prose_is_a_warning(make_project, capsys) -> None:
    root = make_project(**{"content/example/summary.md": f"Fine {CITES_ALL}.\n\nPaid \u202e0001\u202c dollars.\n"})
    code, out = check(root, capsys)
    assert code == 0
    assert ("content/example/summary.md:3: warning: bidi control U+202E RIGHT-TO-LEFT OVERRIDE, U+202C POP "
            "DIRECTIONAL FORMATTING in text\n"
            f"{BIDI_HINT}\n") in out


def test_bidi_isolate_in_bib_and_report_yml_are_warnings(make_project, capsys) -> None:
    bib = MINIMAL_BIB.replace("title = {Alpha announces a result}", "title = {Alpha \u2067result\u2069}")
    report = MINIMAL_REPORT.replace('"Test disclaimer."', '"Test \\u2066disclaimer."')
    code, out = check(make_project(**{"bib/sources.bib": bib, "content/example/report.yml": report}), capsys)
    assert code == 0
    assert ("bib/sources.bib:4: warning: bidi control U+2067 RIGHT-TO-LEFT ISOLATE, U+2069 POP DIRECTIONAL ISOLATE "
            "in text") in out
    assert "content/example/report.yml:25: warning: bidi control U+2066 LEFT-TO-RIGHT ISOLATE in `disclaimer`" in out


# -- look-alike keys ---------------------------------------------------------------------------

CYRILLIC_TASS = "t\u0430ss2025"  # Cyrillic а


def test_skeleton_matches_look_alikes_only() -> None:
    assert hygiene.skeleton(CYRILLIC_TASS) == hygiene.skeleton("tass2025")
    assert hygiene.skeleton("\u0391lpha") == hygiene.skeleton("Alpha")  # Greek capital alpha
    assert hygiene.skeleton("tass2025") != hygiene.skeleton("tess2025")


@pytest.mark.parametrize(("key", "mixed"), [(CYRILLIC_TASS, True), ("tass2025", False), ("müller2020", False),
                                            ("\u0433\u0430\u043c\u043c\u04302025", False),  # all Cyrillic
                                            ("日本語ひらがなカタカナ2020", False), ("\u03b1lpha", True)])
def test_mixed_scripts(key: str, mixed: bool) -> None:
    assert (hygiene.mixed_script_problem(key) is not None) is mixed


def test_mixed_script_and_look_alike_bib_keys_are_warnings(make_project, capsys) -> None:
    bib = MINIMAL_BIB + entry("tass2025") + entry(CYRILLIC_TASS)
    root = make_project(**{"bib/sources.bib": bib,
                           "content/example/summary.md": f"[@tass2025] [@{CYRILLIC_TASS}] {CITES_ALL}\n"})
    code, out = check(root, capsys)
    assert code == 0
    assert (f"bib/sources.bib:40: warning: key `{CYRILLIC_TASS}` looks the same as `tass2025` (bib/sources.bib:34) "
            f"but is another key\n  hint: did you mean `tass2025`? `{CYRILLIC_TASS}` has Cyrillic `\u0430` (U+0430) "
            "where `tass2025` has Latin `a` (U+0061): they only look alike; rename one\n") in out
    assert (f"bib/sources.bib:40: warning: the key `{CYRILLIC_TASS}` mixes Cyrillic and Latin letters\n"
            f"  hint: did you mean `tass2025`? It contains Cyrillic `\u0430` (U+0430), which looks like Latin `a` "
            "(U+0061)\n") in out


def test_citing_a_look_alike_of_a_key_says_which_letter_differs(make_project, capsys) -> None:
    root = make_project(**{"bib/sources.bib": MINIMAL_BIB + entry("tass2025"),
                           "content/example/summary.md": f"[@{CYRILLIC_TASS}] [@tass2025] {CITES_ALL}\n"})
    code, out = check(root, capsys)
    assert code == 1
    assert (f"content/example/summary.md:1: error: unknown citation key `{CYRILLIC_TASS}`\n"
            f"  hint: did you mean `tass2025`? `{CYRILLIC_TASS}` has Cyrillic `\u0430` (U+0430) where `tass2025` has "
            "Latin `a` (U+0061): they only look alike\n") in out


def test_ascii_keys_are_never_look_alikes() -> None:
    bib = Bibliography()
    sources, _ = parse_bib_text(entry("smith2020") + entry("l1"), Path("bib/x.bib"))
    bib.sources = {s.key: s for s in sources}
    assert bib.lookalike("smith2O20") == "" and bib.lookalike("I1") == ""
    assert hygiene.confusable_groups(["l1", "I1", "1l"]) == []


# -- booleans where numbers belong -------------------------------------------------------------

@pytest.mark.parametrize(("written", "shown", "words"), [("yes", "true", "`yes` and `on`"),
                                                         ("true", "true", "`yes` and `on`"),
                                                         ("off", "false", "`no` and `off`")])
def test_boolean_version_is_an_error(make_project, capsys, written: str, shown: str, words: str) -> None:
    report = MINIMAL_REPORT.replace("{version: 1,", f"{{version: {written},")
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert (f"content/example/report.yml:27: error: `revisions.0.version` must be a whole number, not the boolean "
            f"`{shown}`\n  hint: YAML read this as the boolean `{shown}` (as it does {words}): write a number, e.g. "
            "`version: 2`\n") in out


# -- nesting -----------------------------------------------------------------------------------

PROSE_NESTING = f"error: nested too deeply\n  hint: {hygiene.PROSE_NESTING_HINT}\n"
YAML_NESTING = f"error: nested too deeply\n  hint: {hygiene.YAML_NESTING_HINT}\n"

PROSE_SHAPES = {
    "block quotes": (">" * 5000 + " x\n", 1),
    "spaced block quotes": ("> " * 5000 + "x\n", 1),
    "lists": ("- " * 5000 + "x\n", 1),
    "ordered lists": ("1. " * 5000 + "x\n", 1),
    "indented lists": ("".join("    " * i + "- x\n" for i in range(300)), 51),
    "divs": ("<div>" * 10000 + "x" + "</div>" * 10000 + "\n", 1),
    "markdown divs": ('<div markdown="1">\n' * 2000 + "x\n" + "</div>\n" * 2000, 101),
    "emphasis": ("*a " * 10000 + "x" + "*" * 10000 + "\n", 1),
    "stars": ("*" * 10000 + "x" + "*" * 10000 + "\n", 1),
    "quotes after list items": ("".join("> " * i + "- x\n" for i in range(300)), 34),
    "tables": ("<table><tr><td>" * 1000 + "\n", 1),
    # Python-Markdown nests these more than any one line shows: found in the rendered HTML
    "definitions": ("1. 1. a\n" + ": \na\n" * 60, 1),
}


@pytest.mark.parametrize("shape", PROSE_SHAPES)
def test_deep_prose_is_reported_not_a_traceback(make_project, capsys, shape: str) -> None:
    text, line = PROSE_SHAPES[shape]
    code, out = check(make_project(**{"content/example/summary.md": text}), capsys)
    assert code == 1
    assert out == f"content/example/summary.md:{line}: {PROSE_NESTING}"


@pytest.mark.parametrize(("value", "line"), [("[" * 5000 + "]" * 5000, 25), ("{a: " * 5000 + "1" + "}" * 5000, 25)])
def test_deep_yaml_is_reported_not_a_traceback(make_project, capsys, value: str, line: int) -> None:
    report = MINIMAL_REPORT.replace('disclaimer: "Test disclaimer."', f"keywords: {value}")
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert out == f"content/example/report.yml:{line}: {YAML_NESTING}"


def test_deep_block_yaml_names_the_line_where_it_gets_too_deep(make_project, capsys) -> None:
    deep = "keywords:\n" + "".join(" " * i + "-\n" for i in range(1, 2000))
    report = MINIMAL_REPORT.replace('disclaimer: "Test disclaimer."\n', deep)
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert out == f"content/example/report.yml:{25 + hygiene.MAX_NESTING}: {YAML_NESTING}"


def test_deep_markdown_in_a_report_yml_text_is_reported(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace('"Test disclaimer."', '"' + "- " * 3000 + 'x"')
    code, out = check(make_project(**{"content/example/report.yml": report}), capsys)
    assert code == 1
    assert out == f"content/example/report.yml:25: {PROSE_NESTING}"


def test_ordinary_nesting_is_fine() -> None:
    text = "- a\n    - b\n        - c\n\n> quote\n> > nested\n\n<div><em>x</em></div>\n\n**bold *and em***\n"
    assert hygiene.nesting_line(text) is None
    assert hygiene.nesting_line("- " * 50 + "x") is None and hygiene.nesting_line("- " * 51 + "x") == 1


def test_rendering_survives_a_recursion_error(root_renderer: tuple[Renderer, Problems]) -> None:
    """The last resort: a text that reaches Python-Markdown's recursion limit without the pre-check."""
    renderer, problems = root_renderer
    state = CitationState(None, renderer.bib, renderer.formatter, problems)  # type: ignore[arg-type]
    assert str(renderer.prose("- " * 5000 + "x", state, Path("x.md"), 7)) == ""
    assert [(p.line, p.message) for p in problems.items] == [(7, "nested too deeply")]
    assert "<li>" in str(renderer.prose("- a", state, Path("y.md")))  # the converter still works


@pytest.fixture
def root_renderer(tmp_path: Path) -> tuple[Renderer, Problems]:
    return Renderer(SiteConfig(), Bibliography(), ReferenceFormatter("ieee")), Problems(root=tmp_path)


def test_every_check_is_linear_enough_for_large_files() -> None:
    """A megabyte of hostile text is checked at once (no regex here can backtrack)."""
    text = ("[@\x07\u202e<div\n" + "*" * 50 + " > - " * 20 + "\n") * 20000
    problems = Problems()
    hygiene.check_prose(text, "big.md", problems)
    assert problems.errors



def test_html_nesting_counts_elements_not_void_ones() -> None:
    assert hygiene.html_nesting("<div><p>a<br><img src=x>b</p><hr/></div><p>c</p>") == 2
    assert hygiene.html_nesting("<ul><li><ul><li>x</li></ul></li></ul>") == 4


@pytest.mark.parametrize("text", ["RGCITE0X and RGCITE99X", "RGCIT&#69;3X", "x RGCITE0X [@alpha2025]"])
def test_text_that_looks_like_an_internal_placeholder_is_text(root_renderer: tuple[Renderer, Problems], text: str) -> None:
    """Citations wait in the Markdown as placeholders; content that writes one (even as an entity the sanitiser
    decodes) is neither replaced by citation markup nor an IndexError."""
    renderer, problems = root_renderer
    state = CitationState(None, renderer.bib, renderer.formatter, problems)  # type: ignore[arg-type]
    body = renderer.prose_alone(text, state, Path("x.md"))
    assert body.count('class="rg-cite"') == text.count("[@") and "RGCIT" in body


def test_a_citation_inside_an_attribute_never_breaks_it(root_renderer: tuple[Renderer, Problems]) -> None:
    renderer, problems = root_renderer
    state = CitationState(None, renderer.bib, renderer.formatter, problems)  # type: ignore[arg-type]
    body = renderer.prose_alone('![alt [@alpha2025]](x.png "title [@alpha2025]") and [@alpha2025]', state, Path("x.md"))
    # an image's (or a link's) text and target are never citations: the attribute holds the text as written
    expected = (r'<p><img alt="alt \[@alpha2025\]" src="x.png" title="title \[@alpha2025\]"> and '
                r'<span class="rg-cite" id="cite-1">.*</p>')
    assert re.fullmatch(expected, body, re.S)
