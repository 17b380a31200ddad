"""Pandoc citation syntax: `[@key]`, `[@a; @b]`, `[see @key, p. 4]`: parsing and number compression."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# A Pandoc citation key: starts with a word character, may contain internal punctuation.
KEY = r"[\w][\w:.#$%&+?<>~/-]*"
_ITEM = re.compile(rf"^\s*(?P<prefix>[^@]*?)\s*(?<![\w])-?@(?P<key>(?:{KEY})?)(?P<rest>.*)$", re.S)
# A bracketed group that holds an `@` not preceded by a word character (so e-mail addresses are not citations).
_GROUP = re.compile(r"\[(?P<body>[^\[\]\n]*?(?<![\w.])@[^\[\]]*?)\](?![(\[:])")
_UNCLOSED = re.compile(r"\[(?<![\w.])[^\[\]\n]*?(?<![\w.])@" + KEY + r"[^\[\]\n]*$", re.M)
_CODE = re.compile(r"(?ms)^(?P<fence>`{3,}|~{3,}).*?^(?P=fence)[ \t]*$|(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)")


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


def _masked(text: str) -> str:
    """The text with code spans and fenced blocks blanked out, so offsets stay valid."""
    return _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def parse_citation_body(body: str) -> tuple[CitationItem, ...]:
    """Parse what is inside the brackets; raises ValueError for malformed citations."""
    items = []
    for piece in body.split(";"):
        if not piece.strip():
            raise ValueError(f"malformed citation `[{body.strip()}]`: empty item between `;`")
        match = _ITEM.match(piece)
        if not match:
            raise ValueError(f"malformed citation item `{piece.strip()}`: expected `@key`")
        key = match.group("key").rstrip(".:")
        if not key:
            raise ValueError(f"malformed citation `[{body}]`: `@` is not followed by a key")
        rest = match.group("key")[len(key):] + match.group("rest")
        rest = rest.strip()
        if "@" in rest:
            raise ValueError(f"malformed citation `[{body.strip()}]`: separate several keys with `;`")
        if rest and not rest.startswith(","):
            raise ValueError(f"malformed citation item `{piece.strip()}`: put a comma before the locator (`@{key}, {rest}`)")
        items.append(CitationItem(key, match.group("prefix").strip(), rest.lstrip(",").strip()))
    return tuple(items)


def find_citations(text: str) -> tuple[list[Citation], list[CitationSyntaxError]]:
    """Every citation group in a Markdown text, outside code, in order; plus syntax errors."""
    masked = _masked(text)
    citations: list[Citation] = []
    errors: list[CitationSyntaxError] = []
    for match in _GROUP.finditer(masked):
        line = masked.count("\n", 0, match.start()) + 1
        try:
            items = parse_citation_body(text[match.start("body"):match.end("body")])
        except ValueError as exc:
            errors.append(CitationSyntaxError(str(exc), "write citations as `[@key]`, `[@a; @b]` or `[@key, p. 4]`", line))
            continue
        citations.append(Citation(items, match.start(), match.end(), line))
    covered = [(c.start, c.end) for c in citations]
    for match in _UNCLOSED.finditer(masked):
        if any(s <= match.start() < e for s, e in covered) or "]" in masked[match.start():match.end()]:
            continue
        line = masked.count("\n", 0, match.start()) + 1
        errors.append(CitationSyntaxError(f"unclosed citation `{match.group(0).strip()[:40]}`",
                                          "close the citation with `]`", line))
    return citations, errors


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
