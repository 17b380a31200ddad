"""Sources by identifier on the build side: identifiers in normal form, `ids` as aliases, the resolved-sources
file written so that it reads back as fetched (by our reader and by Pandoc's), readable keys, and what a reader
sees for a dead link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.build import Project, build_project
from generator.identifiers import Identifier, IdentifierError, guess_identifier, parse_identifier
from generator.sources.bib import parse_bib_text
from generator.sources.references import pandoc_csl
from generator.sources.resolved import (
    HEADER,
    ResolvedEntry,
    ResolvedFile,
    bibtex_text,
    citekey,
    clean,
    entry_fields,
    matched_braces,
)

from .conftest import MINIMAL_BIB

TODAY = dt.date(2026, 11, 28)


@dataclass
class Person:
    family: str = ""
    given: str = ""
    literal: str = ""


@dataclass
class Meta:
    identifier: Identifier
    entry_type: str
    fields: dict[str, str]
    authors: list[Person] = field(default_factory=list)
    editors: list[Person] = field(default_factory=list)
    kind: str = "news"
    kind_basis: str = "JSON-LD NewsArticle"
    service: str = "web page"
    content_hash: str = ""


@pytest.mark.parametrize(("written", "key"), [
    ("10.1038/NATURE12373", "doi:10.1038/nature12373"),
    ("https://doi.org/10.1056/NEJMoa2034577", "doi:10.1056/nejmoa2034577"),
    ("doi:https://dx.doi.org/10.1056/x", "doi:10.1056/x"),
    ("PMC0123", "pmcid:PMC123"),
    ("https://pubmed.ncbi.nlm.nih.gov/31537788/", "pmid:31537788"),
    ("pmid:031537788", "pmid:31537788"),
    ("arXiv:2401.01234v2", "arxiv:2401.01234v2"),
    ("https://arxiv.org/abs/hep-th/9901001", "arxiv:hep-th/9901001"),
    ("978-0-262-03384-8", "isbn:9780262033848"),
    ("0-262-03384-4", "isbn:9780262033848"),  # ISBN-10 → ISBN-13
    ("https://Example.COM:443/a b,c?x=1&y={z}#top", "url:https://example.com/a%20b%2Cc?x=1&y=%7Bz%7D"),
    ("url:http://пример.рф/путь", "url:http://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"),
])
def test_identifiers_have_one_normal_form(written: str, key: str) -> None:
    assert guess_identifier(written).key == key
    assert parse_identifier(key).key == key  # the normal form is a fixed point


@pytest.mark.parametrize(("key", "message"), [
    ("doi:11.1/x", "is not a DOI"), ("isbn:9780262033849", "the check digit is wrong"),
    ("isbn:0-262-03384-5", "the check digit is wrong"), ("pmid:abc", "is not a PubMed id"),
    ("url:ftp://example.org/", "is not a web address"), ("arxiv:1234", "is not an arXiv id"),
])
def test_malformed_identifiers_say_what_one_looks_like(key: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=message) as caught:
        parse_identifier(key)
    assert caught.value.hint


def test_a_citation_by_identifier_is_the_entry_that_holds_it(make_project) -> None:
    """`ids` makes an identifier (in any spelling of it) another name for the entry: one reference, one number."""
    bib = MINIMAL_BIB.replace("  doi = {10.1234/example.5678},",
                              "  doi = {10.1234/example.5678},\n  ids = {doi:10.1234/example.5678, url:https://example.org/beta},")
    root = make_project(**{"bib/sources.bib": bib, "content/example/evidence.md":
                           "The study [@doi:10.1234/EXAMPLE.5678, p. 12], @{url:https://Example.org/beta#x} and [@beta2024].\n"})
    result = build_project(Project(root=root))
    assert result.problems.errors == []
    report = result.rendered[0]
    assert [e.source.key for e in report.references] == ["alpha2025", "gamma2025", "beta2024"]
    evidence = next(section.html for section in report.sections if section.kind == "evidence")
    assert "doi:10.1234/EXAMPLE" not in evidence and "url:https" not in evidence  # numbers, as for any citation
    assert [a for a in ("[3, p. 12]", "[3]") if a in evidence.striptags()] == ["[3, p. 12]", "[3]"]


def test_pandoc_and_our_reader_read_back_what_was_fetched(tmp_path: Path) -> None:
    meta = Meta(Identifier("url", "https://example.org/a"), "online",
                {"title": "Vaccine -- \"trial\" 100% & {done}_ #1 ~ C:\\temp ^^ `x' ''", "organization": "Site, Inc.",
                 "date": "2025-01-02"},
                [Person("van der Berg", "Anna"), Person(literal="World Health Organization and Partners")])
    entry = ResolvedEntry("k", "online", entry_fields(meta, TODAY))
    sources, problems = parse_bib_text(HEADER + "\n" + entry.text(), tmp_path / "resolved.bib")
    assert problems.errors == []
    source = sources[0]
    assert source.text("title") == "Vaccine -- \"trial\" 100% & {done}_ #1 ~ C:\\temp ^^ \u2018x' ''"
    assert source.persons() == [{"family": "van der Berg", "given": "Anna"},
                                {"literal": "World Health Organization and Partners"}]
    item = pandoc_csl(sources)["k"]
    assert item["title"].translate(_QUOTES) == "Vaccine -- \"trial\" 100% & {done}_ #1 ~ C:\\temp ^^ 'x' ''"
    assert item["author"][1] == {"literal": "World Health Organization and Partners"}
    assert source.fields["kind"] == "news" and source.fields["kindstatus"] == "proposed: JSON-LD NewsArticle"
    assert source.fields["urldate"] == "2026-11-28" and source.fields["ids"] == "url:https://example.org/a"


_PIECES = st.sampled_from([*"ab -'`\"\\{}%&#$_~^<>!?,.;:", "--", "---", "''", "ы", "\u202e", "\n", "\x1b"])
_TEXT = st.lists(_PIECES, min_size=1, max_size=12).map("".join).filter(lambda t: clean(matched_braces(t)) != "")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@settings(max_examples=150, deadline=None)
@given(_TEXT, _TEXT)
def test_any_fetched_text_reads_back_as_written(title: str, org: str) -> None:
    """Whatever a service answers, the entry parses without error, and both readers give back its text
    (controls and unpaired braces dropped; Pandoc's typographic quotes aside)."""
    meta = Meta(Identifier("url", "https://example.org/a"), "online",
                {"title": title, "organization": org, "date": "2025-01-02"})
    entry = ResolvedEntry("k", "online", entry_fields(meta, TODAY))
    sources, problems = parse_bib_text(HEADER + "\n" + entry.text(), Path("resolved.bib"))
    assert problems.errors == [], entry.text()
    want_title, want_org = clean(matched_braces(title)).translate(_QUOTES), clean(matched_braces(org)).translate(_QUOTES)
    assert sources[0].text("title").translate(_QUOTES) == want_title
    assert sources[0].text("organization").translate(_QUOTES) == want_org
    assert pandoc_csl(sources)["k"]["title"].translate(_QUOTES) == want_title


def test_escaping_leaves_no_command_and_balances_braces() -> None:
    text = bibtex_text("\\input{/etc/passwd} } {")
    assert text == r"\textbackslash{}input\{/etc/passwd\}"
    assert "\\input" not in text


@pytest.mark.parametrize(("meta", "key"), [
    (Meta(Identifier("doi", "10.5555/x"), "article", {"title": "The Effect of Vaccines", "date": "2024-03"},
          [Person("Müller", "Hans")]), "muller2024effect"),
    (Meta(Identifier("url", "https://example.org/"), "online", {"title": "Статья", "date": "2025"},
          [Person("Иванов", "Иван")]), "url"),
    (Meta(Identifier("url", "https://example.org/"), "online", {"title": "A new study on mice", "date": "2025",
                                                                "organization": "Example Agency"}), "example2025new"),
])
def test_keys_are_readable(meta: Meta, key: str) -> None:
    made = citekey(meta, set())
    assert made.startswith(key)
    if key == "url":  # no Latin letters to make a word of: the identifier's hash
        assert len(made) == len("url") + 8


def test_a_taken_key_gets_a_letter() -> None:
    meta = Meta(Identifier("doi", "10.5555/x"), "article", {"title": "Effect", "date": "2024"}, [Person("Smith", "J")])
    assert citekey(meta, {"smith2024effect"}) == "smith2024effecta"
    assert citekey(meta, {"Smith2024effect", "smith2024effecta"}) == "smith2024effectb"


def test_the_resolved_file_keeps_what_the_writer_edited(tmp_path: Path) -> None:
    (tmp_path / "bib").mkdir()
    resolved = ResolvedFile.load(tmp_path / "bib", tmp_path)
    meta = Meta(Identifier("doi", "10.5555/x"), "article", {"title": "Effect", "date": "2024"}, [Person("Smith", "J")],
                kind="peer-reviewed", kind_basis="Crossref type journal-article", service="Crossref")
    key = resolved.add(meta, TODAY, set()).key
    resolved.save()
    path = tmp_path / "bib" / "resolved.bib"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("% Sources resolved by identifier")
    path.write_text(text.replace("  kindstatus = {proposed: Crossref type journal-article},\n", "")
                    .replace("{{Effect}}", "{{The effect, corrected}}"), encoding="utf-8")
    again = ResolvedFile.load(tmp_path / "bib", tmp_path)
    again.set(key, archiveurl="https://web.archive.org/web/2026/https://doi.org/10.5555/x", archivedate="2026-11-28")
    again.save()
    final = path.read_text(encoding="utf-8")
    entry = final.split("@article")[1]
    assert "{{The effect, corrected}}" in entry and "kindstatus" not in entry
    assert "archivedate  = {2026-11-28}" in final or "archivedate = {2026-11-28}" in final


def test_the_resolved_file_is_never_written_through_a_link(tmp_path: Path) -> None:
    from generator import safefs

    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "desk"
    root.mkdir()
    (root / "bib").mkdir()
    (root / "bib" / "resolved.bib").symlink_to(outside / "x.bib")
    resolved = ResolvedFile(root / "bib" / "resolved.bib")
    resolved.problems.root = root
    with pytest.raises(safefs.UnsafePath):
        resolved.save()
    assert not (outside / "x.bib").exists()


def test_a_dead_link_and_its_archived_copy_are_shown(make_project) -> None:
    bib = MINIMAL_BIB.replace("  urldate = {2026-01-27},\n  kind = {news},", "  urldate = {2026-01-27},\n"
                              "  archiveurl = {https://web.archive.org/web/20260101000000/https://example.org/alpha},\n"
                              "  archivedate = {2026-01-01},\n  urlstatus = {dead},\n  urlchecked = {2026-11-28},\n"
                              "  kind = {news},", 1)
    root = make_project(**{"bib/sources.bib": bib})
    result = build_project(Project(root=root))
    assert result.problems.errors == []
    from generator.cli import main

    assert main(["build", str(root), "--no-pdf"]) == 0
    html = (root / "site" / "example" / "index.html").read_text(encoding="utf-8")
    assert ('<strong class="rg-link-dead">Link dead when checked <time datetime="2026-11-28">November 28, 2026</time>'
            '</strong>') in html
    assert ('<a href="https://web.archive.org/web/20260101000000/https://example.org/alpha">Archived copy</a> '
            '(<time datetime="2026-01-01">January 1, 2026</time>)') in html
