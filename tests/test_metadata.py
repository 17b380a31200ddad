"""Metadata for cited identifiers (generator/net/metadata.py, generator/net/webpage.py) against local fakes of
Crossref, DataCite, NCBI, arXiv, Open Library and web pages (tests/fake_services.py): field mapping, proposed
kinds, failures as readable ResolveErrors, retries, charsets, hostile answers and polite requests."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from generator.config import SOURCE_KINDS
from generator.identifiers import parse_identifier
from generator.net.http import PoliteClient
from generator.net.metadata import (
    MAX_TEXT,
    Metadata,
    Person,
    ResolveError,
    clean_text,
    clean_url,
    iso_date,
    resolve,
    split_name,
)
from generator.net.webpage import MAX_JSON_LD, WebPage, official_host, proposed_kind, read_page

from .fake_services import CONTACT, FakeServices


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServices]:
    with FakeServices() as services:
        yield services


def run(fake: FakeServices, key: str, **overrides: object) -> Metadata:
    settings = fake.settings(**overrides)

    async def go() -> Metadata:
        async with PoliteClient(settings) as client:
            return await resolve(parse_identifier(key), client, settings)

    return asyncio.run(go())


def fails(fake: FakeServices, key: str, **overrides: object) -> ResolveError:
    with pytest.raises(ResolveError) as info:
        run(fake, key, **overrides)
    assert info.value.identifier == parse_identifier(key)
    return info.value


def web(fake: FakeServices, path: str, **overrides: object) -> Metadata:
    return run(fake, f"url:{fake.url(path)}", **overrides)


def texts(metadata: Metadata) -> list[str]:
    people = [part for p in metadata.authors + metadata.editors for part in (p.family, p.given, p.literal)]
    return [*metadata.fields.values(), *people, metadata.kind_basis]


def assert_harmless(metadata: Metadata) -> None:
    for text in texts(metadata):
        assert "<" not in text and ">" not in text, text
        assert len(text) <= MAX_TEXT
        assert text == text.strip() and "  " not in text
        bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\u200c\u200d"]
        assert bad == [], (text, bad)
        assert not text.lower().startswith("javascript:"), text
    url = metadata.fields.get("url")
    assert url is None or url.startswith(("http://", "https://"))
    assert metadata.kind in SOURCE_KINDS


# --- DOI ------------------------------------------------------------------------------------------------------

def test_crossref_journal_article(fake: FakeServices) -> None:
    metadata = run(fake, "doi:10.5555/EVD.2025.001")
    assert metadata == Metadata(
        identifier=parse_identifier("doi:10.5555/evd.2025.001"), entry_type="article",
        fields={"title": "Safety of an oncolytic Enterovirus vaccine candidate: H2O-free storage & a phase 1 trial",
                "subtitle": "A first report", "journaltitle": "Journal of Example Oncology", "volume": "12", "number": "4",
                "pages": "211-219", "date": "2025-09-08", "doi": "10.5555/evd.2025.001",
                "url": "https://doi.org/10.5555/evd.2025.001", "issn": "9999-0001", "langid": "en"},
        authors=[Person("Example", "Anna"), Person("van den Berg", "Pieter"), Person(literal="Example Trial Group")],
        editors=[], kind="peer-reviewed", kind_basis="Crossref type article-journal", service="Crossref")


def test_doi_content_negotiation_is_polite(fake: FakeServices) -> None:
    run(fake, "doi:10.5555/evd.2025.001")
    method, path, headers = next(r for r in fake.requests if r[1] == "/doi/10.5555/evd.2025.001")
    assert method == "GET"
    assert headers["accept"] == "application/vnd.citationstyles.csl+json"
    assert f"mailto:{CONTACT}" in headers["user-agent"] and "evidence-desk/" in headers["user-agent"]
    assert any(p.startswith("/crossref/v1/works/10.5555/evd.2025.001/") for _, p, _ in fake.requests)


def test_crossref_preprint_is_an_online_preprint(fake: FakeServices) -> None:
    metadata = run(fake, "doi:10.5555/evd.2025.002")
    assert (metadata.entry_type, metadata.kind, metadata.service) == ("online", "preprint", "Crossref")
    assert metadata.kind_basis == "Crossref type posted-content, subtype preprint"
    assert metadata.fields == {"title": "Immune response to an enterovirus vaccine in mice", "organization": "exampleRxiv",
                               "date": "2025-06-01", "doi": "10.5555/evd.2025.002",
                               "url": "https://doi.org/10.5555/evd.2025.002"}
    assert metadata.authors == [Person("Testov", "Boris"), Person("Li", "Chen")]


def test_crossref_chapter_with_editors(fake: FakeServices) -> None:
    metadata = run(fake, "doi:10.5555/evd.2025.003")
    assert (metadata.entry_type, metadata.kind) == ("incollection", "reference")
    assert metadata.fields == {
        "title": "Oncolytic viruses: a short history", "booktitle": "Handbook of Example Therapies",
        "publisher": "Example University Press", "location": "Example City", "pages": "45-67", "edition": "2",
        "date": "2024", "doi": "10.5555/evd.2025.003", "url": "https://doi.org/10.5555/evd.2025.003",
        "isbn": "9780000000019", "langid": "en-GB"}
    assert metadata.authors == [Person("Sample", "Dana")]
    assert metadata.editors == [Person("Muster", "Erik"), Person("Beispiel", "Fatima")]


def test_datacite_is_told_from_the_redirects(fake: FakeServices) -> None:
    metadata = run(fake, "doi:10.5555/evd.2025.004")  # 302 then 303, as doi.org and data.datacite.org answer
    assert metadata == Metadata(
        identifier=parse_identifier("doi:10.5555/evd.2025.004"), entry_type="dataset",
        fields={"title": "Trial data for an enterovirus vaccine candidate", "publisher": "Example Data Repository",
                "version": "1.2", "date": "2025-02-14", "doi": "10.5555/evd.2025.004",
                "url": "https://data.example.org/record/4", "langid": "en"},
        authors=[Person("Example", "Anna"), Person(literal="Example Trial Group")], editors=[], kind="other",
        kind_basis="DataCite type dataset", service="DataCite")


def test_datacite_is_told_from_the_answer(fake: FakeServices) -> None:
    with FakeServices() as own:
        article = own.routes["/crossref/v1/works/10.5555/evd.2025.001/transform/application/vnd.citationstyles.csl+json"]
        assert isinstance(article.body, bytes)
        article.body = article.body.replace(b'"source":"Crossref"', b'"source":"DataCite"')
        metadata = run(own, "doi:10.5555/evd.2025.001")
    assert (metadata.service, metadata.kind_basis) == ("DataCite", "DataCite type article-journal")


@pytest.mark.parametrize(("key", "reason"), [
    ("doi:10.5555/evd.missing", "no such DOI"),
    ("doi:10.5555/evd.broken", "unreadable answer from 127.0.0.1"),
    ("doi:10.5555/evd.landing", "the DOI's registration agency offers no citation metadata"),
    ("doi:10.5555/evd.loop", "too many redirects"),
    ("doi:10.5555/evd.javascript", "redirect to an invalid address"),
])
def test_doi_failures_are_readable(fake: FakeServices, key: str, reason: str) -> None:
    error = fails(fake, key)
    assert error.reason == reason
    assert error.hint
    assert str(error) == f"{key}: {reason}"


def test_a_failing_service_is_retried_then_reported() -> None:
    with FakeServices() as fake:
        error = fails(fake, "doi:10.5555/evd.failing")
        assert error.reason == "HTTP 503 from 127.0.0.1"
        assert fake.count("/doi/10.5555/evd.failing") == 3  # retries=2


def test_a_connection_closed_mid_body_is_retried_then_reported() -> None:
    with FakeServices() as fake:
        error = fails(fake, "doi:10.5555/evd.cut")
        assert error.reason == "broken response"
        assert "127.0.0.1" in error.hint
        assert fake.count("/doi/10.5555/evd.cut") == 3


def test_a_slow_answer_times_out(fake: FakeServices) -> None:
    start = time.monotonic()
    assert fails(fake, "doi:10.5555/evd.slow", timeout=0.3, retries=0).reason == "timeout"
    assert time.monotonic() - start < 1.2


def test_a_rate_limit_is_honoured_and_retried() -> None:
    with FakeServices() as fake:
        start = time.monotonic()
        metadata = run(fake, "doi:10.5555/evd.ratelimited")
        assert time.monotonic() - start >= 0.9  # Retry-After: 1
        assert metadata.fields["title"].startswith("Safety of an oncolytic")
        assert fake.count("/doi/10.5555/evd.ratelimited") == 2


def test_hostile_csl_json_comes_out_harmless(fake: FakeServices) -> None:
    metadata = run(fake, "doi:10.5555/evd.2025.005")
    assert_harmless(metadata)
    assert metadata.fields["title"] == "Vaccine works alert(3) cure"
    assert metadata.fields["journaltitle"] == "Journal of Tricks"
    assert metadata.fields["pages"] == "1-2"
    assert metadata.fields["date"] == "2025"  # date-parts [[2025, "13x", 40]]
    assert "url" not in metadata.fields and "langid" not in metadata.fields  # javascript: and `en"><script>`
    assert metadata.authors == [Person("Mallory", "Eve")]  # a literal `javascript:alert(5)` is no author


# --- PubMed and PMC -------------------------------------------------------------------------------------------

def test_pubmed_article(fake: FakeServices) -> None:
    metadata = run(fake, "pmid:99999901")
    assert metadata == Metadata(
        identifier=parse_identifier("pmid:99999901"), entry_type="article",
        fields={"title": "Safety of an oncolytic enterovirus vaccine candidate: a phase 1 trial",
                "journaltitle": "Journal of example oncology", "volume": "12", "number": "4", "pages": "211-219",
                "date": "2025-09-08", "issn": "9999-0001", "langid": "en", "doi": "10.5555/evd.2025.001",
                "url": "https://pmc.ncbi.nlm.nih.gov/articles/PMC99999911/", "eprint": "99999901", "eprinttype": "pubmed"},
        authors=[Person("Example", "A."), Person("van den Berg", "P. J."), Person(literal="Example Trial Group")],
        editors=[], kind="peer-reviewed", kind_basis="PubMed journal article", service="NCBI PubMed")


def test_ncbi_requests_name_the_tool_and_contact(fake: FakeServices) -> None:
    run(fake, "pmid:99999901")
    _, path, headers = next(r for r in fake.requests if r[1].startswith("/ncbi/") and "99999901" in r[1])
    assert parse_qs(urlsplit(path).query) == {"db": ["pubmed"], "id": ["99999901"], "retmode": ["json"],
                                              "tool": ["evidence-desk"], "email": [CONTACT]}
    assert CONTACT in headers["user-agent"]


def test_ncbi_requests_without_a_contact_send_no_email(fake: FakeServices) -> None:
    run(fake, "pmid:99999902", contact="")
    _, path, _ = [r for r in fake.requests if r[1].startswith("/ncbi/") and "99999902" in r[1]][-1]
    assert "email" not in parse_qs(urlsplit(path).query)


def test_pubmed_preprint_and_review_kinds(fake: FakeServices) -> None:
    preprint = run(fake, "pmid:99999902")
    assert (preprint.kind, preprint.kind_basis) == ("preprint", "PubMed publication type Preprint")
    assert preprint.fields["url"] == "https://pubmed.ncbi.nlm.nih.gov/99999902/"  # no PMC copy
    review = run(fake, "pmid:99999903")
    assert (review.kind, review.kind_basis) == ("review", "PubMed publication type Systematic Review")
    assert review.fields["title"] == "[Oncolytic vaccines: a review of examples]"
    assert (review.fields["date"], review.fields["langid"]) == ("2024", "ru")  # "2024 Spring", lang "rus"
    assert "doi" not in review.fields


def test_pmc_article(fake: FakeServices) -> None:
    metadata = run(fake, "pmcid:PMC99999911")
    assert (metadata.service, metadata.kind, metadata.kind_basis) == ("NCBI PMC", "peer-reviewed", "PMC journal article")
    assert metadata.fields["url"] == "https://pmc.ncbi.nlm.nih.gov/articles/PMC99999911/"
    assert (metadata.fields["eprint"], metadata.fields["doi"]) == ("99999901", "10.5555/evd.2025.001")
    assert any("db=pmc&id=99999911" in path for _, path, _ in fake.requests)


def test_pubmed_without_the_record(fake: FakeServices) -> None:
    error = fails(fake, "pmid:99999904")  # esummary's 200 with an error record
    assert error.reason == "not found" and "99999904" in error.hint


# --- arXiv ----------------------------------------------------------------------------------------------------

def test_arxiv_entry(fake: FakeServices) -> None:
    assert run(fake, "arxiv:2401.99991") == Metadata(
        identifier=parse_identifier("arxiv:2401.99991"), entry_type="online",
        fields={"title": "Modelling α-decay of tumour cells under oncolytic virotherapy", "date": "2024-01-31",
                "eprint": "2401.99991", "eprinttype": "arxiv", "eprintclass": "q-bio.TO", "doi": "10.5555/evd.2024.991",
                "url": "https://arxiv.org/abs/2401.99991"},
        authors=[Person("Beispiel", "Greta"), Person("Ejemplo", "José")], editors=[], kind="preprint",
        kind_basis="arXiv preprint", service="arXiv")


@pytest.mark.parametrize(("key", "reason"), [
    ("arxiv:2401.99992", "not found"),  # a feed without entries
    ("arxiv:2401.99993", "arXiv: incorrect id format for 2401.99993"),  # arXiv's error entry
    ("arxiv:2401.99994", "unreadable answer from 127.0.0.1"),  # a DTD with nested entities, refused unparsed
])
def test_arxiv_failures(fake: FakeServices, key: str, reason: str) -> None:
    assert fails(fake, key).reason == reason


# --- ISBN -----------------------------------------------------------------------------------------------------

def test_isbn_with_author_lookups(fake: FakeServices) -> None:
    metadata = run(fake, "isbn:978-0-00-000001-9")
    assert metadata == Metadata(
        identifier=parse_identifier("isbn:9780000000019"), entry_type="book",
        fields={"title": "Handbook of Example Therapies", "subtitle": "From bench to bedside",
                "publisher": "Example University Press", "location": "Example City", "date": "2024-03-05",
                "pagetotal": "412", "edition": "2", "langid": "en", "isbn": "9780000000019",
                "url": "https://openlibrary.org/isbn/9780000000019"},
        authors=[Person("Sample", "Dana"), Person("Muster", "Erik")],  # "Dana Sample", "Muster, Erik"
        editors=[], kind="reference", kind_basis="Open Library book", service="Open Library")
    assert fake.count("/openlibrary/authors/OL99999009A.json") >= 1  # a dangling reference, skipped


def test_isbn_authors_from_the_work(fake: FakeServices) -> None:
    metadata = run(fake, "isbn:9780000000026")
    assert metadata.authors == [Person("van Example", "Ludwig")]
    assert (metadata.fields["date"], metadata.fields["langid"]) == ("2009", "de")


def test_unknown_isbn(fake: FakeServices) -> None:
    error = fails(fake, "isbn:9780000000033")
    assert error.reason == "not found" and "write the entry by hand" in error.hint


# --- Web pages ------------------------------------------------------------------------------------------------

def test_news_page_from_json_ld(fake: FakeServices) -> None:
    metadata = web(fake, "/web/news")
    assert metadata.fields == {"title": "Vaccine trial begins in Example City", "organization": "Example News",
                               "date": "2025-09-08", "url": fake.url("/web/news"), "langid": "en-GB"}
    assert metadata.authors == [Person("Reporter", "Anna"), Person(literal="Example Wire Service")]  # @id resolved
    assert (metadata.entry_type, metadata.kind, metadata.kind_basis) == ("online", "news", "JSON-LD NewsArticle")
    assert metadata.service == "web page"
    assert metadata.content_hash.startswith("sha256:") and len(metadata.content_hash) == 71


def test_highwire_wins_over_every_other_vocabulary(fake: FakeServices) -> None:
    metadata = web(fake, "/web/journal")
    assert metadata.fields == {"title": "Safety of an oncolytic enterovirus vaccine candidate",
                               "organization": "Example Medical Society",  # JSON-LD publisher over DC and og:site_name
                               "journaltitle": "Journal of Example Oncology", "date": "2025-09-08",
                               "doi": "10.5555/evd.2025.001", "url": fake.url("/web/journal"), "langid": "en"}
    assert metadata.authors == [Person("Example", "Anna"), Person("van den Berg", "Pieter")]
    assert (metadata.kind, metadata.kind_basis) == ("peer-reviewed", "Highwire citation_journal_title")


def test_dublin_core_wins_over_open_graph(fake: FakeServices) -> None:
    metadata = web(fake, "/web/dc")
    assert metadata.fields == {"title": "Report on example vaccines", "organization": "Example Ministry of Health",
                               "date": "2024-11-05", "url": fake.url("/web/dc"), "langid": "en"}
    assert metadata.authors == [Person("Doe", "Jane"), Person("Roe", "Richard")]
    assert (metadata.kind, metadata.kind_basis) == ("other", "no page type found")


def test_open_graph_page(fake: FakeServices) -> None:
    metadata = web(fake, "/web/og")
    assert metadata.fields == {"title": "Headline from Open Graph", "organization": "Example Daily", "date": "2025-01-15",
                               "url": fake.url("/web/og")}
    assert metadata.authors == [Person("Doe", "Jane")]  # article:author is a profile address; "By Jane Doe"
    assert (metadata.kind, metadata.kind_basis) == ("news", "Open Graph type article")


def test_title_element_loses_the_site_name(fake: FakeServices) -> None:
    metadata = web(fake, "/web/title-only")
    assert metadata.fields == {"title": "Enteromix update", "organization": "Example Agency",
                               "url": fake.url("/web/title-only")}


def test_claim_review_is_a_fact_check(fake: FakeServices) -> None:
    metadata = web(fake, "/web/factcheck")
    assert (metadata.kind, metadata.kind_basis) == ("fact-check", "JSON-LD ClaimReview")
    assert metadata.fields["title"] == "Did a vaccine cure everyone? No"
    assert metadata.authors == [Person(literal="Example Checkers")]


def test_permanent_redirects_give_the_new_address_temporary_ones_keep_the_cited(fake: FakeServices) -> None:
    assert web(fake, "/web/moved").fields["url"] == fake.url("/web/news")  # 301 then 308
    assert web(fake, "/web/temporary").fields["url"] == fake.url("/web/temporary")  # 302 then 308


def test_windows_1251_page_with_meta_charset(fake: FakeServices) -> None:
    metadata = web(fake, "/web/cp1251")
    assert metadata.fields["title"] == "Вакцина «Энтеромикс»: что известно"
    assert metadata.fields["organization"] == "Пример-Новости"
    assert metadata.fields["langid"] == "ru-RU"
    assert metadata.authors == [Person("Примеров", "Иван")]


def test_latin_1_page_with_the_charset_in_the_header_only(fake: FakeServices) -> None:
    metadata = web(fake, "/web/latin1")
    assert metadata.fields["title"] == "Vaccin : l'étude préliminaire"  # " - Exemple Presse" taken off
    assert (metadata.fields["langid"], metadata.kind) == ("fr", "news")


def test_hostile_page_comes_out_harmless(fake: FakeServices) -> None:
    metadata = web(fake, "/web/hostile")
    assert_harmless(metadata)
    assert metadata.fields["title"] == "Vaccine yrots news"
    assert metadata.fields["organization"] == "Site Name"
    assert "doi" not in metadata.fields and "langid" not in metadata.fields
    assert metadata.authors == [Person("Evil", "Mallory")]


def test_a_five_megabyte_title_is_capped(fake: FakeServices) -> None:
    metadata = web(fake, "/web/huge-title")
    assert_harmless(metadata)
    assert len(metadata.fields["title"]) == MAX_TEXT and metadata.fields["title"].endswith("…")


@pytest.mark.parametrize(("path", "reason"), [
    ("/web/report.pdf", "not a web page (application/pdf)"),
    ("/web/gone", "not found"),
    ("/web/nowhere", "not found"),
])
def test_web_failures(fake: FakeServices, path: str, reason: str) -> None:
    error = fails(fake, f"url:{fake.url(path)}")
    assert error.reason == reason and error.hint


def test_a_rate_limited_page_succeeds_on_retry() -> None:
    with FakeServices() as fake:
        assert web(fake, "/web/ratelimited").fields["title"] == "Vaccine trial begins in Example City"
        assert fake.count("/web/ratelimited") == 2


def test_web_page_timeout(fake: FakeServices) -> None:
    assert fails(fake, f"url:{fake.url('/web/slow')}", timeout=0.3, retries=0).reason == "timeout"


# --- Pure parts -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "clean"), [
    ("<script>alert(1)</script>Vaccine", "Vaccine"),
    ("H<sub>2</sub>O &amp; <jats:italic>E. coli</jats:italic>", "H2O & E. coli"),
    ("&lt;script&gt;x&lt;/script&gt;y", "xy"),
    ("p < 0.05\n\tin  <i>vivo</i>", "p < 0.05 in vivo"),
    ("a\u202eb\u2066c\u200bd\u00ade\x07f\ufeff", "abcdef"),
    ("Cafe\u0301", "Café"),  # NFC
    ("می\u200cخواهم", "می\u200cخواهم"),  # the zero-width non-joiner Persian needs stays
    (42, "42"),
    (None, ""),
    (["list"], ""),
])
def test_clean_text(raw: object, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(("raw", "url"), [
    ("https://Example.org/a b", "https://example.org/a%20b"),
    ("javascript:alert(1)", ""),
    (" JavaScript:alert(1)", ""),
    ("data:text/html,x", ""),
    ("//example.org/x", ""),
    ("https://example.org/" + "a" * 3000, ""),
])
def test_clean_url(raw: str, url: str) -> None:
    assert clean_url(raw) == url


@pytest.mark.parametrize(("raw", "date"), [
    ("2025-09-08T21:30:00+03:00", "2025-09-08"), ("2025/09/08", "2025-09-08"), ("March 5, 2009", "2009-03-05"),
    ("5 March 2009", "2009-03-05"), ("2019 Sep 20", "2019-09-20"), ("Mar 2009", "2009-03"), ("c2009", "2009"),
    ("[2009]", "2009"), ("2019 Sep-Oct", "2019-09"), ("2024 Spring", "2024"), ("2025-02-30", "2025"),
    ("no date", ""), ("", ""),
])
def test_iso_date(raw: str, date: str) -> None:
    assert iso_date(raw) == date


@pytest.mark.parametrize(("raw", "person"), [
    ("Doe, Jane", Person("Doe", "Jane")), ("Jane Q. Doe", Person("Doe", "Jane Q.")),
    ("Ludwig van Beethoven", Person("van Beethoven", "Ludwig")), ("UNICEF", Person(literal="UNICEF")),
    ("  ", Person()),
])
def test_split_name(raw: str, person: Person) -> None:
    assert split_name(raw) == person


@pytest.mark.parametrize(("host", "official"), [
    ("www.cdc.gov", True), ("www.gov.uk", True), ("minzdrav.gov.ru", True), ("www.gob.mx", True),
    ("www.who.int", True), ("ec.europa.eu", True), ("www.army.mil", True), ("sante.gouv.fr", True),
    ("news.example", False), ("governance.example.org", False), ("gov.example.com", False),
])
def test_official_hosts(host: str, official: bool) -> None:
    assert official_host(host) is official


def test_an_official_host_outranks_what_the_page_says() -> None:
    page = WebPage(json_ld_type="NewsArticle", og_type="article")
    assert proposed_kind(page, "www.who.int") == ("official", "official host www.who.int")
    assert proposed_kind(page, "news.example") == ("news", "JSON-LD NewsArticle")
    assert proposed_kind(WebPage(journal="J"), "news.example")[0] == "peer-reviewed"


def test_json_ld_that_does_not_parse_or_is_too_big_is_ignored() -> None:
    big = '{"@type": "NewsArticle", "headline": "' + "x" * MAX_JSON_LD + '"}'
    page = read_page(f"""<title>Plain</title><script type="application/ld+json">{big}</script>
        <script type="application/ld+json">{{"@type": "NewsArticle", "headline": </script>""")
    assert (page.title, page.json_ld_type) == ("Plain", "")
    page = read_page('<script type="application/ld+json">[{"@type": "WebPage", "name": "Page"},'
                     ' {"@type": "BlogPosting", "headline": "Post", "inLanguage": {"name": "English", '
                     '"alternateName": "en"}}]</script>')
    assert (page.title, page.json_ld_type, page.lang) == ("Post", "BlogPosting", "en")


def test_arxiv_tex_becomes_unicode() -> None:
    from generator.net.metadata import _from_latex

    assert _from_latex(r"$\alpha$ in 50% of cells & {\"u}ber") == "α in 50% of cells & über"
    assert _from_latex("plain 50% title") == "plain 50% title"
