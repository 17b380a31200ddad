"""Load BibTeX/biblatex source lists into `Source` objects, reporting every bad block with file and line."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import RemoveEnclosingMiddleware
from bibtexparser.middlewares.middleware import LibraryMiddleware
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

from generator import hygiene, safefs
from generator.cache import Store, file_digest
from generator.citations import KEY
from generator.config import SOURCE_KINDS
from generator.errors import Problem, Problems, Severity
from generator.identifiers import IdentifierError, parse_identifier, scheme_of

KIND_FIELD = "kind"
# Fields that hold machine-readable text: never LaTeX-decoded (it would mangle `&`, `%`, `~`).
VERBATIM_FIELDS = frozenset({"url", "doi", "urldate", "onlinedate", "date", "year", "eprint", "archiveurl", "langid",
                             "kind", "ids", "urlhash", "archivedate", "urlstatus", "urlchecked", "kindstatus"})
# Fields `report sources` and `report links` write (a desk may write them by hand too): `ids`, biblatex's aliases of
# a key, holds the identifiers an entry is cited by (`doi:10.1038/…, url:https://…`); `urlhash` the fingerprint of the
# page as the writer saw it; `archivedate` the day of the `archiveurl` snapshot; `urlstatus = {dead}` and
# `urlchecked` what the last link check found; `kindstatus = {proposed: …}` a kind the writer has yet to confirm.
PROPOSED = "proposed"
# Fields a desk keeps for itself: research notes (`annotation`, the biblatex field reference managers fill from
# their notes; `annote`, its BibTeX name; `internal`), JabRef's `comment`, `owner`, `groups`, `readstatus`,
# `priority` and `timestamp`, Mendeley's tags, abstracts, and the local file paths reference managers write
# (`file`). Taken out of an entry as it is read, so no page, PDF, download or search index can publish them.
PRIVATE_FIELDS = frozenset({"annotation", "annote", "internal", "comment", "file", "owner", "groups", "readstatus",
                            "priority", "timestamp", "abstract", "mendeley-tags", "mendeley-groups"})
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: str(number) for number, name in enumerate(MONTH_NAMES, 1)}
_LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=True)
# Entry types of BibTeX and biblatex; anything else still loads, with a warning (it is formatted as a generic document).
ENTRY_TYPES = frozenset({
    "article", "book", "mvbook", "inbook", "bookinbook", "suppbook", "booklet", "collection", "mvcollection",
    "incollection", "suppcollection", "dataset", "manual", "misc", "online", "electronic", "www", "patent",
    "periodical", "suppperiodical", "proceedings", "mvproceedings", "inproceedings", "conference", "reference",
    "mvreference", "inreference", "report", "techreport", "set", "software", "thesis", "mastersthesis", "phdthesis",
    "unpublished", "artwork", "audio", "image", "movie", "music", "performance", "video", "letter", "legislation",
    "legal", "jurisdiction", "standard", "review", "commentary", "interview",
})
DATE_FIELDS = ("date", "year", "urldate", "onlinedate", "archivedate", "urlchecked")
# What a report's `sources.bib` download carries: bibliographic fields of the biblatex data model (and ours: `kind`,
# `archiveurl`, `onlinedate`). Anything else a reference manager or a desk adds stays in the repository.
PUBLISHED_FIELDS = frozenset({
    "title", "subtitle", "titleaddon", "shorttitle", "author", "editor", "translator", "organization", "institution",
    "publisher", "school", "journaltitle", "journal", "journalsubtitle", "booktitle", "maintitle", "series", "volume",
    "volumes", "number", "issue", "pages", "pagetotal", "chapter", "edition", "type", "howpublished", "address",
    "location", "venue", "eventtitle", "eventdate", "date", "year", "month", "day", "urldate", "onlinedate",
    "origdate", "pubstate", "url", "doi", "eprint", "eprinttype", "eprintclass", "archiveprefix", "primaryclass",
    "isbn", "issn", "isrn", "langid", "language", "version", "note", "addendum", "archiveurl", "kind", "ids",
    "archivedate",
})

# bibtexparser logs every aborted block on its own; we report them as problems with file and line instead.
_SPLITTER_LOG = logging.getLogger("bibtexparser.splitter")
_SPLITTER_LOG.addHandler(logging.NullHandler())
_SPLITTER_LOG.propagate = False


def did_you_mean(word: str, choices: list[str] | set[str] | dict[str, Any]) -> str:
    """A 'did you mean' hint, or an empty string when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


_DOUBLE_QUOTE = re.compile(r"``(.*?)''", re.S)
_SINGLE_QUOTE = re.compile(r"(?<![`\w])`([^`'\n]*)'(?!')")


def latex_quotes(value: str) -> str:
    """TeX's quotes as typographic ones: ``a'' → “a”, `a' → ‘a’ (a lone apostrophe stays as it is)."""
    if "`" not in value:
        return value
    return _SINGLE_QUOTE.sub("\u2018\\1\u2019", _DOUBLE_QUOTE.sub("\u201c\\1\u201d", value))


@lru_cache(maxsize=65536)  # pure, ~0.5 ms a call in pylatexenc; names, journals and page ranges repeat a lot
def decode_latex(value: str) -> str:
    """LaTeX accents, escapes and quotes to Unicode; plain text skips the decoder entirely."""
    value = latex_quotes(value)
    if not any(ch in value for ch in "\\{}~$") and "--" not in value:
        return value
    value = re.sub(r"(?<!\\)&", r"\\&", value)  # a bare `&` is text to a reader, not a LaTeX column separator
    try:
        text = _LATEX.latex_to_text(value)
    except Exception:  # pylatexenc on pathological input: show the text as written rather than fail the build
        text = value
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Source:
    """One entry of a source list, with where it was defined."""

    key: str
    entry_type: str
    fields: dict[str, str]
    path: Path
    line: int
    field_lines: dict[str, int] = field(default_factory=dict)
    broken: bool = False  # the entry has a syntax error: its fields may be cut short, so it is not used
    private: dict[str, str] = field(default_factory=dict)  # PRIVATE_FIELDS: read, never published

    @property
    def kind(self) -> str:
        return self.fields.get(KIND_FIELD, "other").strip().lower() or "other"

    @property
    def kind_label(self) -> str:
        return SOURCE_KINDS.get(self.kind, self.kind)

    def text(self, name: str) -> str:
        """A field as readable Unicode text (LaTeX decoded, except verbatim fields).

        Decoded on demand, field by field: a page that shows only the note never pays for the other fields
        (`decode_latex` keeps what it has decoded)."""
        value = self.fields.get(name)
        if value is None:
            return ""
        return value.strip() if name in VERBATIM_FIELDS else decode_latex(value)

    @property
    def url(self) -> str:
        return self.fields.get("url", "").strip()

    @property
    def language_tag(self) -> str:
        """The source's language as a BCP 47 tag (`langid`, else `language`), or "" when it gives none we know."""
        from generator.sources.languages import language_tag

        return language_tag(self.fields.get("langid") or self.fields.get("language") or "")

    @property
    def doi(self) -> str:
        doi = self.fields.get("doi", "").strip()
        return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi, flags=re.I)

    @property
    def archive_url(self) -> str:
        return self.fields.get("archiveurl", "").strip()

    @property
    def dead(self) -> bool:
        """A link check found the address dead (`urlstatus = {dead}`): the page shows it, and the archived copy."""
        return self.fields.get("urlstatus", "").strip().lower() == "dead"

    def date_field(self, name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.fields.get(name, "").strip())
        except ValueError:
            return None

    @property
    def ids(self) -> list[str]:
        """The aliases in `ids`, as written."""
        return [alias.strip() for alias in self.fields.get("ids", "").split(",") if alias.strip()]

    @property
    def accessed(self) -> dt.date | None:
        """The day the source was last accessed (`urldate`), when it is a full date."""
        return self.date_field("urldate")

    def persons(self, name: str = "author") -> list[dict[str, str]]:
        """Authors as CSL name objects; a braced name is an organisation."""
        raw = self.fields.get(name, "").strip()
        if not raw:
            return []
        people = []
        try:
            names = split_multiple_persons_names(raw)
        except InvalidNameError:
            return [{"literal": decode_latex(raw)}]
        for person in names:
            person = person.strip()
            if _is_one_group(person):
                people.append({"literal": decode_latex(person[1:-1])})
                continue
            try:
                parts = parse_single_name_into_parts(person)
            except InvalidNameError:  # reported by `validate_source`; shown as written meanwhile
                people.append({"literal": decode_latex(person)})
                continue
            family = " ".join(parts.von + parts.last)
            entry = {"family": decode_latex(family), "given": decode_latex(" ".join(parts.first))}
            if parts.jr:
                entry["suffix"] = decode_latex(" ".join(parts.jr))
            people.append(entry)
        return people

    def fingerprint(self) -> str:
        """Content hash used to key caches of formatted references and rendered reports (computed once)."""
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            # JSON, not joined text: no field value can be written to read as another field (`a = {1\x1fb=2}`)
            payload = json.dumps([self.entry_type, sorted(self.fields.items())], ensure_ascii=False)
            cached = self.__dict__["_fingerprint"] = hashlib.sha256(payload.encode()).hexdigest()[:32]
        return cached


@dataclass
class Bibliography:
    """Every source of a project by key, and the problems found loading them."""

    sources: dict[str, Source] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    files: list[Path] = field(default_factory=list)
    broken: dict[str, Source] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # an alias from `ids` (identifiers in normal form) → key
    _lookalikes: tuple[int, dict[str, str] | None, bool] | None = field(default=None, init=False, repr=False, compare=False)

    def __contains__(self, key: str) -> bool:
        return key in self.sources

    def __getitem__(self, key: str) -> Source:
        return self.sources[key]

    def key_of(self, cited: str) -> str | None:
        """The key of the entry a citation names: the key itself, or an alias in some entry's `ids` (an identifier
        is looked up in its normal form, so `doi:10.1038/ABC` finds `doi:10.1038/abc`)."""
        if cited in self.sources:
            return cited
        alias = self.aliases.get(cited)
        if alias is None and scheme_of(cited):
            try:
                alias = self.aliases.get(parse_identifier(cited).key)
            except IdentifierError:
                return None
        return alias

    def source(self, cited: str) -> Source | None:
        key = self.key_of(cited)
        return None if key is None else self.sources[key]

    def missing_key_hint(self, key: str) -> str:
        """How to fix a citation of a key that is not in the bibliography (so the user need not guess why)."""
        if scheme_of(key):
            try:
                parse_identifier(key)
            except IdentifierError as exc:
                return exc.hint
            return ("run `report sources resolve` to fetch its metadata into bib/resolved.bib (builds never go "
                    "online), or add the identifier to the `ids` of the entry it names")
        bare = key.lstrip("@")
        if bare != key and bare in self.sources:
            return f"write the key without `@`: `{bare}`"
        broken = self.broken.get(key)
        if broken is not None:
            where = self.problems.relative(broken.path)
            return f"the entry `{key}` ({where}:{broken.line}) could not be read: fix the BibTeX error reported there"
        folded = [k for k in self.sources if k.casefold() == key.casefold()]
        if folded:
            return f"keys are case-sensitive: did you mean `{folded[0]}`?"
        lookalike = self.lookalike(key)
        if lookalike:
            return hygiene.confusable_hint(key, lookalike)
        return did_you_mean(key, self.sources) or "add an entry with this key to a .bib file in bib/"


    def lookalike(self, key: str) -> str:
        """Another key of the bibliography that looks the same as `key` (Unicode confusables, UTS #39), or ''.
        Only keys outside ASCII are taken for look-alikes; the skeletons are computed once, when first needed."""
        if self._lookalikes is None or self._lookalikes[0] != len(self.sources):
            self._lookalikes = (len(self.sources), None, any(not known.isascii() for known in self.sources))
        count, skeletons, foreign = self._lookalikes
        if key.isascii() and not foreign:
            return ""
        if skeletons is None:
            skeletons = {}
            for known in self.sources:
                skeletons.setdefault(hygiene.skeleton(known), known)
            self._lookalikes = (count, skeletons, foreign)
        found = skeletons.get(hygiene.skeleton(key), "")
        return found if found != key and not (found.isascii() and key.isascii()) else ""


def _is_one_group(text: str) -> bool:
    """True for `{World Health Organization}`, false for `{\\c{S}}ahin, Jos{\\'e}` (braces that close early)."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for index, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if depth == 0:
            return index == len(text) - 1
    return False


def _split_concatenation(value: str) -> list[str] | None:
    """Split `a # {b} # "c"` at top-level `#`; None when there is no concatenation."""
    if "#" not in value:  # the common case, without the character loop
        return None
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in value:
        if ch == "{" and not quoted:
            depth += 1
        elif ch == "}" and not quoted:
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if not parts:
        return None
    parts.append("".join(current).strip())
    return parts


MAX_VALUE = 100_000  # characters in one field or @string once macros are expanded (an abstract is ~2 000)


class ResolveMacrosMiddleware(LibraryMiddleware):
    """Resolve `@string` macros, month names and `#` concatenation (bibtexparser leaves `#` alone)."""

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)
        self.undefined: list[tuple[Entry, str, str]] = []
        self.too_long: list[tuple[int | None, str]] = []  # (block start line, what) of values past MAX_VALUE
        self.poisoned: set[str] = set()  # @string names whose value was too long (and everything built on them)

    @classmethod
    def metadata_key(cls) -> str:
        return "ResolveMacros"

    def transform(self, library: Library) -> Library:
        macros = dict(MONTHS)
        for string in library.strings:
            value = self._literal(string.value, macros)
            if value is None:  # `@string{b = a # a}` twenty times over is a gigabyte
                if not self._uses_too_long(string.value):  # reported once, where it first grows too long
                    self.too_long.append((string.start_line, f"@string `{string.key}`"))
                self.poisoned.add(string.key.lower())
                value = ""
            macros[string.key.lower()] = value
        for entry in library.entries:
            for fld in entry.fields:
                value = fld.value
                if not isinstance(value, str):
                    continue
                pieces = _split_concatenation(value)
                if pieces is None:
                    if self._is_enclosed(value) or value.strip().isdigit():
                        continue
                    pieces = [value.strip()]
                resolved = []
                for piece in pieces:
                    if self._is_enclosed(piece) or piece.isdigit():
                        resolved.append(piece[1:-1] if self._is_enclosed(piece) else piece)
                    elif piece.lower() in macros:
                        resolved.append(macros[piece.lower()])
                    else:
                        self.undefined.append((entry, fld.key, piece))
                        resolved.append(piece)
                if sum(map(len, resolved)) > MAX_VALUE or any(p.lower() in self.poisoned for p in pieces):
                    self.too_long.append((entry.start_line, f"`{entry.key}`: field `{fld.key}`"))
                    resolved = []
                fld.value = "{" + "".join(resolved) + "}"
        return library

    @staticmethod
    def _is_enclosed(value: str) -> bool:
        value = value.strip()
        return len(value) >= 2 and ((value[0] == "{" and value[-1] == "}") or (value[0] == '"' and value[-1] == '"'))

    def _literal(self, value: str, macros: dict[str, str]) -> str | None:
        """The value of an @string, or None when it would be longer than MAX_VALUE characters."""
        pieces = _split_concatenation(value) or [value]
        out = []
        for piece in pieces:
            piece = piece.strip()
            if self._is_enclosed(piece):
                out.append(piece[1:-1])
            else:
                out.append(macros.get(piece.lower(), piece))
        if self._uses_too_long(value) or sum(map(len, out)) > MAX_VALUE:
            return None
        return "".join(out)

    def _uses_too_long(self, value: str) -> bool:
        pieces = _split_concatenation(value) or [value]
        return any(piece.strip().lower() in self.poisoned for piece in pieces)


# -- syntax -------------------------------------------------------------------------------------
# bibtexparser recovers from most mistakes silently (a missing comma merges two fields) or with a terse
# message, so a small scanner of our own walks the same grammar and says what is wrong, where.

_AT = re.compile(r"@[ \t]*(\w*)[ \t]*")
_BLOCK_AT_LINE_START = re.compile(r"[ \t]*@\w*[ \t]*[{(]")
_KEY_CHARS = re.compile(r"[^\s,{}()=\"#]+")
_NAME_CHARS = re.compile(r"[^\s,{}()=\"#@%'~\\]+")
_BARE_VALUE = re.compile(r"[^\s,{}()=\"#]+")
_FIELD_LIKE = re.compile(r",\s*[A-Za-z][\w-]*\s*=\s*[{\"\w]")
# Inside a value only braces, quotes and newlines matter; a backslash escapes the next character (as in bibtexparser).
_VALUE_MARKS = re.compile(r'\\.|[{}"\n]', re.S)


@dataclass(frozen=True)
class BibSyntaxIssue:
    """One syntax mistake in a .bib file: its line, the line of its block, and the entry key when known."""

    line: int
    block_line: int
    key: str
    message: str
    hint: str
    block: str = "entry"  # or "string", "comment", "preamble"
    fatal: bool = True  # False when the entry is still usable (a repeated field: the first value is kept)


class _Abort(Exception):
    """Stop reading the current block; scanning resumes at the next `@` that starts a line."""

    def __init__(self, pos: int, message: str, hint: str, line_pos: int | None = None):
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.hint = hint
        self.line_pos = pos if line_pos is None else line_pos


_NOT_SPACE = re.compile(r"\S")
# Braces a value may nest: real entries use two or three ({{DNA}}); thousands cost Pandoc's BibTeX reader quadratic
# time (a minute per entry), and a value that deep is never a source.
MAX_BRACE_DEPTH = 50


def brace_depth(value: str) -> int:
    """How deep a value's braces nest (escaped `\\{` `\\}` are text); one pass."""
    if "{" not in value:
        return 0
    depth = deepest = 0
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "}":
            depth = max(depth - 1, 0)
    return deepest


MAX_SYNTAX_ISSUES = 200  # per file; past them the file is not handed to bibtexparser


class _Scanner:
    """Walks BibTeX's block grammar (`@type{key, name = value, ...}`) and records every mistake."""

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.issues: list[BibSyntaxIssue] = []
        self.block_line = 0
        self.block_pos = 0
        self.block = "entry"
        self.key = ""
        self._first_mark: dict[int, int] = {}

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos)

    def skip_ws(self, pos: int) -> int:
        while pos < self.n and self.text[pos].isspace():
            pos += 1
        return pos

    def first_on_line(self, pos: int) -> bool:
        """Whether only whitespace precedes `pos` on its line (each line's first mark is found once: a line of
        100 000 `@` stays linear)."""
        index = self.line(pos) - 1
        if index not in self._first_mark:
            mark = _NOT_SPACE.search(self.text, self.line_starts[index])
            self._first_mark[index] = mark.start() if mark else self.n
        return self._first_mark[index] == pos

    def at_block_start(self, pos: int) -> bool:
        """A `@type{` at the start of a line: bibtexparser starts a new block there, whatever came before."""
        return (pos == 0 or self.text[pos - 1] == "\n") and bool(_BLOCK_AT_LINE_START.match(self.text, pos))

    def next_block(self, pos: int) -> int:
        for index in range(bisect.bisect_right(self.line_starts, pos), len(self.line_starts)):
            if _BLOCK_AT_LINE_START.match(self.text, self.line_starts[index]):
                return self.line_starts[index]
        return self.n

    def add(self, pos: int, message: str, hint: str, fatal: bool = True) -> None:
        self.issues.append(BibSyntaxIssue(self.line(pos), self.block_line, self.key,
                                          f"malformed BibTeX: {message}", hint, self.block, fatal))

    def scan(self) -> list[BibSyntaxIssue]:
        pos = 0
        while True:
            at = self.text.find("@", pos)
            if at < 0:
                return self.issues
            match = _AT.match(self.text, at)
            assert match is not None
            name, after = match.group(1), match.end()
            opener = self.text[after:after + 1]
            self.block_line, self.block_pos, self.key = self.line(at), at, ""
            if opener not in ("{", "("):
                line_start = self.first_on_line(at)
                if line_start and name.lower() in ENTRY_TYPES | {"string", "comment", "preamble"}:
                    self.add(at, f"`@{name}` is not followed by `{{`",
                             f"write an entry as `@{name}{{key, title = {{...}}, ...}}`")
                pos = at + 1
                continue
            closer = "}" if opener == "{" else ")"
            kind = name.lower()
            self.block = kind if kind in ("comment", "preamble", "string") else "entry"
            try:
                if kind == "comment":
                    pos = self.balanced(after, "`@comment`")
                elif kind == "preamble":
                    pos = self.balanced(after, "`@preamble`")
                elif kind == "string":
                    pos = self.string(after + 1, closer)
                else:
                    pos = self.entry(after + 1, name, closer)
            except _Abort as abort:
                self.add(abort.line_pos, abort.message, abort.hint)
                pos = self.next_block(abort.pos)

    def balanced(self, pos: int, what: str) -> int:
        """Skip a `{...}` group; returns the position after its closing brace."""
        depth, start = 0, pos
        for mark in _VALUE_MARKS.finditer(self.text, pos):
            ch, pos = mark.group(), mark.start()
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return pos + 1
            elif ch == "\n" and self.at_block_start(pos + 1):
                break
        else:
            pos = self.n
        raise _Abort(pos, f"{what} is not closed", "add the missing `}`", start)

    def braced(self, pos: int, what: str) -> int:
        try:
            return self.balanced(pos, what)
        except _Abort as abort:
            raise _Abort(abort.pos, f"unclosed `{{` in {what}",
                         "add the missing `}`: every `{` in a value needs a matching `}`", pos) from None

    def quoted(self, pos: int, what: str) -> int:
        start, depth = pos, 0
        for mark in _VALUE_MARKS.finditer(self.text, pos + 1):
            ch, pos = mark.group(), mark.start()
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == '"' and depth <= 0:
                return pos + 1
            elif ch == "\n" and self.at_block_start(pos + 1):
                break
        else:
            pos = self.n
        raise _Abort(pos, f'unclosed `"` in {what}', 'add the closing `"`, or write the value in braces: `{...}`', start)

    def value(self, pos: int, what: str) -> int:
        """A field value: `{...}`, `"..."`, a number or a macro name, joined by `#`."""
        while True:
            ch = self.text[pos:pos + 1]
            if ch == "{":
                pos = self.braced(pos, what)
            elif ch == '"':
                pos = self.quoted(pos, what)
            elif (bare := _BARE_VALUE.match(self.text, pos)) and not self.at_block_start(pos):
                pos = bare.end()
            else:
                raise _Abort(pos, f"{what} has no value", "write the value in braces: `name = {value}`")
            after = self.skip_ws(pos)
            if self.text[after:after + 1] != "#":
                return pos
            pos = self.skip_ws(after + 1)

    def string(self, pos: int, closer: str) -> int:
        pos = self.skip_ws(pos)
        name = _NAME_CHARS.match(self.text, pos)
        if not name:
            raise _Abort(pos, "`@string` has no name", "write `@string{name = {value}}`")
        self.key = name.group(0)
        pos = self.skip_ws(name.end())
        if self.text[pos:pos + 1] != "=":
            raise _Abort(pos, f"`@string{{{self.key} ...}}` has no `=` between name and value",
                         f"write `@string{{{self.key} = {{value}}}}`")
        pos = self.value(self.skip_ws(pos + 1), f"`@string{{{self.key}}}`")
        pos = self.skip_ws(pos)
        if self.text[pos:pos + 1] == closer:
            return pos + 1
        if self.text[pos:pos + 1] == ",":
            raise _Abort(pos, f"`@string{{{self.key} = ...}}` defines more than one macro",
                         "write one `@string{name = {value}}` per macro")
        raise _Abort(pos, f"`@string{{{self.key}}}` is not closed", f"add `{closer}` after its value", self.block_pos)

    def entry(self, pos: int, entry_type: str, closer: str) -> int:
        start = pos
        label = f"`@{entry_type}`" if entry_type else "entry"
        if not entry_type:
            self.add(start, "entry has no type", "write the type before the brace: `@article{key, ...}` or `@online{...}`")
        pos = self.skip_ws(pos)
        key = _KEY_CHARS.match(self.text, pos)
        after_key = self.skip_ws(key.end()) if key else pos
        if not key or self.text[after_key:after_key + 1] == "=":
            raise _Abort(pos, f"{label} entry has no key",
                         f"start the entry with a unique key: `@{entry_type or 'online'}{{smith2025, title = ...}}`")
        self.key = key.group(0)
        pos = after_key
        ch = self.text[pos:pos + 1]
        if ch == closer:
            return pos + 1
        if ch != ",":
            if not ch or self.at_block_start(pos):
                raise _Abort(pos, f"entry `{self.key}` is not closed", f"add `{closer}` after its last field", start)
            raise _Abort(pos, f"missing comma after the key `{self.key}`",
                         f"write `@{entry_type}{{{self.key}, title = {{...}}, ...}}`", key.end())
        pos += 1
        seen: dict[str, int] = {}
        values: list[tuple[str, int, int]] = []
        while True:
            pos = self.skip_ws(pos)
            ch = self.text[pos:pos + 1]
            if ch == closer:
                return pos + 1
            if ch == ",":
                pos += 1
                continue
            if not ch or self.at_block_start(pos):
                self.not_closed(pos, start, closer, values)
            name = _NAME_CHARS.match(self.text, pos)
            if not name:
                raise _Abort(pos, f"unexpected `{ch}` in entry `{self.key}`",
                             "fields look like `name = {value}`, separated by commas")
            field_name, field_pos = name.group(0).lower(), pos
            pos = self.skip_ws(name.end())
            if self.text[pos:pos + 1] != "=":
                raise _Abort(pos, f"field `{field_name}` of `{self.key}` has no `=`",
                             f"write `{field_name} = {{value}}`, and separate fields with commas", field_pos)
            if field_name in seen:
                self.add(field_pos, f"`{self.key}` has the field `{field_name}` twice (first on line {seen[field_name]})",
                         "keep one of them", fatal=False)
            seen.setdefault(field_name, self.line(field_pos))
            what = f"field `{field_name}` of `{self.key}`"
            value_start = self.skip_ws(pos + 1)
            pos = self.value(value_start, what)
            values.append((field_name, field_pos, pos))
            after = self.skip_ws(pos)
            ch = self.text[after:after + 1]
            if ch in (",", closer):
                pos = after
                continue
            if not ch or self.at_block_start(after):
                self.not_closed(after, start, closer, values)
            raise _Abort(after, f"missing comma after field `{field_name}` of `{self.key}`",
                         f"separate fields with commas: `{field_name} = {{...}},`", pos)

    def not_closed(self, pos: int, start: int, closer: str, values: list[tuple[str, int, int]]) -> None:
        """An entry that runs into the next one: usually a value whose `{` was never closed swallowed the rest."""
        for name, field_pos, end in values:
            if _FIELD_LIKE.search(self.text, field_pos, end):
                raise _Abort(pos, f"unclosed `{{` in field `{name}` of `{self.key}`",
                             "add the missing `}`: the value runs on into the fields after it", field_pos)
        raise _Abort(pos, f"entry `{self.key}` is not closed", f"add `{closer}` after its last field", start)


def scan_bibtex(text: str) -> list[BibSyntaxIssue]:
    """Every syntax mistake in a BibTeX text, each with its line."""
    return _Scanner(text).scan()


def _failure_message(block: ParsingFailedBlock) -> tuple[str, str]:
    """bibtexparser's own reason, for the rare failures our scanner does not explain."""
    error = block.error
    detail = getattr(error, "abort_reason", "") or str(error).strip().splitlines()[-1:] or "syntax error"
    detail = (detail if isinstance(detail, str) else detail[0]).strip().rstrip(".")
    if "end of file" in detail.lower():
        return f"malformed BibTeX: {detail}", "look for an unclosed `{` or `\"` in this entry"
    return f"malformed BibTeX: {detail}", "check the entry's braces, commas and `key = value` pairs"


@dataclass
class _ParsedFile:
    stamp: tuple[int, int, str]
    sources: list[Source]
    problems: Problems


def _file_stamp(path: Path) -> tuple[int, int, str]:
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size, str(path.resolve()))


def parse_bib_file(path: Path, root: Path | None = None) -> tuple[list[Source], Problems]:
    """Parse one .bib file; every failed block becomes a problem with its line."""
    try:
        text = safefs.read_text(path, path.parent)  # the loader found it inside the bib folder
    except UnicodeDecodeError as exc:
        problems = Problems(root=root)
        problems.error(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})", "save the file as UTF-8",
                       code="encoding")
        return [], problems
    except safefs.UnsafePath as exc:
        problems = Problems(root=root)
        problems.error(path, None, exc.message, exc.hint, code="unsafe-path")
        return [], problems
    return parse_bib_text(text, path, root)


def parse_bib_text(text: str, path: Path, root: Path | None = None) -> tuple[list[Source], Problems]:
    """Parse BibTeX text as if read from `path`: sources in file order, broken ones flagged, and every problem."""
    problems = Problems(root=root)
    text = text.removeprefix("\ufeff")
    hygiene.check_text(text, path, problems)
    issues = scan_bibtex(text)
    for issue in issues[:MAX_SYNTAX_ISSUES]:
        problems.error(path, issue.line, issue.message, issue.hint, code="bibtex-syntax")
    if len(issues) > MAX_SYNTAX_ISSUES:  # not a source list any more: parsing it would only cost time
        problems.error(path, issues[MAX_SYNTAX_ISSUES].line, f"{len(issues) - MAX_SYNTAX_ISSUES} more BibTeX syntax "
                       "errors; no source was read from this file", "fix the errors listed above first",
                       code="bibtex-syntax")
        return [], problems
    explained = {issue.block_line for issue in issues}
    macros = ResolveMacrosMiddleware()
    try:
        library = bibtexparser.parse_string(text, parse_stack=[macros, RemoveEnclosingMiddleware()])
    except Exception as exc:  # the parser itself gave up: report it rather than crash the build
        if not issues:
            problems.error(path, None, f"malformed BibTeX: could not read this file ({exc})",
                           "check braces, commas and `key = value` pairs", code="bibtex-syntax")
        return [], problems
    broken_lines = {issue.block_line for issue in issues if issue.fatal}
    recovered: list[Entry] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateFieldKeyBlock) and isinstance(block.ignore_error_block, Entry) \
                and line not in broken_lines:
            recovered.append(_first_of_each_field(block.ignore_error_block))
            if line not in explained:
                names = ", ".join(f"`{k}`" for k in sorted(block.duplicate_keys))
                problems.error(path, line, f"malformed BibTeX: an entry repeats the field {names}", "keep one of them",
                               code="bibtex-syntax")
            continue
        broken_lines.add(line)
        if isinstance(block, DuplicateBlockKeyBlock):
            first = (block.previous_block.start_line or 0) + 1
            problems.error(path, line, f"duplicate key `{block.key}` (first defined on line {first})",
                           "give each entry its own key; if both are the same source, delete one", code="duplicate-key")
        elif line in explained:
            continue
        elif isinstance(block, ParsingFailedBlock):
            message, hint = _failure_message(block)
            problems.error(path, line, message, hint, code="bibtex-syntax")
        else:
            problems.error(path, line, f"malformed BibTeX: could not read this block ({type(block).__name__})",
                           code="bibtex-syntax")
    entries = list(library.entries)
    if recovered:  # resolve their macros and braces as the parser would have
        extra = Library([*library.strings, *recovered])
        entries += RemoveEnclosingMiddleware().transform(macros.transform(extra)).entries
        entries.sort(key=lambda e: e.start_line or 0)
    broken_macros = {issue.key.lower() for issue in issues if issue.block == "string"}
    for start_line, what in macros.too_long:
        problems.error(path, (start_line or 0) + 1, f"{what} is longer than {MAX_VALUE:,} characters once its "
                       "@string macros are expanded", "write the value out; macros that repeat each other grow "
                       "exponentially", code="bibtex-string")
    for entry, field_key, macro in macros.undefined:
        if macro.lower() in broken_macros:
            continue  # its @string has a syntax error, reported above
        problems.error(path, (entry.start_line or 0) + 1,
                       f"`{entry.key}`: field `{field_key}` uses undefined @string macro `{macro}`",
                       "define it with `@string{name = {value}}` above the entry, or put the value in braces",
                       code="bibtex-string")
    sources = []
    parsed_keys = set()
    del library  # each parsed entry is let go once it is a Source: a large bib is never held twice
    entries.reverse()
    while entries:
        entry = entries.pop()
        line = (entry.start_line or 0) + 1
        if not entry.key.strip():
            continue  # reported by the scanner as an entry without key
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        lines = {f.key.lower(): (f.start_line or entry.start_line or 0) + 1 for f in entry.fields}
        private = {name: fields.pop(name) for name in sorted(PRIVATE_FIELDS & fields.keys())}
        if KIND_FIELD not in fields:
            _kind_from_tags(fields, private, lines)
        parsed_keys.add(entry.key)
        deep = [name for name, value in fields.items() if brace_depth(value) > MAX_BRACE_DEPTH]
        for name in deep:
            problems.error(path, lines.get(name, line), f"`{entry.key}`: field `{name}` nests braces more than "
                           f"{MAX_BRACE_DEPTH} deep", "a value needs a few levels of braces at most ({{DNA}} keeps its "
                           "case); remove the extra ones", code="bibtex-syntax")
        sources.append(Source(entry.key, entry.entry_type.lower(), fields, path, line, lines,
                              broken=line in broken_lines or bool(deep), private=private))
    for issue in issues:  # entries bibtexparser dropped: remember their key, so citations can say why they fail
        if issue.block == "entry" and issue.key and issue.key not in parsed_keys:
            parsed_keys.add(issue.key)
            sources.append(Source(issue.key, "", {}, path, issue.block_line, {}, broken=True))
    return sources, problems


def _first_of_each_field(entry: Entry) -> Entry:
    """An entry with a repeated field, keeping the first value (the repetition is reported as an error)."""
    seen: set[str] = set()
    fields = []
    for fld in entry.fields:
        if fld.key.lower() not in seen:
            seen.add(fld.key.lower())
            fields.append(fld)
    return Entry(entry.entry_type, entry.key, fields, entry.start_line, entry.raw)


def _date_problem(value: str) -> str:
    """Why a BibTeX date is impossible, or an empty string (partial and biblatex range dates are fine)."""
    for part in value.split("/"):
        part = part.strip()
        if not part or part == "..":
            continue
        match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?(?:T[\d:]+Z?)?[?~%]?", part)
        if not match:
            return "write it as YYYY, YYYY-MM or YYYY-MM-DD"
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            dt.date(year or 1, month or 1, day or 1)
        except ValueError as exc:
            return str(exc)
    return ""


# Tags reference managers export: Zotero (Better BibTeX) and JabRef write them to `keywords`, Mendeley to
# `mendeley-tags`, JabRef's groups to `groups`. A tag `kind:peer-reviewed` gives an entry without `kind` its kind.
TAG_FIELDS = ("keywords", "mendeley-tags", "groups")
_KIND_TAG = re.compile(r"(?:^|[,;\s])kind\s*[:=]\s*([a-z-]+)", re.I)


def _kind_from_tags(fields: dict[str, str], private: dict[str, str], lines: dict[str, int]) -> None:
    for name in TAG_FIELDS:
        match = _KIND_TAG.search(fields.get(name) or private.get(name) or "")
        if match:
            fields[KIND_FIELD] = match.group(1).lower()
            if name in lines:
                lines[KIND_FIELD] = lines[name]
            return


def suggested_kind(source: Source) -> str:
    """The kind an entry most likely has, for a hint (the writer decides: a journal article is not necessarily
    peer-reviewed)."""
    text = " ".join(source.fields.get(n, "") for n in ("organization", "publisher", "journaltitle", "journal",
                                                        "title", "eprinttype", "archiveprefix")).lower()
    if source.entry_type == "article":
        return "preprint" if any(w in text for w in ("arxiv", "biorxiv", "medrxiv", "preprint")) else "peer-reviewed"
    if "fact" in text and "check" in text:
        return "fact-check"
    if source.entry_type in ("report", "techreport", "legislation", "legal", "standard", "manual"):
        return "official"
    if source.entry_type in ("online", "www", "electronic", "periodical", "interview"):
        return "news"
    if source.entry_type in ("book", "inbook", "incollection", "reference", "inreference", "collection"):
        return "reference"
    return "other"


def validate_source(source: Source, problems: Problems) -> None:
    """Per-entry rules: kind from the vocabulary, required fields, real dates, safe URLs and DOIs."""
    def line_of(name: str) -> int:
        return source.field_lines.get(name, source.line)

    if source.entry_type not in ENTRY_TYPES:
        hint = did_you_mean(source.entry_type, set(ENTRY_TYPES)) or "use a BibTeX/biblatex type such as `@article` or `@online`"
        problems.warning(source.path, source.line, f"`{source.key}`: unknown entry type `@{source.entry_type}`; "
                         "formatted as a generic document", hint, code="unknown-type")
    kind = source.fields.get(KIND_FIELD)
    if kind is None:
        guess = suggested_kind(source)
        problems.error(source.path, source.line, f"`{source.key}` has no `{KIND_FIELD}`: the source mix would count "
                       "it as `other`", f"add `{KIND_FIELD} = {{{guess}}}` if that is what it is, or tag it "
                       f"`kind:{guess}` in your reference manager (kinds: {', '.join(SOURCE_KINDS)})",
                       code="missing-kind")
    elif source.kind not in SOURCE_KINDS:
        hint = did_you_mean(source.kind, SOURCE_KINDS) or f"use one of: {', '.join(SOURCE_KINDS)}"
        problems.error(source.path, line_of(KIND_FIELD), f"`{source.key}`: unknown source kind `{source.kind}`", hint,
                       code="unknown-kind")
    status = source.fields.get("kindstatus", "").strip()
    if status.lower().startswith(PROPOSED):
        basis = status[len(PROPOSED):].lstrip(" :")
        problems.error(source.path, line_of("kindstatus"), f"`{source.key}`: the kind `{source.kind}` was proposed "
                       f"({basis or 'by the service that gave the metadata'}), not confirmed",
                       "read the source, keep or correct `kind` (a journal article is not necessarily peer-reviewed), "
                       "then delete the `kindstatus` line", code="unconfirmed-kind")
    if not re.fullmatch(KEY, source.key) or source.key[-1] in ".:":
        problems.error(source.path, source.line, f"the key `{source.key}` cannot be cited as `[@{source.key}]`",
                       "use letters, digits and `-_:.` in keys, e.g. `smith2025vaccine`", code="bad-key")
    mixed = hygiene.mixed_script_problem(source.key)
    if mixed:
        problems.warning(source.path, source.line, *mixed, code="confusable-key")
    if not source.fields.get("title", "").strip():
        problems.error(source.path, source.line, f"`{source.key}` has no title", "add `title = {...}`",
                       code="missing-field")
    if not source.url and not source.doi:
        problems.error(source.path, source.line, f"`{source.key}` has neither url nor doi",
                       "add `url = {https://...}` or `doi = {10....}` so readers can find it", code="missing-field")
    has_date = any(source.fields.get(name, "").strip() for name in ("date", "year"))
    if not has_date and not (source.entry_type == "online" and source.fields.get("urldate")):
        problems.error(source.path, source.line, f"`{source.key}` has no date or year",
                       "add `date = {YYYY-MM-DD}` or `year = {YYYY}`", code="missing-field")
    for name in DATE_FIELDS:
        value = source.fields.get(name, "").strip()
        reason = _date_problem(value) if value else ""
        if reason:
            problems.error(source.path, line_of(name), f"`{source.key}`: {name} `{value[:40]}` is not a valid date ({reason})",
                           "write dates as YYYY-MM-DD, YYYY-MM or YYYY", code="bad-date")
    for name in ("url", "archiveurl"):
        value = source.fields.get(name, "").strip()
        if not value:
            continue
        if not re.match(r"^https?://", value, flags=re.I):
            problems.error(source.path, line_of(name),
                           f"`{source.key}`: {name} must start with http:// or https://, not `{value[:40]}`",
                           "only web links are allowed in references", code="unsafe-url")
        elif re.search(r"[\s\"<>\\^`{|}]", value):
            problems.error(source.path, line_of(name), f"`{source.key}`: {name} contains a space or a character "
                           "that is not allowed in a URL", "percent-encode it (a space is `%20`)", code="bad-url")
    doi = source.doi
    if source.fields.get("doi", "").strip() and not re.fullmatch(r"10\.\d{4,9}/\S+", doi):
        problems.error(source.path, line_of("doi"), f"`{source.key}`: doi `{doi[:40]}` is not a DOI",
                       "a DOI looks like `10.1234/abcd`; put web addresses in `url`", code="bad-doi")
    for role in ("author", "editor"):
        raw = source.fields.get(role, "").strip()
        if not raw:
            continue
        try:
            for person in split_multiple_persons_names(raw):
                if not _is_one_group(person.strip()):
                    parse_single_name_into_parts(person)
        except InvalidNameError as exc:
            reason = str(exc).rsplit(":", 1)[-1].strip().lower()
            problems.error(source.path, line_of(role), f"`{source.key}`: cannot read the {role} list ({reason})",
                           "separate people with ` and `, write each as `Last, First`, and put an organisation in "
                           "braces: `{World Health Organization}`", code="bad-name")


class BibliographyLoader:
    """Loads every .bib under a folder; reparses a file only when its mtime or size changed."""

    def __init__(self) -> None:
        self._cache: dict[Path, _ParsedFile] = {}
        self.disk: Any = None  # a cache.ParsedBibCache for warm builds in new processes (set by build_project)

    def load(self, bib_dir: Path, root: Path | None = None) -> Bibliography:
        bib = Bibliography(problems=Problems(root=root))
        paths, refused = safefs.walk_files(bib_dir, ".bib", root)
        for unsafe in refused:  # a link out of bib/ (to .git/config, say) is never read
            bib.problems.error(unsafe.path, None, unsafe.message, unsafe.hint, code="unsafe-path")
        bib.files = paths
        for path in paths:
            stamp = _file_stamp(path)
            cached = self._cache.get(path)
            if cached is None or cached.stamp != stamp:
                stored = self.disk.get(path, root) if self.disk is not None else None
                if stored is not None:
                    sources, problems = stored
                else:
                    sources, problems = parse_bib_file(path, root)
                    for source in sources:
                        if not source.broken:
                            validate_source(source, problems)
                    if self.disk is not None:
                        self.disk.put(path, root, sources, problems)
                cached = _ParsedFile(stamp, sources, problems)
                self._cache[path] = cached
            bib.problems.extend(cached.problems)
            for source in cached.sources:
                if source.broken:
                    bib.broken.setdefault(source.key, source)
                    continue
                first = bib.sources.get(source.key)
                if first is not None:
                    if first.path != source.path:
                        bib.problems.error(source.path, source.line,
                                           f"duplicate key `{source.key}` (already defined in {first.path.name}, "
                                           f"line {first.line})", "keys must be unique across all files in bib/",
                                           code="duplicate-key")
                    continue
                bib.sources[source.key] = source
        folded: dict[str, Source] = {}
        for key, source in bib.sources.items():
            other = folded.setdefault(key.casefold(), source)
            if other is not source:
                bib.problems.warning(source.path, source.line,
                                     f"key `{key}` differs from `{other.key}` ({bib.problems.relative(other.path)}:"
                                     f"{other.line}) only by case", "BibTeX treats them as one key: rename one",
                                     code="duplicate-key")
        for group in hygiene.confusable_groups(bib.sources):
            model = next((key for key in group if key.isascii()), group[0])
            first = bib.sources[model]
            for key in group:
                if key != model:
                    source = bib.sources[key]
                    bib.problems.warning(source.path, source.line,
                                         f"key `{key}` looks the same as `{model}` ({bib.problems.relative(first.path)}:"
                                         f"{first.line}) but is another key",
                                         f"{hygiene.confusable_hint(key, model)}; rename one", code="confusable-key")
        _collect_aliases(bib)
        for key in list(bib.broken):
            if key in bib.sources:
                del bib.broken[key]
        for stale in set(self._cache) - set(paths):
            del self._cache[stale]
        return bib


def _collect_aliases(bib: Bibliography) -> None:
    """`ids` of every entry as aliases of its key; identifiers in their normal form. An alias that is another
    entry's key or another entry's alias is an error (a citation would not know which source it means)."""
    for key, source in bib.sources.items():
        line = source.field_lines.get("ids", source.line)
        for written in source.ids:
            alias = written
            if scheme_of(written):
                try:
                    alias = parse_identifier(written).key
                except IdentifierError as exc:
                    bib.problems.error(source.path, line, f"`{key}`: ids: {exc.message}", exc.hint, code="bad-identifier")
                    continue
            other = alias if alias in bib.sources else bib.aliases.get(alias)
            if other is not None and other != key:
                first = bib.sources[other]
                bib.problems.error(source.path, line, f"`{key}`: `{written}` also names `{other}` "
                                   f"({bib.problems.relative(first.path)}:{first.line})",
                                   "a key or identifier must name one source: keep it on one entry", code="duplicate-key")
                continue
            bib.aliases[alias] = key


def load_bibliography(bib_dir: Path, root: Path | None = None) -> Bibliography:
    """One-shot load (the CLI); the plugin keeps a `BibliographyLoader` between rebuilds."""
    return BibliographyLoader().load(bib_dir, root)


class ParsedBibCache:
    """Parsed and validated .bib files (sources + problems) in the cache store, one entry per file, valid for its
    content, path, root, the code and today's date (a cached check can never outlive a rule that depends on it).

    Parsing a 10 000-entry file takes seconds; reading it back from here takes a small fraction of that."""

    def __init__(self, cache_dir: Path):
        self.store = Store(cache_dir)

    def _key(self, path: Path, root: Path | None) -> str:
        return Store.key("bib", dt.date.today().isoformat(), file_digest(path), str(path.resolve()),
                         str(root.resolve()) if root else "")

    def get(self, path: Path, root: Path | None) -> tuple[list[Any], Problems] | None:
        data = self.store.read("bib", str(path.resolve()), self._key(path, root))
        try:
            if not isinstance(data, dict):
                return None
            sources = [Source(**{**item, "path": Path(item["path"])}) for item in data["sources"]]
            problems = Problems(root=root)
            problems.items = [Problem(**{**item, "severity": Severity(item["severity"])}) for item in data["problems"]]
        except (OSError, KeyError, TypeError, ValueError):
            return None
        return sources, problems

    def put(self, path: Path, root: Path | None, sources: list[Any], problems: Problems) -> None:
        try:
            data = {
                "sources": [{**_fields(source), "path": str(source.path)} for source in sources],
                "problems": [{**_fields(problem), "severity": problem.severity.value} for problem in problems.items],
            }
            key = self._key(path, root)
        except (OSError, TypeError):
            return
        self.store.write("bib", str(path.resolve()), key, data)


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's own fields (not derived values memoised on the instance)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
