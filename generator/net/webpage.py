"""What a web page says about itself: the citation metadata in its `<head>` and JSON-LD.

Read with the standard library's `html.parser.HTMLParser`: only `<html lang>`, `<title>`, `<meta>` and
`<script type="application/ld+json">` are needed, all in plain tags a tokenizer sees without building a tree, so
lxml or BeautifulSoup would add nothing but a dependency. The parser never runs scripts or fetches anything.

Vocabularies, in order of precedence: Highwire Press (`citation_*`, Google Scholar's), JSON-LD (schema.org),
Dublin Core (`DC.*`, `DCTERMS.*`), Open Graph (`og:*`, `article:*`), then `<title>`. Values come out as found
(entities decoded); the caller cleans them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

MAX_JSON_LD = 256 * 1024  # characters in one JSON-LD block; a larger one is ignored
MAX_JSON_LD_BLOCKS = 16
MAX_META = 2000  # <meta> tags read from one page
MAX_AUTHORS = 100

# schema.org types that describe the page's own work, most specific first; WebPage only when nothing else is there.
ARTICLE_TYPES = ("ClaimReview", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
                 "BackgroundNewsArticle", "ReviewNewsArticle", "ScholarlyArticle", "MedicalScholarlyArticle",
                 "Report", "Article", "BlogPosting", "TechArticle", "WebPage", "MedicalWebPage")
NEWS_TYPES = frozenset({"NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
                        "BackgroundNewsArticle", "ReviewNewsArticle"})
SCHOLARLY_TYPES = frozenset({"ScholarlyArticle", "MedicalScholarlyArticle"})


@dataclass
class PageAuthor:
    name: str
    organisation: bool = False


@dataclass
class WebPage:
    """The page's metadata after precedence; `sources` says which vocabulary gave each value (`title: Highwire`)."""

    title: str = ""
    authors: list[PageAuthor] = field(default_factory=list)
    date: str = ""  # as written: `2025-09-08T10:00:00+03:00`, `2025/09/08`, `8 September 2025`
    site_name: str = ""
    journal: str = ""
    doi: str = ""
    lang: str = ""
    json_ld_type: str = ""  # the schema.org type of the object read, `NewsArticle`
    og_type: str = ""
    sources: dict[str, str] = field(default_factory=dict)


class _Head(HTMLParser):
    """Collects `<meta>` values by lower-cased name or property, `<title>`, `<html lang>` and JSON-LD blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.metas = 0
        self.title: str | None = None
        self.lang = ""
        self.json_ld: list[str] = []
        self._in: str | None = None  # "title" or "json-ld"
        self._buffer: list[str] = []
        self._size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html" and not self.lang:
            self.lang = values.get("lang") or values.get("xml:lang") or ""
        elif tag == "meta" and self.metas < MAX_META:
            name = values.get("name") or values.get("property") or values.get("itemprop")
            if name and "content" in values:
                self.metas += 1
                self.meta.setdefault(name.strip().lower(), []).append(values["content"])
        elif tag == "title" and self.title is None and self._in is None:
            self._start("title")
        elif tag == "script" and values.get("type", "").strip().lower() == "application/ld+json" and self._in is None:
            self._start("json-ld")

    def _start(self, what: str) -> None:
        self._in, self._buffer, self._size = what, [], 0

    def handle_data(self, data: str) -> None:
        if self._in is not None and self._size <= MAX_JSON_LD:
            self._buffer.append(data)
            self._size += len(data)

    def handle_endtag(self, tag: str) -> None:
        if self._in == "title" and tag == "title":
            self.title = "".join(self._buffer)
            self._in = None
        elif self._in == "json-ld" and tag == "script":
            if self._size <= MAX_JSON_LD and len(self.json_ld) < MAX_JSON_LD_BLOCKS:
                self.json_ld.append("".join(self._buffer))
            self._in = None

    def close(self) -> None:
        super().close()
        if self._in == "title":  # a page cut off inside its <title> (the client's size cap)
            self.title = "".join(self._buffer)


def _json_ld_objects(blocks: list[str]) -> list[dict[str, Any]]:
    """Every object in the page's JSON-LD, `@graph` lists flattened; a block that does not parse is skipped."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        try:
            data = json.loads(block)
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        for item in stack[:200]:
            if not isinstance(item, dict):
                continue
            found.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                found += [node for node in graph[:200] if isinstance(node, dict)]
    return found


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type")
    names = kind if isinstance(kind, list) else [kind]
    return [name.rsplit("/", 1)[-1] for name in names if isinstance(name, str)]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, dict):
        return _text(value.get("@value") or value.get("name") or value.get("alternateName") or "")
    return ""


def _looks_like_url(value: str) -> bool:
    return bool(re.match(r"\s*(?:[a-z][a-z0-9+.-]*:|//|www\.)", value, re.I))


class _JsonLd:
    """The main object of a page's JSON-LD and the nodes `@id` references point to."""

    def __init__(self, blocks: list[str]):
        nodes = _json_ld_objects(blocks)
        self.by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
        self.main: dict[str, Any] = {}
        self.type = ""
        for wanted in ARTICLE_TYPES:
            match = next((node for node in nodes if wanted in _types(node)), None)
            if match is not None:
                self.main, self.type = match, wanted
                break

    def _deref(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and isinstance(value.get("@id"), str):
            return self.by_id.get(value["@id"], value)
        return value

    def get(self, name: str) -> str:
        return _text(self._deref(self.main.get(name)))

    def authors(self) -> list[PageAuthor]:
        value = self.main.get("author") or self.main.get("creator")
        found: list[PageAuthor] = []
        for item in (value if isinstance(value, list) else [value])[:MAX_AUTHORS]:
            item = self._deref(item)
            if isinstance(item, str) and not _looks_like_url(item):
                found.append(PageAuthor(item))
            elif isinstance(item, dict):
                name = _text(item.get("name"))
                if not name and (item.get("familyName") or item.get("givenName")):
                    name = f"{_text(item.get('givenName'))} {_text(item.get('familyName'))}".strip()
                if name and not _looks_like_url(name):
                    found.append(PageAuthor(name, organisation="Person" not in _types(item) and bool(_types(item))))
        return found

    def publisher(self) -> str:
        value = self._deref(self.main.get("publisher"))
        if isinstance(value, list) and value:
            value = self._deref(value[0])
        if isinstance(value, dict):
            return _text(value.get("name"))
        return value if isinstance(value, str) and not _looks_like_url(value) else ""

    def language(self) -> str:
        value = self.main.get("inLanguage")
        if isinstance(value, dict):
            return _text(value.get("alternateName") or value.get("name"))
        return _text(value)


def _first(*candidates: tuple[str, str]) -> tuple[str, str]:
    """The first non-empty (value, vocabulary)."""
    for value, vocabulary in candidates:
        if value and value.strip():
            return value.strip(), vocabulary
    return "", ""


def read_page(html: str) -> WebPage:
    """The metadata of one HTML page (no network; never raises on malformed HTML or JSON)."""
    head = _Head()
    try:
        head.feed(html)
        head.close()
    except (AssertionError, ValueError):  # HTMLParser on pathological markup; keep what was read
        pass
    meta = head.meta

    def one(*names: str) -> str:
        for name in names:
            for value in meta.get(name.lower(), []):
                if value.strip():
                    return value
        return ""

    def every(*names: str) -> list[str]:
        for name in names:
            values = [v for v in meta.get(name.lower(), []) if v.strip()]
            if values:
                return values[:MAX_AUTHORS]
        return []

    ld = _JsonLd(head.json_ld)
    page = WebPage(json_ld_type=ld.type, og_type=one("og:type").strip().lower())
    page.title, page.sources["title"] = _first(
        (one("citation_title"), "Highwire"), (ld.get("headline") or ld.get("name"), "JSON-LD"),
        (one("DC.title", "DCTERMS.title", "dc.title"), "Dublin Core"), (one("og:title"), "Open Graph"),
        (head.title or "", "title element"))
    def names(*names: str) -> list[PageAuthor]:  # article:author is often a profile address, not a name
        return [PageAuthor(name) for name in every(*names) if not _looks_like_url(name)]

    highwire, dublin = names("citation_author"), names("DC.creator", "DCTERMS.creator")
    graph, plain = names("article:author"), names("author")
    for authors, vocabulary in ((highwire, "Highwire"), (ld.authors(), "JSON-LD"), (dublin, "Dublin Core"),
                                (graph, "Open Graph"), (plain, "meta author")):
        if authors:
            page.authors, page.sources["authors"] = authors, vocabulary
            break
    page.date, page.sources["date"] = _first(
        (one("citation_publication_date", "citation_date", "citation_online_date"), "Highwire"),
        (ld.get("datePublished"), "JSON-LD"),
        (one("DCTERMS.issued", "DC.date", "DCTERMS.date", "DCTERMS.created", "DC.date.issued"), "Dublin Core"),
        (one("article:published_time"), "Open Graph"), (ld.get("dateModified"), "JSON-LD dateModified"))
    page.site_name, page.sources["site_name"] = _first(
        (one("citation_publisher"), "Highwire"), (ld.publisher(), "JSON-LD"),
        (one("DC.publisher", "DCTERMS.publisher"), "Dublin Core"), (one("og:site_name"), "Open Graph"))
    page.journal = one("citation_journal_title")
    page.doi = one("citation_doi")
    page.lang, page.sources["lang"] = _first(
        (one("citation_language"), "Highwire"), (ld.language(), "JSON-LD"),
        (one("DC.language", "DCTERMS.language"), "Dublin Core"), (head.lang, "html lang"))
    page.sources = {name: vocabulary for name, vocabulary in page.sources.items() if vocabulary}
    return page


# Hosts of governments, intergovernmental bodies and armed forces.
_OFFICIAL_HOST = re.compile(r"(?:^|\.)(?:(?:gov|gob|gouv|govt|mil)(?:\.[a-z]{2})?|go\.jp|go\.kr|gc\.ca|admin\.ch|gv\.at|"
                            r"bund\.de|europa\.eu|[a-z0-9-]+\.int)$")


def official_host(host: str) -> bool:
    return bool(_OFFICIAL_HOST.search(host.lower().rstrip(".")))


def proposed_kind(page: WebPage, host: str) -> tuple[str, str]:
    """(source kind, why) for a page at `host`. A government or intergovernmental host makes it official whatever
    the page says of itself (their press releases call themselves articles); then fact-checks (ClaimReview),
    scholarly pages, news."""
    if official_host(host):
        return "official", f"official host {host.lower()}"
    if page.json_ld_type == "ClaimReview":
        return "fact-check", "JSON-LD ClaimReview"
    if page.journal:
        return "peer-reviewed", "Highwire citation_journal_title"
    if page.json_ld_type in SCHOLARLY_TYPES:
        return "peer-reviewed", f"JSON-LD {page.json_ld_type}"
    if page.json_ld_type in NEWS_TYPES:
        return "news", f"JSON-LD {page.json_ld_type}"
    if page.og_type == "article":
        return "news", "Open Graph type article"
    return "other", "no page type found"
