"""Bounded work: the citation scanner and the hygiene checks do work linear in the length of what they read, on
the inputs that make backtracking regexes quadratic. Timing-free: work is counted, twice over — the characters the
scanner says it looked at (each C-level scan adds the span it covers) and the Python lines it executes (a tracer) —
for inputs of size n, 2n, 4n and 8n; each doubling may at most ~double the count."""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
}


@pytest.mark.parametrize("shape", HYGIENE_SHAPES)
def test_hygiene_checks_run_a_linear_number_of_python_lines(shape: str) -> None:
    counter = LineCounter(hygiene)
    counts = []
    for n in SIZES:
        text = HYGIENE_SHAPES[shape](n)
        counts.append(counter.run(hygiene.check_prose, text, Path("x.md"), Problems())
                      + counter.run(hygiene.html_nesting, text))
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


# -- the scanner finds exactly what the regexes it replaced found --------------------------------

class Reference:
    """The regex-based scanner the linear one replaced (quadratic on the shapes above): the specification."""

    KEY = r"[\w][\w:.#$%&+?<>~/-]*"
    ITEM = re.compile(rf"^\s*(?P<prefix>[^@]*?)\s*(?<![\w])-?@(?P<key>(?:{KEY})?)(?P<rest>.*)$", re.S)
    GROUP = re.compile(r"\[(?P<body>[^\[\]\n]*?(?<![\w.])@[^\[\]]*?)\](?![(\[:])")
    UNCLOSED = re.compile(r"\[(?<![\w.])[^\[\]\n]*?(?<![\w.])@" + KEY + r"[^\[\]\n]*$", re.M)
    CODE = re.compile(r"(?ms)^(?P<fence>`{3,}|~{3,}).*?^(?P=fence)[ \t]*$|(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)")
    HINT = "write citations as `[@key]`, `[@a; @b]` or `[@key, p. 4]`"

    @classmethod
    def masked(cls, text: str) -> str:
        return cls.CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)

    @classmethod
    def parse_body(cls, body: str) -> tuple[citations.CitationItem, ...] | str:
        items = []
        for piece in body.split(";"):
            if not piece.strip():
                return f"malformed citation `[{body.strip()}]`: empty item between `;`"
            match = cls.ITEM.match(piece)
            if not match:
                return f"malformed citation item `{piece.strip()}`: expected `@key`"
            key = match.group("key").rstrip(".:")
            if not key:
                return f"malformed citation `[{body}]`: `@` is not followed by a key"
            rest = (match.group("key")[len(key):] + match.group("rest")).strip()
            if "@" in rest:
                return f"malformed citation `[{body.strip()}]`: separate several keys with `;`"
            if rest and not rest.startswith(","):
                return f"malformed citation item `{piece.strip()}`: put a comma before the locator (`@{key}, {rest}`)"
            items.append(citations.CitationItem(key, match.group("prefix").strip(), rest.lstrip(",").strip()))
        return tuple(items)

    @classmethod
    def find(cls, text: str) -> tuple[list[citations.Citation], list[citations.CitationSyntaxError]]:
        masked = cls.masked(text)
        found, errors = [], []
        for match in cls.GROUP.finditer(masked):
            line = masked.count("\n", 0, match.start()) + 1
            items = cls.parse_body(text[match.start("body"):match.end("body")])
            if isinstance(items, str):
                errors.append(citations.CitationSyntaxError(items, cls.HINT, line))
            else:
                found.append(citations.Citation(items, match.start(), match.end(), line))
        for match in cls.UNCLOSED.finditer(masked):
            if any(c.start <= match.start() < c.end for c in found):
                continue
            line = masked.count("\n", 0, match.start()) + 1
            errors.append(citations.CitationSyntaxError(f"unclosed citation `{match.group(0).strip()[:40]}`",
                                                        "close the citation with `]`", line))
        return found, errors


TOKENS = ["[", "]", "@", ";", ",", " ", "-", "key", "a.b", "p. 4", "see", "`", "``", "```", "```\n", "~~~", "~~~\n",
          "\n", "(", ")", ":", "me@x.org", "[@", "](", "\\", "Ж", ".", "\t", "-@", "x-@", "_", "\r", "````", "~~~~\n",
          "```` \n", "@@"]
texts = st.one_of(st.text(max_size=80),
                  st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=2)), max_size=40).map("".join),
                  st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
EXAMPLES = 1500


@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_linear_scanner_agrees_with_the_regex_reference(text: str) -> None:
    assert citations._masked(text) == Reference.masked(text)
    assert citations.find_citations(text) == Reference.find(text)
    for body in (text, text.replace("[", "").replace("]", "")):
        try:
            parsed: tuple[citations.CitationItem, ...] | str = citations.parse_citation_body(body)
        except ValueError as exc:
            parsed = str(exc)
        assert parsed == Reference.parse_body(body)


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
