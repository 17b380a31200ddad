"""Bounded work: the citation scanner and the hygiene checks do work linear in the length of what they read, on
the inputs that make backtracking regexes quadratic. Timing-free: work is counted, twice over — the characters the
scanner says it looked at (each C-level scan adds the span it covers) and the Python lines it executes (a tracer) —
for inputs of size n, 2n, 4n and 8n; each doubling may at most ~double the count."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from generator import citations, hygiene
from generator.errors import Problems

SIZES = (1000, 2000, 4000, 8000)
MAX_RATIO = 2.2


def _fill(n: int, pieces: Iterator[str]) -> str:
    """Whole pieces while they fit, then spaces: exactly n characters, no piece cut short."""
    text, size = [], 0
    for piece in pieces:
        if size + len(piece) > n:
            break
        text.append(piece)
        size += len(piece)
    return "".join(text) + " " * (n - size)


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: _fill(n, itertools.repeat(unit))


# Each shape made an earlier, regex-based scanner quadratic (or worse) in its length.
SHAPES: dict[str, Callable[[int], str]] = {
    "[@ repeated": _repeat("[@"),
    "[[[[…@": lambda n: "[" * n + "@",
    "[@@@@…": lambda n: "[" + "@" * n,
    "a line of @": _repeat("@"),
    "spaces in an item": lambda n: "[@a; x" + " " * n + "]",
    "@ before a link": lambda n: "[" + " @" * (n // 2) + "](",
    "unclosed key before [": lambda n: "[ @" + "a" * n + "[",
    "many citations": _repeat("[@a]\n"),
    "many unclosed": _repeat("[@a b\n"),
    "one backtick run": _repeat("`"),
    "growing backtick runs": lambda n: _fill(n, ("`" * run + " " for run in itertools.count(1))),
    "unclosed fences": _repeat("```\n"),
    "long tilde fence": lambda n: "~" * n + "\n",
    "fences of every length": lambda n: _fill(n, ("`" * (3 + i % 50) + "\n" for i in itertools.count())),
    "e-mail addresses": _repeat("[me@mail.org "),
    "brackets and newlines": _repeat("[\n@"),
    "chained keys": _repeat("@a"),
    "braced key runs": _repeat("@{"),
    "semicolons in a group": lambda n: "[@a" + ";" * n + "]",
    "nested brackets in a group": lambda n: "[@a " + "[x]" * (n // 3) + "]",
    "narrative before brackets": _repeat("@a ["),
    "escapes": _repeat("\\@"),
    "indented lines": _repeat("\n    [@a]"),
}


def _ratios(counts: list[int]) -> list[float]:
    return [b / a for a, b in zip(counts, counts[1:], strict=False)]


def _assert_linear(name: str, counts: list[int]) -> None:
    assert all(ratio <= MAX_RATIO for ratio in _ratios(counts)), f"{name}: work {counts} for sizes {SIZES}"


def characters_visited(text: str) -> int:
    work = citations.Work()
    citations.scan_citations(text, work)
    return work.visited


class LineCounter:
    """Counts the Python lines executed in one module's functions while it is active (sys.settrace)."""

    def __init__(self, module: Any):
        self.filename = module.__file__
        self.count = 0

    def _global(self, frame: FrameType, event: str, arg: object) -> Any:
        return self._local if frame.f_code.co_filename == self.filename else None

    def _local(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            self.count += 1
        return self._local

    def run(self, function: Callable[..., object], *args: object) -> int:
        self.count = 0
        previous = sys.gettrace()
        sys.settrace(self._global)
        try:
            function(*args)
        finally:
            sys.settrace(previous)
        return self.count


@pytest.mark.parametrize("shape", SHAPES)
def test_scanner_visits_each_character_a_bounded_number_of_times(shape: str) -> None:
    counts = [characters_visited(SHAPES[shape](n)) for n in SIZES]
    _assert_linear(shape, counts)
    assert counts[-1] <= 12 * SIZES[-1], counts  # and a small constant per character


@pytest.mark.parametrize("shape", SHAPES)
def test_scanner_runs_a_linear_number_of_python_lines(shape: str) -> None:
    counter = LineCounter(citations)
    _assert_linear(shape, [counter.run(citations.find_citations, SHAPES[shape](n)) for n in SIZES])


HYGIENE_SHAPES: dict[str, Callable[[int], str]] = {
    **SHAPES,
    "nested lists": _repeat("- "),
    "nested quotes": _repeat(">"),
    "unclosed tags": _repeat("<div"),
    "tags": _repeat("<div>"),
    "emphasis": _repeat("*a "),
    "control characters": _repeat("\x07\n"),
    "bidi controls": _repeat("\u202e"),
    "indentation": lambda n: " " * (n - 3) + "- x",
    "footnote markers": _repeat("[^1]: "),
    "open tags in lines": _repeat("<a <b\n"),
    "closed tags in lines": _repeat("<b>x</b>\n"),
    "backslashes": _repeat("\\"),
}


@pytest.mark.parametrize("shape", HYGIENE_SHAPES)
def test_hygiene_checks_run_a_linear_number_of_python_lines(shape: str) -> None:
    counter = LineCounter(hygiene)
    counts = []
    for n in SIZES:
        text = HYGIENE_SHAPES[shape](n)
        counts.append(counter.run(hygiene.check_prose, text, Path("x.md"), Problems())
                      + counter.run(hygiene.html_nesting, text) + counter.run(hygiene.heavy_markup, text))
    _assert_linear(shape, counts)


def test_deep_yaml_data_is_walked_in_linear_work() -> None:
    counter = LineCounter(hygiene)
    counts = []
    for n in SIZES:
        data: dict[str, Any] = {"a": []}
        inner = data["a"]
        for _ in range(n):
            inner.append([])
            inner = inner[0]
        counts.append(counter.run(hygiene.check_report_data, data, {}, "", Path("report.yml"), Problems()))
    _assert_linear("nested lists", counts)


@pytest.mark.parametrize("shape", [
    pytest.param("[" * 20_000, id="brackets"),
    pytest.param("[a " * 2_000 + "](u)" * 2_000, id="nested-links"),
    pytest.param("*[" * 5_000, id="emphasis-brackets"),
])
def test_paragraphs_too_costly_for_python_markdown_are_refused_not_converted(make_project, capsys, shape: str) -> None:
    """Python-Markdown is quadratic in the `[` of a paragraph: such a paragraph is an error, and never converted."""
    from generator.cli import main

    root = make_project(**{"content/example/evidence.md": "Fine [@beta2024].\n\n" + shape + "\n"})
    assert main(["check", str(root)]) == 1
    assert ("content/example/evidence.md:3: error: paragraph too complex to convert (more than 500 `[`)"
            in capsys.readouterr().out)


@pytest.mark.parametrize(("shape", "message"), [
    pytest.param("<a " * 20_000, "paragraph too complex to convert (more than 500 unclosed `<`)", id="open-tags"),
    pytest.param("<http://a " * 20_000, "paragraph too complex to convert (more than 500 unclosed `<`)",
                 id="open-autolinks"),
    pytest.param("<!-- " * 20_000, "paragraph too complex to convert (more than 500 unclosed `<`)", id="open-comments"),
    pytest.param("\\" * 200_000, "too many backslashes in a row (more than 1000)", id="backslashes"),
])
def test_html_and_escape_shapes_too_costly_are_refused(make_project, capsys, shape: str, message: str) -> None:
    """Python-Markdown's HTML parser is quadratic in unclosed `<` of a block, its escape pattern in a backslash run:
    20 000 `<a ` took minutes."""
    from generator.cli import main

    root = make_project(**{"content/example/evidence.md": "Fine [@beta2024].\n\n" + shape + "\n"})
    assert main(["check", str(root)]) == 1
    assert f"content/example/evidence.md:3: error: {message}" in capsys.readouterr().out


@pytest.mark.parametrize("shape", [
    "<b>x</b> " * 3000, "x < 5 and y > 3; " * 3000, "<table>" + "<tr><td>a</td></tr>" * 2000 + "</table>",
    "\\\\ " * 5000, "<a " * 400 + "\n\n" + "<a " * 400,
])
def test_ordinary_html_and_escapes_are_not_limited(shape: str) -> None:
    assert hygiene.heavy_markup(shape) is None



@pytest.mark.parametrize(("shape", "message"), [
    pytest.param("<a " * 20_000, "paragraph too complex to convert (more than 500 unclosed `<`)", id="open-tags"),
    pytest.param("[" * 20_000, "paragraph too complex to convert (more than 500 `[`)", id="brackets"),
    pytest.param("- " * 500 + "x", "nested too deeply", id="nesting"),
])
def test_a_desks_own_page_is_held_to_the_same_limits(make_project, capsys, monkeypatch, shape: str,
                                                     message: str) -> None:
    """docs/ pages are converted by the engine, not by us: they are checked before it starts converting."""
    from generator.cli import main

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project(**{"docs/about.md": "# About\n\n" + shape + "\n"})
    assert main(["check", str(root)]) == 1
    assert f"docs/about.md:3: error: {message}" in capsys.readouterr().out
    assert main(["build", str(root), "--no-pdf"]) == 1
    assert not (root / "site").exists()


BIB_SHAPES: dict[str, Callable[[int], str]] = {
    "a line of @": _repeat("@"),
    "@ and spaces": _repeat(" @"),
    "unclosed entries": _repeat("@a{k,\n"),
    "unclosed keys": _repeat("@a{"),
    "strings without names": _repeat("@string{"),
}


@pytest.mark.parametrize("shape", BIB_SHAPES)
def test_bibtex_scanner_runs_a_linear_number_of_python_lines(shape: str) -> None:
    """A line of 100 000 `@` once took the scanner 9 s (each `@` looked back to the start of its line)."""
    from generator.sources import bib

    counter = LineCounter(bib)
    _assert_linear(shape, [counter.run(bib.scan_bibtex, BIB_SHAPES[shape](n)) for n in SIZES])


def test_a_bib_file_of_syntax_errors_is_not_parsed_further(tmp_path) -> None:
    from generator.sources.bib import MAX_SYNTAX_ISSUES, parse_bib_text

    sources, problems = parse_bib_text("@a{k,\n" * 50_000, tmp_path / "a.bib")
    assert sources == [] and len(problems.errors) == MAX_SYNTAX_ISSUES + 1
    assert problems.errors[-1].message == "24800 more BibTeX syntax errors; no source was read from this file"


def test_string_macros_that_double_are_refused_before_they_grow(tmp_path) -> None:
    """`@string{a1 = a0 # a0}` forty times over would be a terabyte: values stop at MAX_VALUE characters."""
    from generator.sources.bib import parse_bib_text

    text = ('@string{a0 = "xxxxxxxx"}\n' + "".join(f"@string{{a{i} = a{i - 1} # a{i - 1}}}\n" for i in range(1, 40))
            + "@misc{big, title = a39, year = {2020}}\n@misc{fine, title = a10 # a10, year = {2020}}\n")
    sources, problems = parse_bib_text(text, tmp_path / "a.bib")
    assert [(p.line, p.message) for p in problems.errors] == [
        (15, "@string `a14` is longer than 100,000 characters once its @string macros are expanded"),
        (41, "`big`: field `title` is longer than 100,000 characters once its @string macros are expanded"),
    ]
    assert {s.key: len(s.fields.get("title", "")) for s in sources} == {"big": 0, "fine": 16384}


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("".join(f"x[^{i}]\n\n" for i in range(600)) + "".join(f"[^{i}]: y\n\n" for i in range(600)),
                 "too many footnote references and definitions (more than 1000, from this line on)",
                 id="footnotes"),
    pytest.param("".join(f"*[A{i}]: a\n\n" for i in range(1500)),
                 "too many abbreviation definitions (more than 1000, from this line on)", id="abbreviations"),
])
def test_footnotes_and_abbreviations_are_limited_per_text(text: str, message: str) -> None:
    """Python-Markdown's footnotes and abbr extensions are quadratic in their count (10 000 footnotes: 22 s), and
    one per paragraph never reaches the per-paragraph limit."""
    found = hygiene.heavy_markup(text)
    assert found is not None and found[1] == message
