"""Pandoc citation syntax: `[@key]`, `[@a; @b]`, `[see @key, p. 4]`: parsing and number compression."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# A Pandoc citation key: starts with a word character, may contain internal punctuation.
KEY = r"[\w][\w:.#$%&+?<>~/-]*"
# Every regex below matches one character or one greedy run that nothing follows: none can backtrack, so each call
# costs what it reads, and the scanner reads every character a bounded number of times (tests/test_bounded.py).
_KEY_RUN = re.compile(KEY)
_WORD = re.compile(r"\w").match
_WORD_OR_DOT = re.compile(r"[\w.]").match
_TICKS_OR_TILDE_FENCE = re.compile(r"`+|(?m:^~{3,})")
_BRACKET = re.compile(r"[\[\]]")
_NOT_NEWLINE = re.compile(r"[^\n]")
CITATION_HINT = "write citations as `[@key]`, `[@a; @b]` or `[@key, p. 4]`"


class CitationItem(NamedTuple):
    key: str
    prefix: str = ""
    locator: str = ""


class Citation(NamedTuple):
    """One bracketed citation group as written, with its place in the text."""

    items: tuple[CitationItem, ...]
    start: int
    end: int
    line: int


class CitationSyntaxError(NamedTuple):
    message: str
    hint: str
    line: int


class Work:
    """Characters the scanner looked at, summed over its passes (each C-level scan adds the span it covers)."""

    __slots__ = ("visited",)

    def __init__(self) -> None:
        self.visited = 0


def _fence_closings(text: str, work: Work) -> dict[int, tuple[int, int]]:
    """For each line that opens a fence (3+ backticks or tildes at its start): the end of the fenced block.

    A fence of `n` characters closes at the first later line that is exactly `n` of them (plus spaces or tabs);
    when no line closes all of the opening run, a shorter prefix of it may (`.*?^(?P=fence)[ \t]*$` with
    backtracking). One pass from the last line up, remembering the nearest closing line of each length."""
    lines = text.split("\n")
    work.visited += len(text)
    ends: dict[int, tuple[int, int]] = {}
    nearest: dict[tuple[str, int], int] = {}
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        char = line[:1]
        if char in ("`", "~") and line.startswith(char * 3):
            run = len(line) - len(line.lstrip(char))
            work.visited += run
            for length in range(run, 2, -1):
                closing = nearest.get((char, length))
                if closing is not None:
                    ends[starts[index]] = (starts[closing] + len(lines[closing]), length)
                    break
            stripped = line.rstrip(" \t")
            if len(stripped) == run:  # the line is only the fence: it closes earlier fences of this length
                nearest[(char, run)] = index
    return ends


def _next_run_of_length(runs: list[tuple[int, int]], work: Work) -> list[list[int]]:
    """For each backtick run: the index of the first later run of exactly k backticks, for every k up to its length
    (or -1). A code span opened by k backticks closes at the first later run of exactly k."""
    answers: list[list[int]] = [[] for _ in runs]
    nearest: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        start, end = runs[index]
        work.visited += end - start
        answers[index] = [nearest.get(k, -1) for k in range(1, end - start + 1)]
        nearest[end - start] = index
    return answers


def _code_regions(text: str, work: Work) -> list[tuple[int, int]]:
    """Fenced blocks and code spans, left to right, exactly where
    ``(?ms)^(?P<fence>`{3,}|~{3,}).*?^(?P=fence)[ \t]*$|(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)`` would match."""
    if "`" not in text and "~~~" not in text:
        work.visited += len(text)
        return []
    candidates = [(m.start(), m.end()) for m in _TICKS_OR_TILDE_FENCE.finditer(text)]
    work.visited += len(text)
    runs = [(start, end) for start, end in candidates if text[start] == "`"]
    run_index = {start: index for index, (start, _) in enumerate(runs)}
    closings = _next_run_of_length(runs, work)
    fences = _fence_closings(text, work)
    regions: list[tuple[int, int]] = []
    pos = 0
    for start, end in candidates:
        if end <= pos:
            continue  # inside the previous block or span
        if start >= pos and start in fences:  # a fence at a line start (found only there)
            block_end = fences[start][0]
            regions.append((start, block_end))
            pos = block_end
            continue
        if text[start] != "`":
            continue
        answers = closings[run_index[start]]
        for opening in range(max(start, pos), end):
            work.visited += 1
            closing = answers[end - opening - 1]
            if closing >= 0:
                pos = runs[closing][1]
                regions.append((opening, pos))
                break
        else:
            pos = end
    return regions


def _masked(text: str, work: Work | None = None) -> str:
    """The text with code spans and fenced blocks blanked out, so offsets stay valid."""
    work = work or Work()
    pieces = []
    cursor = 0
    for start, end in _code_regions(text, work):
        pieces.append(text[cursor:start])
        pieces.append(_NOT_NEWLINE.sub(" ", text[start:end]))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def parse_citation_body(body: str) -> tuple[CitationItem, ...]:
    """Parse what is inside the brackets; raises ValueError for malformed citations.

    Each item is `prefix @key rest`: the prefix runs to the first `@` (or to a `-` right before it, Pandoc's
    author-suppressing `-@key`, when the character before that `-` is not a word character)."""
    items = []
    for piece in body.split(";"):
        if not piece.strip():
            raise ValueError(f"malformed citation `[{body.strip()}]`: empty item between `;`")
        at = piece.find("@")
        if at > 0 and piece[at - 1] == "-":
            prefix_end = at - 1 if at == 1 or not _WORD(piece, at - 2) else at
        elif at > 0 and _WORD(piece, at - 1):
            at = -1  # `name@host`: an address, not a citation
        else:
            prefix_end = at
        if at < 0:
            raise ValueError(f"malformed citation item `{piece.strip()}`: expected `@key`")
        run = _KEY_RUN.match(piece, at + 1)
        written = run.group() if run else ""
        key = written.rstrip(".:")
        if not key:
            raise ValueError(f"malformed citation `[{body}]`: `@` is not followed by a key")
        rest = (written[len(key):] + piece[at + 1 + len(written):]).strip()
        if "@" in rest:
            raise ValueError(f"malformed citation `[{body.strip()}]`: separate several keys with `;`")
        if rest and not rest.startswith(","):
            raise ValueError(f"malformed citation item `{piece.strip()}`: put a comma before the locator (`@{key}, {rest}`)")
        items.append(CitationItem(key, piece[:prefix_end].strip(), rest.lstrip(",").strip()))
    return tuple(items)


class _Lines:
    """Line numbers of increasing offsets, counting each newline once."""

    def __init__(self, text: str, work: Work):
        self.text, self.work, self.pos, self.line = text, work, 0, 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.pos, offset)
        self.work.visited += offset - self.pos
        self.pos = offset
        return self.line


def _citing_at(masked: str, start: int, stop: int, need_key: bool, work: Work) -> bool:
    """Whether masked[start:stop] holds an `@` that begins a citation: not after a word character or `.` (so
    e-mail addresses are left alone) and, with need_key, followed by a key character."""
    at = masked.find("@", start, stop)
    while at >= 0:
        work.visited += 1
        if not _WORD_OR_DOT(masked, at - 1) and (not need_key or _WORD(masked, at + 1)):
            return True
        at = masked.find("@", at + 1, stop)
    work.visited += stop - start
    return False


def scan_citations(text: str, work: Work | None = None) -> tuple[list[Citation], list[CitationSyntaxError]]:
    """find_citations, counting the characters it looks at in `work`."""
    work = work or Work()
    masked = _masked(text, work)
    length = len(masked)
    brackets = [m.start() for m in _BRACKET.finditer(masked)]
    work.visited += length
    citations: list[Citation] = []
    errors: list[CitationSyntaxError] = []
    lines = _Lines(masked, work)
    # `[` + text without brackets holding a citing `@` before the first newline + `]` not followed by `(`, `[`, `:`
    for index, start in enumerate(brackets):
        if masked[start] != "[" or index + 1 == len(brackets):
            continue
        close = brackets[index + 1]
        if masked[close] != "]" or masked[close + 1:close + 2] in ("(", "[", ":"):
            continue
        newline = masked.find("\n", start, close)
        work.visited += (newline if newline >= 0 else close) - start
        if not _citing_at(masked, start + 1, close if newline < 0 else newline, False, work):
            continue
        line = lines.at(start)
        try:
            items = parse_citation_body(text[start + 1:close])
        except ValueError as exc:
            errors.append(CitationSyntaxError(str(exc), CITATION_HINT, line))
            continue
        citations.append(Citation(items, start, close + 1, line))
    # `[` + the rest of its line, without brackets, holding a citing `@` followed by a key
    covered = {citation.start for citation in citations}
    lines = _Lines(masked, work)
    for index, start in enumerate(brackets):
        if masked[start] != "[" or start in covered:
            continue
        limit = brackets[index + 1] if index + 1 < len(brackets) else length
        end = masked.find("\n", start, limit)
        work.visited += (limit if end < 0 else end) - start
        if end < 0:
            if limit < length:
                continue  # another bracket on the same line
            end = length
        if not _citing_at(masked, start + 1, end, True, work):
            continue
        errors.append(CitationSyntaxError(f"unclosed citation `{masked[start:end].strip()[:40]}`",
                                          "close the citation with `]`", lines.at(start)))
    return citations, errors


def find_citations(text: str) -> tuple[list[Citation], list[CitationSyntaxError]]:
    """Every citation group in a Markdown text, outside code, in order; plus syntax errors.

    One pass over the text: linear in its length, whatever it holds (no regex here can backtrack)."""
    return scan_citations(text)


def compress_numbers(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted unique numbers as runs: [1, 2, 3, 5] -> [(1, 3), (5, 5)]; runs of two stay apart."""
    runs: list[tuple[int, int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    out: list[tuple[int, int]] = []
    for start, end in runs:
        if end == start + 1:
            out.extend([(start, start), (end, end)])
        else:
            out.append((start, end))
    return out


def iter_keys(text: str) -> Iterator[str]:
    """Every cited key in a text (for unused-source checks)."""
    for citation in find_citations(text)[0]:
        for item in citation.items:
            yield item.key
