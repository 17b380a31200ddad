"""Pandoc's citation syntax, found in Markdown text: `[@key]`, `[@a; @b]`, `[see @key, p. 4]`, `[-@key]`,
narrative `@key` and `@key [p. 4]`, curly keys `@{…}`, `\\@` escapes; and number compression for numeric styles.

The forms and their limits follow Pandoc's Markdown reader (its `citeKey`, `normalCite` and `textualCite`);
where Pandoc's reading of a form is garbage (`[@a @b]` cites `b` inside `a`'s suffix, `[see @a` cites `a`
narratively) this scanner reports an error instead. tests/test_citation_conformance.py holds each form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# A Pandoc citation key: a word character, then word characters and internal punctuation (each followed by a word
# character; `:` and `/` also by `/`, as in `https://`). Anything else is written in braces: `@{https://x.org/a?b}`.
KEY = r"\w(?:\w|[:.#$%&+?<>~/-](?=\w)|[:/](?=/))*"
MAX_BRACED_KEY = 500  # characters: `@{` runs are read to their closing brace at most this far (bounded work)
# Every regex below matches one character or one greedy run that nothing follows: none can backtrack, so each call
# costs what it reads, and the scanner reads every character a bounded number of times (tests/test_bounded.py).
_KEY_RUN = re.compile(KEY)
# `{…}`: no white space, braces balanced (two levels; alternatives start with different characters, so a failed
# match gives up after reading what it matched, within MAX_BRACED_KEY characters)
_BRACED_KEY = re.compile(r"\{(?:[^\s{}]|\{[^\s{}]*\})+\}")
_EVENTS = re.compile(r"[\[\]@]|\n[ \t]*(?=\n|$)")
_ESCAPE = re.compile(r"\\[^\n]")
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|$)")
_WORD = re.compile(r"\w").match
_WORD_OR_DOT = re.compile(r"[\w.]").match
_TICKS_OR_TILDE_FENCE = re.compile(r"`+|(?m:^~{3,})")
_BRACKET = re.compile(r"[\[\]]")
_NOT_NEWLINE = re.compile(r"[^\n]")
CITATION_HINT = "write citations as `[@key]`, `[@a; @b]`, `[see @key, p. 4]` or `@key [p. 4]`"
NORMAL, SUPPRESS_AUTHOR, AUTHOR_IN_TEXT = "normal", "suppress-author", "author-in-text"


class CitationItem(NamedTuple):
    key: str
    prefix: str = ""
    suffix: str = ""  # as written after the key, locator included (`, p. 4`, ` p. 4`, `, chap. 2 and passim`)
    mode: str = NORMAL  # NORMAL `[@a]`, SUPPRESS_AUTHOR `[-@a]`, AUTHOR_IN_TEXT `@a`


class Citation(NamedTuple):
    """One citation as written (a bracketed group, or a narrative `@key` with its optional `[suffix]`)."""

    items: tuple[CitationItem, ...]
    start: int
    end: int
    line: int

    @property
    def plain(self) -> bool:
        """Bracketed keys and nothing else (`[@a; @b]`): what a numeric style prints as compressed numbers."""
        return all(item.mode == NORMAL and not item.prefix and not item.suffix for item in self.items)


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


_LIST_ITEM = re.compile(r"[ ]{0,3}(?:[-*+]|\d{1,9}[.)])[ \t]")


def _indented_code(text: str, work: Work) -> list[tuple[int, int]]:
    """Indented code blocks: lines indented by four spaces or a tab after a blank line (or another such line), as
    Python-Markdown reads them; not inside a list, where indentation continues the item."""
    regions: list[tuple[int, int]] = []
    offset = 0
    blank_before, in_code, in_list = True, False, False
    for line in text.split("\n"):
        work.visited += len(line) + 1
        stripped = line.strip()
        indented = line.startswith(("    ", "\t"))
        if not stripped:
            blank_before = True
        else:
            if indented and (in_code or (blank_before and not in_list)):
                in_code = True
                regions.append((offset, offset + len(line)))
            else:
                in_code = False
                if not indented:
                    in_list = bool(_LIST_ITEM.match(line)) or (in_list and not blank_before)
            blank_before = False
        offset += len(line) + 1
    return regions


# A CommonMark autolink, `<https://example.org/@handle>` or `<desk@example.org>`: a link whose `@` cites nothing (as
# in Pandoc); a citation there would put a link inside a link.
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+)>")


def _autolinks(text: str, work: Work) -> list[tuple[int, int]]:
    if "<" not in text:
        return []
    work.visited += len(text)
    return [(m.start(), m.end()) for m in _AUTOLINK.finditer(text)]


def _masked(text: str, work: Work | None = None) -> str:
    """The text with code (spans, fenced and indented blocks) and autolinks blanked out, so offsets stay valid."""
    work = work or Work()
    regions = sorted(_code_regions(text, work) + _indented_code(text, work) + _autolinks(text, work))
    pieces = []
    cursor = 0
    for start, end in regions:
        if end <= cursor:
            continue
        start = max(start, cursor)
        pieces.append(text[cursor:start])
        pieces.append(_NOT_NEWLINE.sub(" ", text[start:end]))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _citing(text: str, at: int) -> bool:
    """An `@` that may begin a citation: not right after a word character or `.` (`me@mail.org`, `x.@y`)."""
    return at == 0 or not _WORD_OR_DOT(text, at - 1)


def _key_at(text: str, start: int) -> int:
    """The end of the key starting at `start` (just after `@`), or -1: a simple key, or a braced one `{…}` (balanced
    braces, no white space, at most MAX_BRACED_KEY characters)."""
    if text[start:start + 1] == "{":
        braced = _BRACED_KEY.match(text, start, min(len(text), start + MAX_BRACED_KEY))
        return braced.end() if braced else -1
    run = _KEY_RUN.match(text, start)
    return run.end() if run else -1


def key_of(written: str) -> str:
    """The key a written key stands for: `{…}` loses its braces."""
    return written[1:-1] if written.startswith("{") else written


def written_key(key: str) -> str:
    """How to write a key after `@`: as it is when it reads back whole, in braces otherwise."""
    run = _KEY_RUN.fullmatch(key)
    return key if run else "{" + key + "}"


def _suffix(raw: str) -> str:
    """A suffix as Pandoc keeps it: white space collapsed, one leading space when it began with white space."""
    text = " ".join(raw.split())
    return (" " + text) if text and raw[:1].isspace() else text


class _Group:
    """Bracket structure of a masked, escape-free text: matching brackets within a paragraph, and which groups hold
    a citing `@` directly (not in a nested pair)."""

    def __init__(self, plain: str, work: Work):
        self.match: dict[int, int] = {}
        self.has_at: set[int] = set()
        self.unclosed_with_at: list[int] = []
        self.ats: list[int] = []
        self.opens: list[int] = []
        stack: list[int] = []
        key_ends: set[int] = set()
        for event in _EVENTS.finditer(plain):
            work.visited += 1
            char, where = event.group()[0], event.start()
            if char == "[":
                stack.append(where)
                self.opens.append(where)
            elif char == "]":
                if stack:
                    self.match[stack.pop()] = where
            elif char == "@":
                # citing: not after a word character or `.`, or right after another citation's key (`@a@b`)
                if _citing(plain, where) or where in key_ends:
                    self.ats.append(where)
                    key_end = _key_at(plain, where + 1)
                    if key_end > 0:
                        key_ends.add(key_end)
                    if stack:
                        self.has_at.add(stack[-1])
            else:  # a blank line: brackets never pair across paragraphs
                self.unclosed_with_at.extend(s for s in stack if s in self.has_at)
                stack.clear()
        self.unclosed_with_at.extend(s for s in stack if s in self.has_at)
        work.visited += len(plain)


def parse_citation_body(body: str) -> tuple[CitationItem, ...]:
    """Parse what is inside the brackets of a group; raises ValueError for malformed citations.

    Items are separated by `;`; each is `prefix @key suffix` (or `-@key`, Pandoc's author-suppressing form). The
    suffix starts right after the key, with or without a comma (`@a, p. 4`, `@a p. 4`)."""
    plain = _ESCAPE.sub("  ", _masked(body))
    structure = _Group(plain, Work())
    if structure.has_at & structure.match.keys():
        raise ValueError(f"malformed citation `[{body.strip()}]`: a citation inside another")
    # One pass: the `;` and citing `@` outside nested bracket pairs, item by item.
    pieces: list[tuple[int, int, list[int]]] = []
    start, skip_to = 0, -1
    ats: list[int] = []
    citing = set(structure.ats)
    for index, char in enumerate(plain):
        if index <= skip_to:
            continue
        if char == "[" and index in structure.match:
            skip_to = structure.match[index]
        elif char == ";":
            pieces.append((start, index, ats))
            start, ats = index + 1, []
        elif char == "@" and index in citing:
            ats.append(index - start)
    pieces.append((start, len(plain), ats))
    items = []
    for start, end, ats in pieces:
        piece, plain_piece = body[start:end], plain[start:end]
        if not piece.strip():
            raise ValueError(f"malformed citation `[{body.strip()}]`: empty item between `;`")
        if not ats:
            raise ValueError(f"malformed citation item `{piece.strip()}`: expected `@key`")
        at = ats[0]
        key_end = _key_at(plain_piece, at + 1)
        if key_end < 0:
            raise ValueError(f"malformed citation `[{body.strip()}]`: `@` is not followed by a key")
        if any(_key_at(plain_piece, other + 1) > 0 for other in ats[1:]):
            raise ValueError(f"malformed citation `[{body.strip()}]`: separate several keys with `;`")
        suppress = at > 0 and plain_piece[at - 1] == "-" and (at == 1 or not _WORD(plain_piece, at - 2))
        prefix = " ".join(piece[:at - 1 if suppress else at].split())
        items.append(CitationItem(key_of(piece[at + 1:key_end]), prefix, _suffix(piece[key_end:]),
                                  SUPPRESS_AUTHOR if suppress else NORMAL))
    return tuple(items)


class _Lines:
    """Line numbers of increasing offsets, counting each newline once."""

    def __init__(self, text: str, work: Work):
        self.text, self.work, self.pos, self.line = text, work, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, offset)
        self.work.visited += offset - self.pos
        self.pos = offset
        return self.line


class Scan(NamedTuple):
    citations: list[Citation]
    errors: list[CitationSyntaxError]
    escapes: list[int]  # offsets of `\@` outside code: text to show as `@`


def _line_start(text: str, index: int) -> bool:
    line_start = text.rfind("\n", 0, index) + 1
    return not text[line_start:index].strip()


def scan(text: str, work: Work | None = None) -> Scan:
    """Every citation in a Markdown text, outside code, in order; syntax errors; escaped `@`.

    A few passes over the text, each linear in its length whatever it holds (tests/test_bounded.py)."""
    work = work or Work()
    masked = _masked(text, work)
    escapes = [m.start() for m in _ESCAPE.finditer(masked) if masked[m.start() + 1] == "@"]
    plain = _ESCAPE.sub("  ", masked)  # an escaped character is text: it opens, closes and cites nothing
    work.visited += 2 * len(plain)
    structure = _Group(plain, work)
    citations: list[Citation] = []
    errors: list[CitationSyntaxError] = []
    lines = _Lines(plain, work)
    events = sorted([(s, "[") for s in structure.opens] + [(a, "@") for a in structure.ats])
    unclosed = set(structure.unclosed_with_at)
    cursor = 0
    for where, kind in events:
        work.visited += 1
        if where < cursor:
            continue
        if kind == "[":
            close = structure.match.get(where)
            if close is None:
                if where in unclosed:
                    blank = _BLANK_LINE.search(plain, where)
                    cursor = blank.start() if blank else len(plain)
                    snippet = " ".join(plain[where:cursor].split())[:40]
                    errors.append(CitationSyntaxError(f"unclosed citation `{snippet}`", "close the citation with `]`",
                                                      lines.at(where)))
                continue
            after = plain[close + 1:close + 2]
            if after == "(":  # a link or an image: `[text](url)`, its text and target cite nothing
                target = plain.find(")", close + 1)
                cursor = (target if target >= 0 else close) + 1
                continue
            if after == "[" and where not in structure.has_at:  # `[text][ref]`: the text cites nothing
                cursor = close + 1
                continue
            if after == ":" and _line_start(plain, where):  # a link reference definition
                end = plain.find("\n", close)
                cursor = end if end >= 0 else len(plain)
                continue
            if where not in structure.has_at:
                continue
            work.visited += close - where
            line = lines.at(where)
            cursor = close + 1
            try:
                items = parse_citation_body(text[where + 1:close])
            except ValueError as exc:
                errors.append(CitationSyntaxError(str(exc), CITATION_HINT, line))
                continue
            citations.append(Citation(items, where, close + 1, line))
            continue
        key_end = _key_at(plain, where + 1)
        if key_end < 0:
            continue  # a lone `@` in text
        suppress = where > 0 and plain[where - 1] == "-" and (where == 1 or not _WORD(plain, where - 2))
        start = where - 1 if suppress else where
        end, suffix = key_end, ""
        probe = key_end
        while probe < len(plain) and text[probe] in " \t":  # `text`: code blanked out in `plain` is not space
            probe += 1
        if text[probe:probe + 1] == "\n":
            probe += 1
            while probe < len(plain) and text[probe] in " \t":
                probe += 1
        close = structure.match.get(probe) if plain[probe:probe + 1] == "[" else None
        more: tuple[CitationItem, ...] = ()
        if close is not None and plain[probe + 1:probe + 2] != "^" and plain[close + 1:close + 2] not in ("(", "["):
            body = text[probe + 1:close]
            if probe not in structure.has_at:
                if ";" not in plain[probe:close]:  # `@a [p. 3; more]` is not a locator: `;` must lead to items
                    end, suffix = close + 1, _suffix(body)
            else:  # `@a [p. 3; @b]`: a suffix, then more items
                cut = plain.find(";", probe, close)
                if cut > 0 and "@" not in plain[probe:cut]:
                    try:
                        more = parse_citation_body(text[cut + 1:close])
                    except ValueError:
                        more = ()
                    if more:
                        end, suffix = close + 1, _suffix(text[probe + 1:cut])
        work.visited += end - start
        item = CitationItem(key_of(text[where + 1:key_end]), "", suffix, SUPPRESS_AUTHOR if suppress else AUTHOR_IN_TEXT)
        citations.append(Citation((item, *more), start, end, lines.at(start)))
        cursor = end
    return Scan(citations, errors, escapes)


def scan_citations(text: str, work: Work | None = None) -> tuple[list[Citation], list[CitationSyntaxError]]:
    """find_citations, counting the characters it looks at in `work`."""
    found = scan(text, work)
    return found.citations, found.errors


def find_citations(text: str) -> tuple[list[Citation], list[CitationSyntaxError]]:
    """Every citation in a Markdown text, outside code, in order; plus syntax errors."""
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
