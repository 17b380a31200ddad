"""Text hygiene for everything a pull request can write: invisible control characters, bidi overrides ("Trojan
Source"), look-alike citation keys and structures nested deeply enough to exhaust a parser's stack.

Pure functions over text and loaded data; every finding is a problem with its file and line. Each check is one
linear pass (regexes here match single characters or runs that nothing follows, so none can backtrack)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from generator.errors import Problems

# Levels of nesting a text may have: lists (2 each: the list and its item), block quotes, HTML elements and
# emphasis in Markdown; lists and mappings in report.yml. Python-Markdown overflows its stack at a few hundred
# levels and WeasyPrint at ~140 elements; real reports use fewer than ten.
MAX_NESTING = 100
# Lines listed one by one per file and kind of finding; the rest are summed up in one more problem.
MAX_LISTED = 20

# C0 controls but tab and newline, DEL, C1 controls, U+FFFE/U+FFFF and lone surrogates (not XML 1.0 characters or
# discouraged there); a CR only when it does not end a CRLF line.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]|\r(?!\n)")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
DELETE_HINT = "delete it (it is invisible in most editors)"
BIDI_HINT = ("remove it: a bidi override or isolate makes text display in another order than it is stored "
             "(\"Trojan Source\"), so reviewers may read something else than what is published")


def _kind(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return "unpaired surrogate"
    if code in (0xFFFE, 0xFFFF):
        return "non-character"
    return "control character"


def _describe(chars: Iterable[str], where: str) -> str:
    """`control character U+0007 in text`, `control characters U+0007, U+001B in text`."""
    chars = list(dict.fromkeys(chars))
    kinds = list(dict.fromkeys(_kind(c) for c in chars))
    kind = kinds[0] if len(kinds) == 1 else "invisible character"
    plural = "s" if len(chars) > 1 else ""
    return f"{kind}{plural} {', '.join(f'U+{ord(c):04X}' for c in chars)} in {where}"


def _findings(text: str, pattern: re.Pattern[str]) -> dict[int, list[str]]:
    """The characters `pattern` finds in `text`, by line (counting `\\n` only, as editors and `file:line` do)."""
    found: dict[int, list[str]] = {}
    pos, line = 0, 1
    for match in pattern.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        found.setdefault(line, []).append(match.group())
    return found


def _report(found: dict[int, list[str]], path: Path | str, problems: Problems, error: bool, first_line: int,
            where: str = "text") -> None:
    add = problems.error if error else problems.warning
    for index, (line, chars) in enumerate(sorted(found.items())):
        if index == MAX_LISTED:
            rest = len(found) - MAX_LISTED
            add(path, first_line + line - 1, f"{rest} more line(s), from this one on, have "
                f"{'invisible characters' if error else 'bidi controls'} (only the first {MAX_LISTED} are listed)",
                DELETE_HINT if error else BIDI_HINT, code="control-character" if error else "bidi-control")
            return
        if error:
            add(path, first_line + line - 1, _describe(chars, where), _hint(chars), code="control-character")
        else:
            names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c)}" for c in dict.fromkeys(chars))
            add(path, first_line + line - 1, f"bidi control {names} in {where}", BIDI_HINT, code="bidi-control")


def _hint(chars: list[str]) -> str:
    if set(chars) == {"\r"}:
        return "save the file with LF (or CRLF) line endings: a CR alone is not a line break here"
    return DELETE_HINT


def check_text(text: str, path: Path | str, problems: Problems, first_line: int = 1) -> None:
    """Control characters (errors) and bidi overrides or isolates (warnings) in a file's text, each with its line."""
    _report(_findings(text, _FORBIDDEN), path, problems, True, first_line)
    _report(_findings(text, _BIDI), path, problems, False, first_line)


# -- nesting -----------------------------------------------------------------------------------------

# What opens a list level at the start of a line (after block quotes): a list item, a definition or a footnote.
_LIST_MARKER = re.compile(r"(?:[-*+:]|\d{1,9}\.|\[\^[^\]\s]{1,100}\]:)(?=[ \t]|$)")
_SPACE = re.compile(r"[ \t]*")
_TAG_OR_END = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)|>")
_EMPHASIS = re.compile(r"\*+|_+")
# Levels an HTML element adds: a list holds items, a table a body, rows and cells (a nested table sits in a cell).
# Void elements and those a parser closes on its own (optional end tags) add none.
_TAG_LEVELS = {"ul": 2, "ol": 2, "dl": 2, "menu": 2, "table": 4, **dict.fromkeys((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p", "li",
    "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rp", "rt", "colgroup", "caption",
), 0)}


def _containers(line: str) -> tuple[int, int, bool]:
    """The block quotes and list levels a Markdown line opens, and whether it starts a block (so emphasis left open
    before it ends). Indentation before a list marker counts a level per 4 columns, as in a nested list (inside a
    block quote too); indentation that no marker follows only makes code or continues an item, opening nothing."""
    quotes = lists = columns = 0
    starts_block = not line.strip() or line.lstrip().startswith("#")
    pos = 0
    while True:
        space = _SPACE.match(line, pos)
        assert space is not None  # the pattern matches the empty string
        columns += len(space.group()) + 3 * space.group().count("\t")
        pos = space.end()
        if line.startswith(">", pos):
            quotes += 1
            pos += 2 if line.startswith("> ", pos) else 1
        elif (marker := _LIST_MARKER.match(line, pos)) is not None:
            lists += 1 + columns // 4
            columns = 0
            pos = marker.end()
        else:
            return quotes, lists, starts_block
        starts_block = True


def nesting_line(text: str) -> int | None:
    """The first line of a Markdown text whose lists, block quotes, HTML elements and emphasis may nest more than
    MAX_NESTING levels; None when none does. One pass; code counts too (what is code is Markdown's call, and an
    overestimate is safe).

    Python-Markdown reads a line of block quotes after a list item as part of that item, so lines that each add
    a `>` interleave lists and quotes: with at most Q quotes and L list levels on any line, blocks nest at most
    Q + 2·L·(Q + 1) levels (a list counts 2: the list and its item)."""
    html_depth = 0
    emphasis = 0
    most_quotes = most_lists = 0
    pending = ""  # a tag whose `>` is still to come (it may be on a later line)
    for number, line in enumerate(text.split("\n"), 1):
        quotes, lists, starts_block = _containers(line)
        most_quotes, most_lists = max(most_quotes, quotes), max(most_lists, lists)
        blocks = most_quotes + 2 * most_lists * (most_quotes + 1)
        if starts_block:
            emphasis = 0
        deepest = html_depth
        for match in _TAG_OR_END.finditer(line):
            if match.group() == ">":
                if pending and line[match.start() - 1:match.start()] != "/":
                    levels = _TAG_LEVELS.get(pending.lstrip("/"), 1)
                    html_depth = max(html_depth + (-levels if pending[0] == "/" else levels), 0)
                    deepest = max(deepest, html_depth)
                pending = ""
                continue
            follows = line[match.end():match.end() + 1]
            pending = (match.group(1) + match.group(2).lower()) if follows in ("", " ", "\t", "/", ">") else ""
        for match in _EMPHASIS.finditer(line):
            before = line[match.start() - 1:match.start()]
            after = line[match.end():match.end() + 1]
            opens = bool(after) and not after.isspace()
            closes = bool(before) and not before.isspace()
            if opens and not closes:
                emphasis += len(match.group())
            elif closes and not opens:
                emphasis = max(emphasis - len(match.group()), 0)
            if blocks + deepest + emphasis > MAX_NESTING:
                return number
        if blocks + deepest + emphasis > MAX_NESTING:
            return number
    return None


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})
# Elements a rendered text may nest: the Markdown pre-check is an estimate, so what reaches WeasyPrint (which
# overflows its stack at ~140 elements with the page around it) is measured as well.
MAX_HTML_NESTING = MAX_NESTING + 10


def html_nesting(html: str) -> int:
    """How deeply the elements of rendered HTML nest (one pass; void elements and `<x/>` hold nothing)."""
    depth = deepest = 0
    pending = ""
    for match in _TAG_OR_END.finditer(html):
        if match.group() == ">":
            if pending and html[match.start() - 1:match.start()] != "/":
                if pending[0] == "/":
                    depth = max(depth - 1, 0)
                else:
                    depth += 1
                    deepest = max(deepest, depth)
            pending = ""
        else:
            name = match.group(2).lower()
            pending = "" if name in _VOID else match.group(1) + name
    return deepest


# Python-Markdown's link patterns are quadratic in the `[` of one paragraph (20 000 of them take 90 s), its HTML
# parser in the `<` that open a tag or autolink without closing it (`<a <a <a…`: 4 000 take 1.7 s), and its escape
# pattern in a run of backslashes (160 000 take 7 s). A paragraph may hold at most MAX_BRACKETS of each (500:
# ~0.1 s; a paragraph citing 100 sources holds ~100), a run at most MAX_BACKSLASHES, and a text at most MAX_TEXT.
MAX_BRACKETS = 500
MAX_BACKSLASHES = 1000
MAX_PER_TEXT = 1000  # footnotes or abbreviations in one text (10 000 footnotes took 22 s)
MAX_TEXT = 1_000_000
HEAVY_HINT = (f"a paragraph may hold at most {MAX_BRACKETS} `[` and {MAX_BRACKETS} unclosed `<`, a text at most "
              f"{MAX_PER_TEXT} footnotes and {MAX_TEXT // 1_000_000} MB of characters: split it")
_FOOTNOTE = re.compile(r"\[\^")
_ABBREVIATION = re.compile(r"^[ \t]*\*\[", re.M)
_ANGLE = re.compile(r"<(?=[A-Za-z/!?])|>")  # a `<` that may open a tag, comment or autolink; a `>` that closes
_BACKSLASHES = re.compile(rf"\\{{{MAX_BACKSLASHES + 1},}}")


def heavy_markup(text: str) -> tuple[int, str] | None:
    """(line, message) of the first paragraph too costly to convert, or None; one linear pass over the lines."""
    if len(text) > MAX_TEXT:
        return 1, f"text too long to convert ({len(text):,} characters)"
    for pattern, what in ((_FOOTNOTE, "footnote references and definitions"), (_ABBREVIATION, "abbreviation definitions")):
        found = pattern.findall(text)  # Python-Markdown's footnotes and abbr extensions are quadratic in them
        if len(found) > MAX_PER_TEXT:
            first = pattern.search(text)
            return (text.count("\n", 0, first.start()) + 1 if first else 1,
                    f"too many {what} (more than {MAX_PER_TEXT}, from this line on)")
    run = _BACKSLASHES.search(text)
    if run:
        return text.count("\n", 0, run.start()) + 1, f"too many backslashes in a row (more than {MAX_BACKSLASHES})"
    brackets, unclosed, start, open_angle = 0, 0, 1, False
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            brackets, unclosed, start, open_angle = 0, 0, number + 1, False
            continue
        brackets += line.count("[")
        if brackets > MAX_BRACKETS:
            return start, f"paragraph too complex to convert (more than {MAX_BRACKETS} `[`)"
        if "<" in line:
            for match in _ANGLE.finditer(line):
                if match.group() != ">":
                    unclosed += open_angle
                    open_angle = True
                else:
                    open_angle = False
            if unclosed > MAX_BRACKETS:
                return start, f"paragraph too complex to convert (more than {MAX_BRACKETS} unclosed `<`)"
        elif ">" in line:
            open_angle = False
    return None


NESTING_MESSAGE = "nested too deeply"
PROSE_NESTING_HINT = (f"lists, block quotes, HTML elements and emphasis may nest at most {MAX_NESTING} levels "
                      "(a list counts as 2): flatten the structure")
YAML_NESTING_HINT = f"report.yml may nest lists and mappings at most {MAX_NESTING} levels: flatten the structure"


def check_prose(text: str, path: Path | str, problems: Problems) -> None:
    """Everything a Markdown section file is checked for before it is rendered."""
    check_text(text, path, problems)
    line = nesting_line(text)
    if line is not None:
        problems.error(path, line, NESTING_MESSAGE, PROSE_NESTING_HINT, code="nested-too-deeply")


def check_report_data(data: dict[str, Any], lines: dict[tuple[Any, ...], int], text: str, path: Path | str,
                      problems: Problems) -> bool:
    """report.yml as loaded: control characters and bidi controls in its raw text (with their exact line) and in
    every value and field name (characters written as escapes such as `"\\x07"` appear only there), and how deep
    it nests. False when it nests more than MAX_NESTING levels: nothing more should be read from it."""
    check_text(text, path, problems)
    written = set(_FORBIDDEN.findall(text)) | set(_BIDI.findall(text))  # reported above, with their own line
    forbidden: dict[int, list[str]] = {}
    bidi: dict[int, list[str]] = {}
    where: dict[int, str] = {}
    deep_ok = True
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        strings: list[tuple[str, tuple[Any, ...]]] = []
        if isinstance(value, str):
            strings.append((value, loc))
        elif isinstance(value, dict | list):
            if id(value) in seen:
                continue  # an alias: checked where it was defined
            seen.add(id(value))
            if len(loc) >= MAX_NESTING:
                if deep_ok:
                    problems.error(path, line_in(lines, loc), NESTING_MESSAGE, YAML_NESTING_HINT,
                                   code="nested-too-deeply")
                deep_ok = False
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            children = []
            for key, item in items:
                if isinstance(key, str):
                    strings.append((key, (*loc, key)))
                children.append((item, (*loc, key)))
            stack.extend(reversed(children))
        for string, at in strings:
            line = line_in(lines, at) or 1
            for pattern, found in ((_FORBIDDEN, forbidden), (_BIDI, bidi)):
                chars = [c for c in pattern.findall(string) if c not in written]
                if chars:
                    found.setdefault(line, []).extend(chars)
                    where.setdefault(line, ".".join(str(p) for p in at) or "report.yml")
            if deep_ok and nesting_line(string) is not None:
                problems.error(path, line, NESTING_MESSAGE, PROSE_NESTING_HINT, code="nested-too-deeply")
                deep_ok = False
    for found, error in ((forbidden, True), (bidi, False)):
        for line, chars in sorted(found.items()):
            if error:
                problems.error(path, line, _describe(chars, f"`{where[line]}`"),
                               "delete it (in a quoted value it is written as an escape such as `\\x07` or `\\u0007`)",
                               code="control-character")
            else:
                names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c)}" for c in dict.fromkeys(chars))
                problems.warning(path, line, f"bidi control {names} in `{where[line]}`", BIDI_HINT, code="bidi-control")
    return deep_ok


def line_in(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """The line of a field in report.yml (from its YAML line map), or of its nearest parent."""
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)


# -- look-alike keys ---------------------------------------------------------------------------------
# Unicode's confusables (UTS #39) and script data, from confusable_homoglyphs; loaded on first use, which only
# keys with a character outside ASCII need.

_JOINED_SCRIPTS = ({"HAN", "HIRAGANA", "KATAKANA"}, {"HAN", "HANGUL"}, {"HAN", "BOPOMOFO"})
_MARKS = str.maketrans("", "", "\u200e\u200f")


def scripts(key: str) -> set[str]:
    """The scripts of a key's letters (digits, punctuation and combining marks belong to every script)."""
    if key.isascii():
        return {"LATIN"} if any(c.isalpha() for c in key) else set()
    from confusable_homoglyphs import categories

    found = set(categories.unique_aliases(key)) - {"COMMON", "INHERITED"}
    if any(found <= joined for joined in _JOINED_SCRIPTS):
        return {next(iter(found))} if found else found
    return found


def _script(char: str) -> str:
    found = scripts(char)
    return next(iter(found)) if found else "COMMON"


@lru_cache(maxsize=4096)
def _homoglyphs(char: str) -> tuple[str, ...]:
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(char, greedy=True)
    return tuple(h["c"].translate(_MARKS) for h in found[0]["homoglyphs"]) if found else ()


@lru_cache(maxsize=4096)
def _prototype(char: str) -> str:
    """The character (or sequence) a character is confused with, as in UTS #39's skeleton.

    The data lists each confusable pair both ways: a character with several look-alikes is a prototype; one with a
    single look-alike maps to it, unless that one is also alone (a pair: both map to the smaller one)."""
    glyphs = _homoglyphs(char)
    if len(glyphs) != 1:
        return char
    other = glyphs[0]
    if len(other) > 1 or len(_homoglyphs(other)) > 1:
        return other
    return min(char, other)


def skeleton(text: str) -> str:
    """UTS #39 skeleton: equal for strings that look the same (`tаss2025` with a Cyrillic `а` and `tass2025`)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(_prototype(c) for c in decomposed))


def lookalike_suggestion(key: str) -> str:
    """The key with each letter outside its main script replaced by its look-alike in that script, or ''."""
    found = scripts(key)
    if len(found) < 2:
        return ""
    counts = Counter(_script(c) for c in key if c.isalpha())
    main = max(sorted(counts), key=lambda s: counts[s])
    out = []
    for char in key:
        if char.isalpha() and _script(char) != main:
            candidates = [g for g in (_prototype(char), *_homoglyphs(char)) if len(g) == 1 and _script(g) == main]
            if not candidates:
                return ""
            char = candidates[0]
        out.append(char)
    suggestion = "".join(out)
    return suggestion if suggestion != key else ""


def _letter(char: str) -> str:
    """`Cyrillic `а` (U+0430)`."""
    script = _script(char)
    return f"{script.title() + ' ' if script != 'COMMON' else ''}`{char}` (U+{ord(char):04X})"


def mixed_script_problem(key: str) -> tuple[str, str] | None:
    """(message, hint) when a citation key mixes scripts, e.g. Latin with a Cyrillic look-alike letter."""
    if key.isascii():
        return None
    found = scripts(key)
    if len(found) < 2:
        return None
    names = " and ".join(sorted(s.title() for s in found))
    suggestion = lookalike_suggestion(key)
    if suggestion:
        pairs = dict.fromkeys((a, b) for a, b in zip(key, suggestion, strict=True) if a != b)
        letters = ", ".join(f"{_letter(a)}, which looks like {_letter(b)}" for a, b in pairs)
        hint = f"did you mean `{suggestion}`? It contains {letters}"
    else:
        hint = "write the key in one script (a letter from another one may only look the same)"
    return f"the key `{key}` mixes {names} letters", hint


def confusable_groups(keys: Iterable[str]) -> list[list[str]]:
    """Keys that look the same (same skeleton) though they differ, at least one of them outside ASCII; each
    group in the order given."""
    keys = list(keys)
    if all(key.isascii() for key in keys):
        return []
    by_skeleton: dict[str, list[str]] = {}
    for key in keys:
        by_skeleton.setdefault(skeleton(key), []).append(key)
    return [group for group in by_skeleton.values()
            if len(group) > 1 and not all(key.isascii() for key in group)]


def confusable_hint(key: str, existing: str) -> str:
    """The did-you-mean for a key that looks like an existing one."""
    if len(key) == len(existing):
        pairs = dict.fromkeys((a, b) for a, b in zip(key, existing, strict=True) if a != b)
        letters = ", ".join(f"{_letter(a)} where `{existing}` has {_letter(b)}" for a, b in pairs)
        return f"did you mean `{existing}`? `{key}` has {letters}: they only look alike"
    return f"did you mean `{existing}`? The two keys only look alike"
