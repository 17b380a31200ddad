"""Logs and comments stay inert: what content, sources or file names hold can never start a line of `report check`
output (a GitHub workflow command such as `::error::`), move the terminal's cursor, or — in the `report diff`
Markdown posted as a PR comment — mention anyone, open a link, add HTML or leave its code span."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from generator.build import Project, build_project
from generator.cli import main
from generator.errors import Problem, Severity, inert
from generator.history.diff import _md, code_span, markdown_summary, markdown_text, text_diff
from generator.history.versions import diff_project

from .conftest import MINIMAL_BIB, MINIMAL_REPORT, minimal_files, write_tree
from .gitrepo import DATES, commit, git

# Each payload tries to start a line (newline, CR, GitHub's %-encoded newline), to colour or rewrite the terminal
# (ESC, a C1 CSI, DEL) or to reorder what is shown (a bidi override, a line separator).
PAYLOAD = "\n::error::pwned\r::warning::cr\x1b[31mred%0A::warning::enc\u202eevil\x9b2J\x7f\u2028::notice::ls"
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
INERT_PAYLOAD = inert(PAYLOAD)


def yq(text: str) -> str:
    """A YAML double-quoted scalar."""
    return json.dumps(text)


# -- inert() and Problem.format() -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    pytest.param("a\nb", r"a\nb", id="newline"),
    pytest.param("a\r\nb", r"a\r\nb", id="crlf"),
    pytest.param("\x1b[31mred", r"\x1b[31mred", id="esc"),
    pytest.param("\x9b2J\x85", r"\x9b2J\x85", id="c1-csi-and-nel"),
    pytest.param("\x7f\x00\t", r"\x7f\x00\t", id="del-nul-tab"),
    pytest.param("a\u2028b\u2029c", r"a\u2028b\u2029c", id="line-and-paragraph-separators"),
    pytest.param("\u202eevil\u202c \u2066x\u2069 \u200f", r"\u202eevil\u202c \u2066x\u2069 \u200f", id="bidi"),
    pytest.param("plain, ünïcödé, Гамма, 日本 % ::x::", "plain, ünïcödé, Гамма, 日本 % ::x::", id="printable-kept"),
])
def test_inert_makes_controls_visible_and_keeps_the_rest(text: str, shown: str) -> None:
    assert inert(text) == shown


@given(st.text())
def test_inert_text_is_one_line_without_controls(text: str) -> None:
    shown = inert(text)
    assert len(shown.splitlines()) <= 1 and not RAW.search(shown)


def test_a_problem_is_one_line_and_its_hint_a_second_whatever_it_quotes() -> None:
    problem = Problem(f"bib/a{PAYLOAD}.bib", 3, f"unknown key `{PAYLOAD}`", f"did you mean `{PAYLOAD}`?")
    lines = problem.format().split("\n")
    assert lines == [f"bib/a{INERT_PAYLOAD}.bib:3: error: unknown key `{INERT_PAYLOAD}`",
                     f"  hint: did you mean `{INERT_PAYLOAD}`?"]
    assert len(problem.format().splitlines()) == 2 and not RAW.search(problem.format())


def test_a_message_can_never_begin_a_line_with_a_workflow_command() -> None:
    """Even a path and message that are nothing but a workflow command: every line starts with the path or hint."""
    for path, message, hint in [("::error::x", "::error::y", "::warning::z"), ("", "\n::error::y", "\r\n::error::z"),
                                ("\n::error::p", "", ""), (" \u00a0::error::p", "m", "")]:
        for severity in Severity:
            text = Problem(path, None, message, hint, severity).format()
            assert not any(line.lstrip().startswith("::") for line in text.split("\n")), text
            assert len(text.splitlines()) == len(text.split("\n")) == (2 if hint else 1)


# -- `report check` in every format ----------------------------------------------------------------------


@pytest.fixture
def hostile_project(make_project) -> Path:
    """Payloads in a rating, a section file name, a citation (key and locator), a source and a .bib file name."""
    report = (MINIMAL_REPORT
              .replace("rating: misleading", f"rating: {yq('bad' + PAYLOAD)}")
              .replace("file: evidence.md", f"file: {yq('ev' + PAYLOAD + '.md')}"))
    bib = MINIMAL_BIB + f"\n@online{{evil2025,\n  title = {{T {PAYLOAD}}},\n  date = {{2025}},\n  kind = {{{PAYLOAD}}},\n}}\n"
    root = make_project(**{
        "content/example/report.yml": report,
        "content/example/summary.md": f"Alpha [@alpha2025] and [@evil2025] and [@x{PAYLOAD}].\n",
        "bib/sources.bib": bib,
    })
    (root / "bib" / f"a{PAYLOAD}.bib").write_text("@online{broken,\n  title = {x\n", encoding="utf-8")
    return root


def _check(root: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> tuple[str, str]:
    assert main(["check", str(root), "--format", fmt]) == 1
    out = capsys.readouterr()
    for stream in (out.out, out.err):
        assert not RAW.search(stream), ascii(stream)
        assert not stream or stream.removesuffix("\n").split("\n") == stream.splitlines()  # no CR, NEL, …
    return out.out, out.err


def test_check_text_output_is_inert(hostile_project, capsys) -> None:
    out, _ = _check(hostile_project, capsys, "text")
    lines = out.splitlines()
    assert not any(line.lstrip().startswith("::") for line in lines), out
    assert all(line.startswith(("bib/", "content/", "  hint: ")) for line in lines), out
    assert f"bib/a{INERT_PAYLOAD}.bib:2: error: malformed BibTeX" in out
    assert f"unknown rating `bad{INERT_PAYLOAD}`" in out
    assert f"section file `ev{INERT_PAYLOAD}.md` does not exist" in out


def test_check_github_output_is_one_annotation_per_problem(hostile_project, capsys) -> None:
    out, _ = _check(hostile_project, capsys, "github")
    lines = out.splitlines()
    annotation = re.compile(r"::(error|warning) file=([^,:]*)(,line=\d+)?::(.*)")
    matches = [annotation.fullmatch(line) for line in lines]
    assert all(matches), out
    problems = build_project(Project(root=hostile_project)).problems.sorted()
    assert len(lines) == len(problems)
    # Each annotation's message holds the payload made visible, then %-encoded as GitHub decodes it.
    encoded = INERT_PAYLOAD.replace("%", "%25")
    rating = next(m for m in matches if "unknown rating" in m[4])
    assert f"unknown rating `bad{encoded}`" in rating[4]
    bib = next(m for m in matches if "malformed BibTeX" in m[4])
    assert bib[2] == f"bib/a{encoded}.bib".replace(":", "%3A").replace(",", "%2C")
    for match in matches:  # after GitHub decodes the message there is still no control character
        decoded = match[4].replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
        assert "\n" not in decoded and "\r" not in decoded


def test_check_json_output_is_valid_and_keeps_the_values(hostile_project, capsys) -> None:
    out, _ = _check(hostile_project, capsys, "json")
    assert not any(line.lstrip().startswith("::") for line in out.splitlines())
    data = json.loads(out)
    problems = build_project(Project(root=hostile_project)).problems.sorted()
    assert [(d["path"], d["message"], d["hint"]) for d in data] == [(p.path, p.message, p.hint) for p in problems]
    assert any(PAYLOAD in d["path"] for d in data) and any(PAYLOAD in d["message"] for d in data)


def _init_repo(root: Path) -> None:
    """The minimal project committed once, as tests/gitrepo.py does."""
    write_tree(root, minimal_files())
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Test Desk"), ("user.email", "desk@example.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    commit(root, "v1", DATES["v1"])


def test_check_base_names_changed_files_inertly(tmp_path, capsys) -> None:
    """`check --base` lists changed file names in its message: a name with a newline stays on its line."""
    root = tmp_path / "project"
    _init_repo(root)
    (root / "content" / "example" / f"x{PAYLOAD}.txt").write_text("new\n", encoding="utf-8")
    assert main(["check", str(root), "--base", "HEAD", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert not RAW.search(out)
    [line] = [line for line in out.splitlines() if "content changed since" in line]
    assert line.startswith("::error file=") and INERT_PAYLOAD.replace("%", "%25") in line


def test_plugin_logs_every_problem_inertly(hostile_project, caplog, monkeypatch) -> None:
    """`report build` (the MkDocs plugin) logs each problem as one inert record and stops."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    with caplog.at_level(logging.WARNING):
        assert main(["build", str(hostile_project)]) == 1
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"unknown rating `bad{INERT_PAYLOAD}`" in m for m in messages), messages
    for message in messages:
        assert not RAW.search(message), ascii(message)
        assert not any(line.lstrip().startswith("::") for line in message.splitlines())


# -- code spans ---------------------------------------------------------------------------------------------

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _inline(markdown: str) -> list[Token]:
    tokens = MD.parse(markdown)
    return [child for token in tokens if token.type == "inline" for child in token.children or []]


@pytest.mark.parametrize(("text", "span"), [
    pytest.param("plain", "`plain`", id="plain"),
    pytest.param("a`b", "``a`b``", id="one-backtick-inside"),
    pytest.param("a``b`c", "```a``b`c```", id="run-of-backticks-inside"),
    pytest.param("`start", "`` `start ``", id="backtick-at-start"),
    pytest.param("end`", "`` end` ``", id="backtick-at-end"),
    pytest.param("``", "``` `` ```", id="only-backticks"),
    pytest.param(" padded ", "`  padded  `", id="spaces-at-both-ends"),
    pytest.param(" lead", "`  lead `", id="space-at-start"),
    pytest.param("   ", "`   `", id="only-spaces"),
    pytest.param("", "` `", id="empty"),
    pytest.param("a\n::error::x", r"`a\n::error::x`", id="newline"),
    pytest.param("\x1b[31m@x\u202e", r"`\x1b[31m@x\u202e`", id="controls"),
])
def test_code_span_holds_any_text(text: str, span: str) -> None:
    assert code_span(text) == span
    [token] = _inline(f"x {span} y")[1:2]
    assert token.type == "code_inline" and token.content == (inert(text) or " ")


@given(st.text(), st.text(alphabet="`@ x\n<>[]()*_\\|"))
@settings(max_examples=300)
def test_code_span_is_one_code_span_of_the_inert_text(text: str, other: str) -> None:
    for value in (text, other):
        children = _inline(f"a {code_span(value)} b")
        assert [t.type for t in children] == ["text", "code_inline", "text"], (value, children)
        assert children[1].content == (inert(value) or " ")


# -- _md and markdown_text ------------------------------------------------------------------------------

HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("ab1 .:-=#>+*_~`|[]()<>!&$\\@/w\n\t\r\x1b\u202e")), max_size=60)
LINKY = re.compile(r"@|://|www\.", re.IGNORECASE)


def _plain(children: list[Token]) -> str:
    return "".join(t.content for t in children if t.type in ("text", "code_inline"))


@given(HOSTILE_TEXT)
@settings(max_examples=400)
def test_md_text_reads_as_written_and_only_code_spans_hold_mentions_or_links(text: str) -> None:
    children = _inline(f"x {_md(text)} z")
    assert {t.type for t in children} <= {"text", "code_inline"}, children
    expected = inert(re.sub(r"[\t\n\r]+", " ", text))
    assert _plain(children) == f"x {expected} z"
    assert not any(LINKY.search(t.content) for t in children if t.type == "text")
    cell = MD.parse(f"| a |\n| --- |\n| {_md(text, cell=True)} |\n")
    cells = [t for t in cell if t.type == "inline"]
    assert len(cells) == 2 and _plain(cells[1].children or []) == expected.strip()


@given(HOSTILE_TEXT, HOSTILE_TEXT)
@settings(max_examples=300)
def test_markdown_text_lines_stay_in_their_quote(old: str, new: str) -> None:
    diff = text_diff("x", old or None, new or None)
    if diff is None:
        return
    lines = markdown_text(diff)
    tokens = MD.parse("\n\n".join(lines))
    assert [t.type for t in tokens if t.type != "inline"] == ["blockquote_open", "paragraph_open", "paragraph_close",
                                                               "blockquote_close"] * len(lines)
    children = [c for t in tokens if t.type == "inline" for c in t.children or []]
    assert {c.type for c in children} <= {"text", "code_inline", "strong_open", "strong_close", "s_open", "s_close",
                                          "em_open", "em_close"}
    assert not any(LINKY.search(c.content) for c in children if c.type == "text")


# -- `report diff` ---------------------------------------------------------------------------------------

BASE_TAG = "base`@octocat`www.evil.example"
EVIL_FILE = "notes ``x` @someone.md"
EVIL_LINE_FILE = "n\n::set-env name=A::1\n# head.md"
EVIL_SECTION = ("Alpha claims a result [@alpha2025]. Ask @octocat at https://evil.example or www.evil.example "
                "<img src=x onerror=1> mail a@evil.example #12\n::set-env name=X::1\n\n# Heading\n\n"
                "[link](https://evil.example) <https://evil.example> ![i](x) &amp; *em* ~~s~~ $x$\n")


@pytest.fixture
def hostile_diff(tmp_path) -> str:
    root = tmp_path / "project"
    _init_repo(root)
    git(root, "tag", BASE_TAG)
    report = (MINIMAL_REPORT
              .replace('claim: "Alpha works."', 'claim: "Alpha ``works` @octocat\\n::error::x www.a.b"')
              .replace('title: "The evidence", file: evidence.md',
                       f'title: "Ev @octocat\\n\\n# h <b>x</b> https://e.x", file: {yq(EVIL_FILE)}')
              .replace("checked_on: 2026-01-27", "checked_on: 2026-02-03")
              + '  - {version: 2, date: 2026-02-03, kind: update, note: "@octocat\\n::error::x <b>n</b>"}\n')
    write_tree(root, {"content/example/report.yml": report, "content/example/summary.md": EVIL_SECTION,
                      f"content/example/{EVIL_FILE}": (root / "content/example/evidence.md").read_text(),
                      f"content/example/{EVIL_LINE_FILE}": "x\n"})
    (root / "content/example/evidence.md").unlink()
    commit(root, "v2", DATES["v2"])
    result = diff_project(root, BASE_TAG, "HEAD")
    assert [d.slug for d in result.reports] == ["example"]
    return markdown_summary(result.reports, result.base, result.head, [*result.notes, "note @octocat\n::error::n"])


def test_report_diff_markdown_stays_inert(hostile_diff: str) -> None:
    text = hostile_diff
    assert not RAW.search(text)
    assert not any(line.lstrip().startswith("::") for line in text.splitlines()), text
    tokens = MD.parse(text)
    # Block structure: only what the summary writes itself — one h2, one h3, our table, lists, quotes, <details>.
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h2", "h3"]
    html_blocks = [t.content for t in tokens if t.type == "html_block"]
    assert len(html_blocks) == 2 and html_blocks[1] == "</details>\n"
    summary = re.fullmatch(r"<details><summary>(.*)</summary>\n", html_blocks[0])
    assert summary and "<" not in re.sub(r"</?code>", "", summary[1]), html_blocks[0]
    assert not LINKY.search(re.sub(r"<code>.*?</code>", "", summary[1]))
    children = [c for t in tokens if t.type == "inline" for c in t.children or []]
    types = {c.type for c in children}
    assert not types & {"link_open", "html_inline", "image", "autolink"}, types
    for child in children:
        if child.type == "text":
            assert not LINKY.search(child.content), child.content
    # Every @ of the output lies in a code span (or the <code> of the summary).
    in_code = sum(c.content.count("@") for c in children if c.type == "code_inline")
    assert in_code + summary[1].count("@") == text.count("@")
    # The hostile names are shown whole, each in one code span.
    spans = [c.content for c in children if c.type == "code_inline"]
    assert inert(BASE_TAG) in spans and EVIL_FILE in [s.removeprefix("content/example/") for s in spans]
    assert inert(f"content/example/{EVIL_LINE_FILE}") in spans
    claim = next(t for t in tokens if t.type == "inline" and "works" in t.content)
    assert "Alpha``works.`@octocat::error::xwww.a.b" in _plain(claim.children or []).replace(" ", "")


def test_report_diff_refs_and_names_cannot_close_their_code_span() -> None:
    text = markdown_summary([], "a`` b", "` @x `")
    [heading] = [t for t in MD.parse(text) if t.type == "inline"][:1]
    assert [(c.type, c.content) for c in heading.children or []] == [
        ("text", "Report changes: "), ("code_inline", "a`` b"), ("text", " → "), ("code_inline", "` @x `")]


def test_the_older_command_syntax_is_neutralised_anywhere_in_a_line() -> None:
    """GitHub's runner still reads `##[command]` wherever it stands in a line."""
    from generator.errors import inert

    assert "##[" not in inert("a ##[set-output name=x;]y and ##[error]z")


def test_mkdocs_messages_go_inert_to_stderr_as_it_is_when_they_are_logged(monkeypatch) -> None:
    """The handler is added once per process; a later command (or a test capturing stderr) still sees its own
    messages, made inert, instead of their going to the stream that was current when the handler was made."""
    import io
    import sys

    from generator.adapters.mkdocs_engine import log_inertly

    log_inertly()
    log_inertly()  # idempotent
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logging.getLogger("mkdocs.plugins.report").warning("first message")
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("mkdocs.plugins.report").warning("second" + PAYLOAD)
    assert "first message" in first.getvalue() and "first message" not in second.getvalue()
    assert second.getvalue().count("second") == 1 and not RAW.search(second.getvalue().rstrip("\n"))
