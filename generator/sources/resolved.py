"""The committed file of sources resolved by identifier (`bib/resolved.bib`): readable BibTeX that `report sources`
writes and a writer reviews and corrects like any other source list.

Values come from services on the network, so they are written as text, never as markup: every character BibTeX or
LaTeX would read as a command is escaped (`\\&`, `\\{`, `\\textbackslash{}`), web addresses are percent-encoded, and
braces always balance. A title goes in double braces, so its capitals stay as the publisher wrote them. Reading
the file back (our reader or Pandoc's) gives the text that was fetched; a property test holds it to that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from generator import safefs
from generator.citations import KEY
from generator.errors import Problems
from generator.identifiers import Identifier
from generator.sources.bib import PROPOSED, parse_bib_file

RESOLVED_FILE = "resolved.bib"
HEADER = """\
% Sources resolved by identifier: `report sources add` and `report sources resolve` write this file, and
% `report links` records dead links and archived copies in it. Review it like any source list: check each
% entry against its source, correct what the service got wrong, and confirm each `kind` (then delete its
% `kindstatus` line). Cite an entry by its key or by any identifier in its `ids`.
"""
MAX_VALUE = 2000
# Field order in a written entry: what a reviewer reads first.
ORDER = ("ids", "author", "editor", "title", "subtitle", "journaltitle", "booktitle", "organization", "institution",
         "publisher", "location", "edition", "volume", "number", "pages", "pagetotal", "type", "howpublished", "date",
         "eprinttype", "eprint", "eprintclass", "doi", "isbn", "issn", "url", "urldate", "urlhash", "langid",
         "archiveurl", "archivedate", "urlstatus", "urlchecked", "kind", "kindstatus")
VERBATIM = frozenset({"ids", "doi", "url", "urldate", "urlhash", "archiveurl", "archivedate", "urlstatus", "urlchecked",
                      "date", "eprint", "eprinttype", "eprintclass", "isbn", "issn", "langid", "kind", "kindstatus"})
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
                  "_": r"\_", "~": r"\textasciitilde{}",
                  "`": "\u2018"}  # TeX has no plain backtick: Pandoc reads it as an opening quote, so it is written as one
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class PersonLike(Protocol):
    family: str
    given: str
    literal: str


class MetadataLike(Protocol):
    identifier: Identifier
    entry_type: str
    fields: dict[str, str]
    @property
    def authors(self) -> Sequence[PersonLike]: ...
    @property
    def editors(self) -> Sequence[PersonLike]: ...
    kind: str
    kind_basis: str
    service: str
    content_hash: str


def clean(value: str) -> str:
    """One line of text: controls and direction marks out, whitespace collapsed, at most MAX_VALUE characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:MAX_VALUE]


def matched_braces(text: str) -> str:
    """The text without the braces that have no partner: BibTeX counts `\\{` and `\\}` too, so only braces in
    pairs can be written (one stray brace in a fetched title would run the value into the next field)."""
    stack: list[int] = []
    stray: set[int] = set()
    for i, ch in enumerate(text):
        if ch == "{":
            stack.append(i)
        elif ch == "}":
            if stack:
                stack.pop()
            else:
                stray.add(i)
    stray.update(stack)
    return "".join(ch for i, ch in enumerate(text) if i not in stray)


def bibtex_text(value: str) -> str:
    """Plain text as the value of a BibTeX field: LaTeX's special characters escaped, so it reads back as written
    (but for a brace without a partner, which is dropped)."""
    text = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in clean(matched_braces(value)))
    # TeX ligatures that would change the text: `--` (a dash), `''` (a closing quote), `^^` (a character code)
    return re.sub(r"([-'^])(?=\1)", r"\1{}", text)


def bibtex_verbatim(value: str) -> str:
    """A machine-readable value (address, date, identifier): spaces, braces and backslashes percent-encoded."""
    value = clean(value)
    for ch, code in (("\\", "%5C"), ("{", "%7B"), ("}", "%7D"), (" ", "%20")):
        value = value.replace(ch, code)
    return value


def bibtex_names(people: Sequence[PersonLike]) -> str:
    """`Family, Given and {Organisation}`: each part braced when it holds a comma or the word `and`."""
    names = []
    for person in people:
        if person.literal or not person.family:
            names.append("{" + bibtex_text(person.literal or person.given) + "}")
            continue
        family, given = bibtex_text(person.family), bibtex_text(person.given)
        if "," in family or re.search(r"\band\b", family, re.I) or " " in family:
            family = "{" + family + "}"
        if "," in given or re.search(r"\band\b", given, re.I):
            given = "{" + given + "}"
        names.append(f"{family}, {given}" if given else family)
    return " and ".join(name for name in names if name.strip("{} "))


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


STOPWORDS = frozenset({"the", "a", "an", "of", "on", "in", "and", "for", "to", "with", "from", "at", "by", "is", "are",
                       "der", "die", "das", "le", "la", "les", "el", "los", "un", "une", "de", "del"})


def citekey(meta: MetadataLike, taken: set[str]) -> str:
    """A readable key as reference managers make them (`smith2024vaccine`): first author's family name (or the
    organisation, or the site), year, first word of the title; `a`, `b`… when taken; the identifier's hash when the
    names have no Latin letters."""
    people = meta.authors or meta.editors
    who = ""
    if people:
        who = people[0].family or (people[0].literal.split() or [""])[0]
    who = who or (meta.fields.get("organization") or meta.fields.get("publisher") or "").split(" ")[0]
    year = meta.fields.get("date", "")[:4] if re.match(r"\d{4}", meta.fields.get("date", "")) else ""
    words = [w for w in (_ascii_word(t) for t in re.split(r"[\s\-–—:/]+", meta.fields.get("title", ""))) if w]
    word = next((w for w in words if w not in STOPWORDS and len(w) > 2), words[0] if words else "")
    base = _ascii_word(who)[:20] + year + word[:20]
    if not re.search(r"[a-z]", base[:1] or "") or len(base) < 5:
        base = meta.identifier.scheme + hashlib.sha256(meta.identifier.key.encode()).hexdigest()[:8]
    key, n = base, 0
    while key in taken or key.casefold() in {t.casefold() for t in taken}:
        key = base + chr(ord("a") + n) if n < 26 else f"{base}{n}"
        n += 1
    assert re.fullmatch(KEY, key)
    return key


def entry_fields(meta: MetadataLike, today: dt.date) -> dict[str, str]:
    """The BibTeX values (escaped) of a resolved source, with the fields of ours: ids, urldate, urlhash, kind."""
    values: dict[str, str] = {"ids": bibtex_verbatim(meta.identifier.key)}
    if meta.authors:
        values["author"] = bibtex_names(meta.authors)
    if meta.editors:
        values["editor"] = bibtex_names(meta.editors)
    for name, value in meta.fields.items():
        name = name.lower()
        if not re.fullmatch(r"[a-z][a-z0-9-]*", name) or not clean(value) or name in ("ids", "kind", "kindstatus"):
            continue
        if name == "title":
            values[name] = "{" + bibtex_text(value) + "}"  # double braces: capitals as published
        elif name in VERBATIM:
            values[name] = bibtex_verbatim(value)
        else:
            values[name] = bibtex_text(value)
    if "url" not in values:
        values["url"] = bibtex_verbatim(meta.identifier.url)
    values["urldate"] = today.isoformat()
    if meta.content_hash:
        values["urlhash"] = bibtex_verbatim(meta.content_hash)
    values["kind"] = bibtex_verbatim(meta.kind)
    values["kindstatus"] = bibtex_text(f"{PROPOSED}: {meta.kind_basis or meta.service}")
    return values


@dataclass
class ResolvedEntry:
    key: str
    entry_type: str
    values: dict[str, str]  # as written in the file (BibTeX, already escaped)

    def text(self) -> str:
        names = sorted(self.values, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), 0))
        width = max((len(n) for n in names), default=0)
        lines = [f"  {name.ljust(width)} = {{{self.values[name]}}}," for name in names]
        return "@{}{{{},\n{}\n}}\n".format(self.entry_type, self.key, "\n".join(lines))


@dataclass
class ResolvedFile:
    """The entries of bib/resolved.bib in file order; `save` rewrites the file (entries the writer edited keep
    their values, since values are kept as written)."""

    path: Path
    entries: dict[str, ResolvedEntry] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)

    @classmethod
    def load(cls, bib_dir: Path, root: Path) -> ResolvedFile:
        path = bib_dir / RESOLVED_FILE
        found = cls(path, problems=Problems(root=root))
        if not path.exists() and not path.is_symlink():
            return found
        sources, problems = parse_bib_file(path, root)
        found.problems = problems
        for source in sources:
            if not source.broken:
                found.entries[source.key] = ResolvedEntry(source.key, source.entry_type,
                                                          {**source.fields, **source.private})
        return found

    @property
    def readable(self) -> bool:
        """False when the file has errors: it is then left alone (rewriting would drop what could not be read)."""
        return not self.problems.errors

    def add(self, meta: MetadataLike, today: dt.date, taken: set[str]) -> ResolvedEntry:
        key = citekey(meta, taken | set(self.entries))
        entry = ResolvedEntry(key, meta.entry_type if re.fullmatch(r"[a-z]+", meta.entry_type) else "misc",
                              entry_fields(meta, today))
        self.entries[key] = entry
        return entry

    def add_id(self, key: str, identifier: Identifier) -> None:
        """Another identifier of the same work (its PubMed id beside its DOI) in the entry's `ids`."""
        values = self.entries[key].values
        ids = [alias.strip() for alias in values.get("ids", "").split(",") if alias.strip()]
        values["ids"] = ", ".join(dict.fromkeys([*ids, bibtex_verbatim(identifier.key)]))

    def set(self, key: str, **values: str | None) -> None:
        """Set (or, with None, remove) verbatim fields of an entry: archiveurl, archivedate, urlstatus, urlchecked."""
        entry = self.entries[key]
        for name, value in values.items():
            if value is None:
                entry.values.pop(name, None)
            else:
                entry.values[name] = bibtex_verbatim(value)

    def text(self) -> str:
        return HEADER + "".join("\n" + entry.text() for entry in self.entries.values())

    def save(self) -> None:
        root = self.problems.root or self.path.parent
        reason = safefs.check_folder(Path(os.path.relpath(self.path.parent, root)), root, "bib_dir", allow_symlink=False)
        if reason:  # never written through a link out of the project
            raise safefs.UnsafePath(self.path, reason, "make bib/ a regular folder inside the project")
        if self.path.is_symlink():
            raise safefs.UnsafePath(self.path, "is a symbolic link; it is not written", "replace it with a regular file")
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(self.text(), encoding="utf-8")
        tmp.replace(self.path)
