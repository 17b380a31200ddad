"""Load BibTeX/biblatex source lists into `Source` objects, reporting every bad block with file and line."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import RemoveEnclosingMiddleware
from bibtexparser.middlewares.middleware import LibraryMiddleware
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

from .config import SOURCE_KINDS
from .errors import Problems

KIND_FIELD = "kind"
# Fields that hold machine-readable text: never LaTeX-decoded (it would mangle `&`, `%`, `~`).
VERBATIM_FIELDS = frozenset({"url", "doi", "urldate", "date", "year", "eprint", "archiveurl", "langid", "kind", "file"})
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: str(number) for number, name in enumerate(MONTH_NAMES, 1)}
_LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


def did_you_mean(word: str, choices: list[str] | set[str] | dict[str, Any]) -> str:
    """A 'did you mean' hint, or an empty string when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def decode_latex(value: str) -> str:
    """LaTeX accents and escapes to Unicode; plain text skips the decoder entirely."""
    if not any(ch in value for ch in "\\{}~$") and "--" not in value:
        return value
    text = _LATEX.latex_to_text(value)
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

    @property
    def kind(self) -> str:
        return self.fields.get(KIND_FIELD, "other").strip().lower() or "other"

    @property
    def kind_label(self) -> str:
        return SOURCE_KINDS.get(self.kind, self.kind)

    def text(self, name: str) -> str:
        """A field as readable Unicode text (LaTeX decoded, except verbatim fields)."""
        return self._decoded.get(name, "")

    @cached_property
    def _decoded(self) -> dict[str, str]:
        return {
            name: (value.strip() if name in VERBATIM_FIELDS else decode_latex(value))
            for name, value in self.fields.items()
        }

    @property
    def url(self) -> str:
        return self.fields.get("url", "").strip()

    @property
    def doi(self) -> str:
        doi = self.fields.get("doi", "").strip()
        return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi, flags=re.I)

    @property
    def archive_url(self) -> str:
        return self.fields.get("archiveurl", "").strip()

    def persons(self, name: str = "author") -> list[dict[str, str]]:
        """Authors as CSL name objects; a braced name is an organisation."""
        raw = self.fields.get(name, "").strip()
        if not raw:
            return []
        people = []
        for person in split_multiple_persons_names(raw):
            person = person.strip()
            if person.startswith("{") and person.endswith("}"):
                people.append({"literal": decode_latex(person[1:-1])})
                continue
            parts = parse_single_name_into_parts(person)
            family = " ".join(parts.von + parts.last)
            entry = {"family": decode_latex(family), "given": decode_latex(" ".join(parts.first))}
            if parts.jr:
                entry["suffix"] = decode_latex(" ".join(parts.jr))
            people.append(entry)
        return people

    def fingerprint(self) -> str:
        """Content hash used to key caches of formatted references."""
        payload = "\x1f".join(f"{k}={v}" for k, v in sorted(self.fields.items()))
        return hashlib.sha256(f"{self.entry_type}\x1e{payload}".encode()).hexdigest()[:20]


@dataclass
class Bibliography:
    """Every source of a project by key, and the problems found loading them."""

    sources: dict[str, Source] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    files: list[Path] = field(default_factory=list)

    def __contains__(self, key: str) -> bool:
        return key in self.sources

    def __getitem__(self, key: str) -> Source:
        return self.sources[key]


def _split_concatenation(value: str) -> list[str] | None:
    """Split `a # {b} # "c"` at top-level `#`; None when there is no concatenation."""
    parts, depth, quoted, current = [], 0, False, []
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


class ResolveMacrosMiddleware(LibraryMiddleware):
    """Resolve `@string` macros, month names and `#` concatenation (bibtexparser leaves `#` alone)."""

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)
        self.undefined: list[tuple[Entry, str, str]] = []

    @classmethod
    def metadata_key(cls) -> str:
        return "ResolveMacros"

    def transform(self, library: Library) -> Library:
        macros = dict(MONTHS)
        for string in library.strings:
            macros[string.key.lower()] = self._literal(string.value, macros)
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
                fld.value = "{" + "".join(resolved) + "}"
        return library

    @staticmethod
    def _is_enclosed(value: str) -> bool:
        value = value.strip()
        return len(value) >= 2 and ((value[0] == "{" and value[-1] == "}") or (value[0] == '"' and value[-1] == '"'))

    def _literal(self, value: str, macros: dict[str, str]) -> str:
        pieces = _split_concatenation(value) or [value]
        out = []
        for piece in pieces:
            piece = piece.strip()
            if self._is_enclosed(piece):
                out.append(piece[1:-1])
            else:
                out.append(macros.get(piece.lower(), piece))
        return "".join(out)


def _failure_message(block: ParsingFailedBlock) -> tuple[str, str]:
    reason = getattr(block.error, "abort_reason", None) or str(block.error)
    error = reason.strip().splitlines()
    detail = error[-1].strip() if error else "syntax error"
    if "end of file" in detail.lower():
        return f"malformed BibTeX: {detail}", "look for an unclosed `{` or `\"` in this entry"
    if "comma" in detail.lower():
        return f"malformed BibTeX: {detail}", "fields are separated by commas: `title = {...},`"
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
    problems = Problems(root=root)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})", "save the file as UTF-8")
        return [], problems
    macros = ResolveMacrosMiddleware()
    library = bibtexparser.parse_string(text, parse_stack=[macros, RemoveEnclosingMiddleware()])
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            first = (block.previous_block.start_line or 0) + 1
            problems.error(path, line, f"duplicate key `{block.key}` (first defined on line {first})",
                           "give each entry its own key", code="duplicate-key")
        elif isinstance(block, ParsingFailedBlock):
            message, hint = _failure_message(block)
            problems.error(path, line, message, hint, code="bibtex-syntax")
        else:
            problems.error(path, line, f"could not read this block: {type(block).__name__}", code="bibtex-syntax")
    for entry, field_key, macro in macros.undefined:
        problems.error(path, (entry.start_line or 0) + 1,
                       f"`{entry.key}`: field `{field_key}` uses undefined @string macro `{macro}`",
                       "define it with `@string{name = {value}}` or put the value in braces", code="bibtex-string")
    sources = []
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        lines = {f.key.lower(): (f.start_line or entry.start_line or 0) + 1 for f in entry.fields}
        sources.append(Source(entry.key, entry.entry_type.lower(), fields, path, (entry.start_line or 0) + 1, lines))
    return sources, problems


def validate_source(source: Source, problems: Problems) -> None:
    """Per-entry rules: kind from the vocabulary, required fields, safe URLs."""
    kind = source.fields.get(KIND_FIELD)
    if kind is None:
        problems.warning(source.path, source.line, f"`{source.key}` has no `{KIND_FIELD}` field; counted as `other`",
                         f"add `{KIND_FIELD} = {{news}}` (one of: {', '.join(SOURCE_KINDS)})", code="missing-kind")
    elif source.kind not in SOURCE_KINDS:
        hint = did_you_mean(source.kind, SOURCE_KINDS) or f"use one of: {', '.join(SOURCE_KINDS)}"
        problems.error(source.path, source.field_lines.get(KIND_FIELD, source.line),
                       f"`{source.key}`: unknown source kind `{source.kind}`", hint, code="unknown-kind")
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
    for name in ("url", "archiveurl"):
        value = source.fields.get(name, "").strip()
        if value and not re.match(r"^https?://", value, flags=re.I):
            problems.error(source.path, source.field_lines.get(name, source.line),
                           f"`{source.key}`: {name} must start with http:// or https://, not `{value[:40]}`",
                           "only web links are allowed in references", code="unsafe-url")


class BibliographyLoader:
    """Loads every .bib under a folder; reparses a file only when its mtime or size changed."""

    def __init__(self) -> None:
        self._cache: dict[Path, _ParsedFile] = {}

    def load(self, bib_dir: Path, root: Path | None = None) -> Bibliography:
        bib = Bibliography(problems=Problems(root=root))
        paths = sorted(bib_dir.rglob("*.bib")) if bib_dir.is_dir() else []
        bib.files = paths
        for path in paths:
            stamp = _file_stamp(path)
            cached = self._cache.get(path)
            if cached is None or cached.stamp != stamp:
                sources, problems = parse_bib_file(path, root)
                for source in sources:
                    validate_source(source, problems)
                cached = _ParsedFile(stamp, sources, problems)
                self._cache[path] = cached
            bib.problems.extend(cached.problems)
            for source in cached.sources:
                first = bib.sources.get(source.key)
                if first is not None:
                    where = first.path.name if first.path != source.path else "this file"
                    bib.problems.error(source.path, source.line,
                                       f"duplicate key `{source.key}` (already defined in {where}, line {first.line})",
                                       "keys must be unique across all files in bib/", code="duplicate-key")
                    continue
                bib.sources[source.key] = source
        for stale in set(self._cache) - set(paths):
            del self._cache[stale]
        return bib


def load_bibliography(bib_dir: Path, root: Path | None = None) -> Bibliography:
    """One-shot load (the CLI); the plugin keeps a `BibliographyLoader` between rebuilds."""
    return BibliographyLoader().load(bib_dir, root)
