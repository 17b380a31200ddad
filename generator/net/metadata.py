"""Metadata for a cited identifier, from the services a reference manager asks: DOI content negotiation (Crossref,
DataCite), NCBI E-utilities (PubMed, PMC), the arXiv API, Open Library, and the page itself for a web address.

The answer is neutral (`Metadata`: a biblatex type, biblatex field names, plain Unicode text) and proposes a source
kind with its reason; the writer confirms it. Every value is cleaned here, once: markup stripped, entities decoded,
control and bidi characters removed, whitespace collapsed, length capped; only http(s) addresses are kept. What a
service says is data, never trusted.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - bodies with a DTD or entity declaration are refused before parsing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date as _date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import httpx
from pylatexenc.latex2text import LatexNodes2Text

from generator.config import ServiceSettings
from generator.identifiers import Identifier, IdentifierError, parse_identifier
from generator.net.http import Fetched, FetchError, PoliteClient, content_hash, host_of
from generator.net.webpage import proposed_kind, read_page

MAX_TEXT = 2000  # characters in one value
MAX_PEOPLE = 500  # authors or editors kept from one record
MAX_AUTHOR_LOOKUPS = 20  # Open Library author records fetched for one book
_RAW_CAP = 50 * MAX_TEXT  # characters of a raw value looked at before cleaning

CSL_JSON = "application/vnd.citationstyles.csl+json"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
NCBI_TOOL = "evidence-desk"


@dataclass
class Person:
    family: str = ""
    given: str = ""
    literal: str = ""  # an organisation, or a name that cannot be split


@dataclass
class Metadata:
    identifier: Identifier
    entry_type: str  # biblatex: article, book, incollection, inproceedings, report, thesis, online, dataset, misc
    fields: dict[str, str]  # biblatex field → plain Unicode text; empty values are left out
    authors: list[Person]
    editors: list[Person]
    kind: str  # a key of config.SOURCE_KINDS
    kind_basis: str  # why: "Crossref type article-journal", "JSON-LD NewsArticle"
    service: str  # "Crossref", "DataCite", "NCBI PubMed", "NCBI PMC", "arXiv", "Open Library", "web page"
    content_hash: str = ""  # url scheme only: generator.net.http.content_hash of the page


class ResolveError(Exception):
    """An identifier that could not be resolved: `reason` is short ("no such DOI", "HTTP 503 from api.crossref.org",
    "timeout"), `hint` says what to do."""

    def __init__(self, identifier: Identifier, reason: str, hint: str = ""):
        super().__init__(f"{identifier.key}: {reason}")
        self.identifier = identifier
        self.reason = reason
        self.hint = hint


# --- Cleaning -------------------------------------------------------------------------------------------------

class _Markup(HTMLParser):
    """Text of a value with HTML or JATS markup (`<i>`, `<sub>`, `<jats:italic>`): tags dropped, scripts and styles
    dropped with their content, entities decoded."""

    SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "textarea"})
    BREAK = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "jats:p"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})  # zero-width (non-)joiners: Persian, Indic scripts, emoji


def _strip_markup(text: str) -> str:
    if "<" in text:
        parser = _Markup()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
        except (AssertionError, ValueError):
            text = html.unescape(text)
    elif "&" in text:
        text = html.unescape(text)
    if "<" not in text:
        return text
    while True:  # markup that was escaped in the source and is decoded now: `&lt;script&gt;`
        shorter = _TAG.sub("", text)
        if shorter == text:
            break
        text = shorter
    return _TAG_START.sub("", text)  # a `<` that could still open a tag


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc" or category in ("Zl", "Zp"):
        return " " if char in "\t\n\r\x0b\x0c\x85\u2028\u2029" else ""
    if category in ("Cf", "Cs", "Cn") and char not in _KEPT_FORMAT:
        return ""  # bidi controls and isolates, zero-width spaces, soft hyphens, byte-order marks, surrogates
    return char


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """One value as plain text: markup and entities decoded, NFC, no control, format or bidi characters, one space
    between words, at most `limit` characters (an ellipsis marks a cut)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return ""
    text = _strip_markup(value[:_RAW_CAP])
    text = unicodedata.normalize("NFC", text)
    text = "".join(_visible(c) for c in text) if not text.isascii() or not text.isprintable() else text
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


def clean_url(value: Any) -> str:
    """An http(s) address in the normal form of `url:` identifiers, or "" (javascript:, data:, relative, too long)."""
    text = clean_text(value, limit=10 * MAX_TEXT)
    if not re.match(r"https?://", text, re.I) or len(text) > MAX_TEXT:
        return ""
    try:
        url = parse_identifier(f"url:{text}").value
    except IdentifierError:
        return ""
    return url if len(url) <= MAX_TEXT else ""


def clean_doi(value: Any) -> str:
    text = clean_text(value)
    try:
        return parse_identifier(f"doi:{text}").value if text else ""
    except IdentifierError:
        return ""


_LANGUAGES_639_2 = {"eng": "en", "rus": "ru", "ukr": "uk", "fre": "fr", "fra": "fr", "ger": "de", "deu": "de",
                    "spa": "es", "ita": "it", "por": "pt", "chi": "zh", "zho": "zh", "jpn": "ja", "kor": "ko",
                    "dut": "nl", "nld": "nl", "pol": "pl", "cze": "cs", "ces": "cs", "swe": "sv", "tur": "tr",
                    "ara": "ar", "heb": "he", "per": "fa", "fas": "fa", "hin": "hi", "bel": "be", "kaz": "kk",
                    "geo": "ka", "kat": "ka", "arm": "hy", "hye": "hy", "fin": "fi", "dan": "da", "nor": "no",
                    "hun": "hu", "rum": "ro", "ron": "ro", "bul": "bg", "srp": "sr", "hrv": "hr", "gre": "el",
                    "ell": "el", "lit": "lt", "lav": "lv", "est": "et"}


def clean_lang(value: Any) -> str:
    """A BCP 47 tag as given (`en`, `ru-RU`; `en_US` → `en-US`; ISO 639-2 `eng` → `en`), or ""."""
    text = clean_text(value, limit=40).replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", text):
        return ""
    return _LANGUAGES_639_2.get(text.lower(), text)


_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_ISO_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?![\d])")


def _valid(year: int, month: int | None = None, day: int | None = None) -> str:
    try:
        _date(year, month or 1, day or 1)
    except ValueError:
        return f"{year:04d}" if 1000 <= year <= 9999 else ""
    if not 1000 <= year <= 9999:
        return ""
    return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if month and day else "")


def iso_date(value: Any) -> str:
    """`2025-09-08T10:00:00+03:00`, `2025/09/08`, `March 5, 2009`, `5 March 2009`, `2019 Sep 20`, `c2009` → ISO
    8601 as precise as given (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`); "" when no year is there."""
    text = clean_text(value, limit=200)
    match = _ISO_DATE.match(text)
    if match and (match.group(2) or len(text) == 4 or not re.search(r"[A-Za-z]", text)):
        year, month, day = (int(g) if g else None for g in match.groups())
        return _valid(year, month, day) if year else ""
    year_match = re.search(r"(?<!\d)(\d{4})(?!\d)", text)
    if not year_match:
        return ""
    month = next((_MONTHS[w[:3].lower()] for w in re.findall(r"[A-Za-z]{3,}", text) if w[:3].lower() in _MONTHS), None)
    rest = text[:year_match.start()] + " " + text[year_match.end():]
    day_match = re.search(r"(?<!\d)(\d{1,2})(?!\d)", rest) if month else None
    return _valid(int(year_match.group(1)), month, int(day_match.group(1)) if day_match else None)


def _date_parts(value: Any) -> str:
    """A CSL date (`{"date-parts": [[2024, 3, 5]]}`, or `raw` / `literal`) in ISO 8601."""
    if not isinstance(value, dict):
        return ""
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        numbers: list[int] = []
        for part in parts[0][:3]:
            text = str(part).strip() if isinstance(part, int | str) and not isinstance(part, bool) else ""
            if not text.isdigit():
                break
            numbers.append(int(text))
        if numbers:
            return _valid(*numbers)
    return iso_date(value.get("raw") or value.get("literal") or "")


_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "la", "le", "ter",
                        "ten", "zu", "af", "al", "bin", "ibn"})


def split_name(value: Any) -> Person:
    """A name written as one string: `Doe, Jane` or `Jane Q. Doe` (split on the last space; `Ludwig van Beethoven`
    keeps `van` with the family name); one word stays a literal."""
    name = clean_text(value, limit=300)
    if not name:
        return Person()
    if "," in name:
        family, _, given = name.partition(",")
        if family.strip() and given.strip():
            return Person(family=family.strip(), given=given.strip())
        return Person(literal=name.strip(" ,"))
    words = name.split(" ")
    if len(words) == 1:
        return Person(literal=name)
    cut = len(words) - 1
    for index in range(1, len(words) - 1):
        if words[index].lower() in _PARTICLES and words[index][0].islower():
            cut = index
            break
    return Person(family=" ".join(words[cut:]), given=" ".join(words[:cut]))


_SCRIPT_URL = re.compile(r"\s*(?:javascript|vbscript|data|file):", re.I)


def _people(items: list[Person]) -> list[Person]:
    """Names that are there, none of them a script address."""
    return [p for p in items if (p.family or p.given or p.literal)
            and not any(_SCRIPT_URL.match(part) for part in (p.family, p.given, p.literal))][:MAX_PEOPLE]


def _put(fields: dict[str, str], name: str, value: Any) -> None:
    """Sets a cleaned value unless it is empty or the field is already set."""
    if name in fields:
        return
    text = clean_text(value)
    if text:
        fields[name] = text


def _first(value: Any) -> Any:
    """A CSL or Open Library value that may be a list: its first item."""
    if isinstance(value, list):
        return value[0] if value else ""
    return value


# --- Fetching -------------------------------------------------------------------------------------------------

class _Service:
    """Requests for one identifier, with failures turned into ResolveError."""

    def __init__(self, identifier: Identifier, client: PoliteClient, not_found: str, hint: str):
        self.identifier = identifier
        self.client = client
        self.not_found = not_found
        self.hint = hint

    def fail(self, reason: str, hint: str = "") -> ResolveError:
        return ResolveError(self.identifier, reason, hint or self.hint)

    async def get(self, url: str, *, headers: dict[str, str] | None = None,
                  params: dict[str, str] | None = None) -> Fetched:
        try:
            fetched = await self.client.get(url, headers=headers, params=params)
        except httpx.InvalidURL:  # a redirect to an address httpx cannot even represent (`Location: javascript:…`)
            raise self.fail("redirect to an invalid address", "write the entry by hand in bib/") from None
        except FetchError as exc:
            raise self.fail(exc.reason, f"{host_of(exc.url) or 'the service'} did not answer properly: try again "
                            "later, or write the entry by hand in bib/") from None
        if fetched.status in (404, 410):
            raise self.fail(self.not_found)
        if fetched.status >= 400:
            raise self.fail(f"HTTP {fetched.status} from {host_of(fetched.url)}",
                            "the service is failing or refusing requests: try again later")
        if not 200 <= fetched.status < 300:
            raise self.fail(f"unexpected HTTP {fetched.status} from {host_of(fetched.url)}")
        return fetched

    def json(self, fetched: Fetched) -> dict[str, Any]:
        try:
            data = json.loads(fetched.text()) if not fetched.truncated else None
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise self.fail(f"unreadable answer from {host_of(fetched.url)}", "try again later; if it persists, write "
                            "the entry by hand in bib/")
        return data

    def xml(self, fetched: Fetched) -> ET.Element:
        lowered = fetched.body.lower()
        if fetched.truncated or b"<!doctype" in lowered or b"<!entity" in lowered:
            raise self.fail(f"unreadable answer from {host_of(fetched.url)}", "the answer declares a DTD or entities, "
                            "which are refused")
        try:
            return ET.fromstring(fetched.body)  # noqa: S314 - no DTD, so no entity expansion
        except ET.ParseError:
            raise self.fail(f"unreadable answer from {host_of(fetched.url)}", "try again later") from None


# --- DOI: Crossref and DataCite (CSL-JSON) --------------------------------------------------------------------

# CSL type → (biblatex type, proposed kind)
_CSL_TYPES = {
    "article-journal": ("article", "peer-reviewed"),
    "article-newspaper": ("article", "news"),
    "article-magazine": ("article", "news"),
    "book": ("book", "reference"),
    "chapter": ("incollection", "reference"),
    "entry-encyclopedia": ("incollection", "reference"),
    "entry-dictionary": ("incollection", "reference"),
    "paper-conference": ("inproceedings", "other"),
    "report": ("report", "official"),
    "thesis": ("thesis", "other"),
    "dataset": ("dataset", "other"),
    "posted-content": ("online", "preprint"),
    "article": ("online", "preprint"),  # CSL 1.0.2: a preprint, working paper or other manuscript
    "webpage": ("online", "other"),
}


def _csl_person(item: Any) -> Person:
    if not isinstance(item, dict):
        return split_name(item) if isinstance(item, str) else Person()
    family = clean_text(item.get("family"), limit=300)
    given = clean_text(item.get("given"), limit=300)
    particle = clean_text(item.get("non-dropping-particle"), limit=100)
    dropping = clean_text(item.get("dropping-particle"), limit=100)
    if family:
        return Person(family=f"{particle} {family}".strip(), given=f"{given} {dropping}".strip())
    literal = clean_text(item.get("literal") or item.get("name") or given, limit=300)
    return Person(literal=literal)


def _csl_people(value: Any) -> list[Person]:
    return _people([_csl_person(item) for item in value[:MAX_PEOPLE]]) if isinstance(value, list) else []


async def _resolve_doi(identifier: Identifier, client: PoliteClient, settings: ServiceSettings) -> Metadata:
    service = _Service(identifier, client, "no such DOI", f"check the DOI at {identifier.url}; a DOI only just "
                       "registered may take a day to resolve")
    fetched = await service.get(f"{settings.doi}/{quote(identifier.value, safe='/:;()[]')}", headers={"Accept": CSL_JSON})
    if fetched.content_type in HTML_TYPES:
        raise service.fail("the DOI's registration agency offers no citation metadata",
                           "write the entry by hand in bib/ (with `doi` and `ids` set)")
    data = service.json(fetched)
    addresses = " ".join([fetched.url, *(target for _, _, target in fetched.redirects)]).lower()
    datacite = "datacite" in addresses or str(data.get("source", "")).strip().lower() == "datacite"
    agency = "DataCite" if datacite else "Crossref"
    csl_type = clean_text(data.get("type"), limit=60)
    subtype = clean_text(data.get("subtype"), limit=60)
    entry_type, kind = _CSL_TYPES.get(csl_type, ("misc", "other"))
    basis = f"{agency} type {csl_type or 'unknown'}"
    if subtype == "preprint" or "preprint" in clean_text(data.get("genre"), limit=100).lower():
        entry_type, kind = "online", "preprint"
        basis = f"{agency} type {csl_type}, " + ("subtype preprint" if subtype == "preprint" else "genre preprint")
    fields: dict[str, str] = {}
    _put(fields, "title", _first(data.get("title")))
    _put(fields, "subtitle", _first(data.get("subtitle")))
    container = _first(data.get("container-title"))
    institution = _first(data.get("institution"))
    institution = institution.get("name") if isinstance(institution, dict) else institution
    if entry_type == "article":
        _put(fields, "journaltitle", container)
    elif entry_type in ("incollection", "inproceedings"):
        _put(fields, "booktitle", container)
    elif entry_type == "online":
        _put(fields, "organization", institution or data.get("publisher") or container)
    if entry_type in ("report", "thesis"):
        _put(fields, "institution", institution or data.get("publisher"))
    elif entry_type not in ("article", "online"):
        _put(fields, "publisher", data.get("publisher"))
    if entry_type not in ("article", "online"):
        _put(fields, "location", data.get("publisher-place"))
    for source, target in (("volume", "volume"), ("issue", "number"), ("page", "pages"), ("edition", "edition"),
                           ("version", "version"), ("genre", "type")):
        _put(fields, target, data.get(source))
    if entry_type == "report":
        _put(fields, "number", data.get("number"))
    for name in ("issued", "published-print", "published-online", "published"):
        date = _date_parts(data.get(name))
        if date:
            fields["date"] = date
            break
    fields["doi"] = clean_doi(data.get("DOI")) or identifier.value
    url = clean_url(data.get("URL"))
    if url:
        fields["url"] = url
    _put(fields, "isbn", _first(data.get("ISBN")))
    _put(fields, "issn", _first(data.get("ISSN")))
    lang = clean_lang(data.get("language"))
    if lang:
        fields["langid"] = lang
    return Metadata(identifier, entry_type, fields, _csl_people(data.get("author")), _csl_people(data.get("editor")),
                    kind, basis, agency)


# --- PubMed and PubMed Central (E-utilities esummary) ---------------------------------------------------------

def _ncbi_person(item: Any) -> Person:
    if not isinstance(item, dict):
        return Person()
    name = clean_text(item.get("name"), limit=300)
    if not name:
        return Person()
    words = name.split(" ")
    initials = words[-1]
    if str(item.get("authtype", "Author")) != "Author" or len(words) < 2 or not (
            initials.isalpha() and initials.isupper() and len(initials) <= 4):
        return Person(literal=name)
    return Person(family=" ".join(words[:-1]), given=" ".join(f"{letter}." for letter in initials))


async def _resolve_ncbi(identifier: Identifier, client: PoliteClient, settings: ServiceSettings) -> Metadata:
    pmc = identifier.scheme == "pmcid"
    uid = identifier.value.removeprefix("PMC") if pmc else identifier.value
    service = _Service(identifier, client, "not found", f"check the id at {identifier.url}")
    params = {"db": "pmc" if pmc else "pubmed", "id": uid, "retmode": "json", "tool": NCBI_TOOL}
    if settings.contact:
        params["email"] = settings.contact
    fetched = await service.get(f"{settings.ncbi}/esummary.fcgi", params=params)
    data = service.json(fetched)
    result = data.get("result")
    record = result.get(uid) if isinstance(result, dict) else None
    if not isinstance(record, dict) or record.get("error"):
        raise service.fail("not found", f"{'PubMed Central' if pmc else 'PubMed'} has no record {identifier.value}: "
                           f"check the id at {identifier.url}")
    fields: dict[str, str] = {}
    title = clean_text(record.get("title"))
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]  # PubMed ends every title with a period; the citation style adds its own
    if title:
        fields["title"] = title
    _put(fields, "journaltitle", record.get("fulljournalname") or record.get("source"))
    _put(fields, "volume", record.get("volume"))
    _put(fields, "number", record.get("issue"))
    _put(fields, "pages", record.get("pages"))
    date = iso_date(record.get("pubdate")) or iso_date(record.get("epubdate"))
    date = date or iso_date(record.get("sortpubdate") or record.get("sortdate"))[:4]
    if date:
        fields["date"] = date
    _put(fields, "issn", record.get("issn") or record.get("essn"))
    languages = record.get("lang")
    lang = clean_lang(_first(languages))
    if lang:
        fields["langid"] = lang
    ids: dict[str, str] = {}
    for item in record.get("articleids") or []:
        if isinstance(item, dict) and isinstance(item.get("idtype"), str):
            ids.setdefault(item["idtype"], clean_text(item.get("value"), limit=200))
    doi = clean_doi(ids.get("doi", ""))
    if doi:
        fields["doi"] = doi
    pmcid = identifier.value if pmc else ids.get("pmc", "")
    pmid = identifier.value if not pmc else ids.get("pmid", "")
    if re.fullmatch(r"PMC\d+", pmcid):
        fields["url"] = f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"
    elif re.fullmatch(r"\d+", pmid):
        fields["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    if re.fullmatch(r"\d+", pmid):
        fields["eprint"], fields["eprinttype"] = pmid, "pubmed"
    types = [clean_text(t, limit=100) for t in record.get("pubtype") or [] if isinstance(t, str)]
    if any("preprint" in t.lower() for t in types):
        kind, basis = "preprint", "PubMed publication type Preprint"
    elif any("review" in t.lower() for t in types):
        kind, basis = "review", f"PubMed publication type {next(t for t in types if 'review' in t.lower())}"
    else:
        kind, basis = "peer-reviewed", "PMC journal article" if pmc else "PubMed journal article"
    authors = _people([_ncbi_person(item) for item in (record.get("authors") or [])[:MAX_PEOPLE]])
    return Metadata(identifier, "article", fields, authors, [], kind, basis, "NCBI PMC" if pmc else "NCBI PubMed")


# --- arXiv (Atom) ---------------------------------------------------------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


def _from_latex(text: str) -> str:
    """arXiv titles are written in TeX (`$\\alpha$`, `{\\"u}`): as Unicode."""
    if not any(ch in text for ch in "\\$"):
        return text
    try:
        return _LATEX.latex_to_text(re.sub(r"(?<!\\)([&%#])", r"\\\1", text))  # `50%` is text, not a comment
    except Exception:  # pylatexenc on pathological input: the text as written
        return text


async def _resolve_arxiv(identifier: Identifier, client: PoliteClient, settings: ServiceSettings) -> Metadata:
    service = _Service(identifier, client, "not found", f"check the id at {identifier.url}")
    fetched = await service.get(settings.arxiv, params={"id_list": identifier.value, "max_results": "1"})
    feed = service.xml(fetched)
    entries = feed.findall(f"{_ATOM}entry")
    if not entries:
        raise service.fail("not found", f"arXiv has no paper {identifier.value}: check the id at {identifier.url}")
    entry = entries[0]
    if "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
        reason = clean_text(entry.findtext(f"{_ATOM}summary"), limit=200) or "arXiv refused the id"
        raise service.fail(f"arXiv: {reason}", f"check the id at {identifier.url}")
    fields: dict[str, str] = {}
    _put(fields, "title", _from_latex(clean_text(entry.findtext(f"{_ATOM}title"), limit=_RAW_CAP)))
    if "title" in fields:
        fields["title"] = clean_text(fields["title"])
    date = iso_date(entry.findtext(f"{_ATOM}published"))
    if date:
        fields["date"] = date
    fields["eprint"], fields["eprinttype"] = identifier.value, "arxiv"
    primary = entry.find(f"{_ARXIV}primary_category")
    if primary is not None:
        _put(fields, "eprintclass", primary.get("term"))
    doi = clean_doi(entry.findtext(f"{_ARXIV}doi"))
    if doi:
        fields["doi"] = doi
    fields["url"] = identifier.url
    authors = _people([split_name(_from_latex(clean_text(author.findtext(f"{_ATOM}name"), limit=300)))
                       for author in entry.findall(f"{_ATOM}author")[:MAX_PEOPLE]])
    return Metadata(identifier, "online", fields, authors, [], "preprint", "arXiv preprint", "arXiv")


# --- ISBN (Open Library) --------------------------------------------------------------------------------------

_OL_AUTHOR = re.compile(r"/authors/OL\d{1,12}A")
_OL_WORK = re.compile(r"/works/OL\d{1,12}W")


def _keys(items: Any, pattern: re.Pattern[str], nested: str = "") -> list[str]:
    found: list[str] = []
    for item in items if isinstance(items, list) else []:
        if nested and isinstance(item, dict):
            item = item.get(nested)
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str) and pattern.fullmatch(key) and key not in found:
            found.append(key)
    return found


async def _resolve_isbn(identifier: Identifier, client: PoliteClient, settings: ServiceSettings) -> Metadata:
    service = _Service(identifier, client, "not found", f"Open Library has no record of ISBN {identifier.value}: "
                       "check it on the book, or write the entry by hand in bib/")
    edition = service.json(await service.get(f"{settings.openlibrary}/isbn/{identifier.value}.json"))
    keys = _keys(edition.get("authors"), _OL_AUTHOR)
    works = _keys(edition.get("works"), _OL_WORK)
    if not keys and works:  # many editions name their authors only on the work
        work = service.json(await service.get(f"{settings.openlibrary}{works[0]}.json"))
        keys = _keys(work.get("authors"), _OL_AUTHOR, nested="author")
    authors: list[Person] = []
    for key in keys[:MAX_AUTHOR_LOOKUPS]:
        try:
            record = service.json(await service.get(f"{settings.openlibrary}{key}.json"))
        except ResolveError as exc:
            if exc.reason == service.not_found:
                continue  # a dangling author reference: the book is still the book
            raise
        authors.append(split_name(record.get("name") or record.get("personal_name")))
    fields: dict[str, str] = {}
    _put(fields, "title", edition.get("title"))
    _put(fields, "subtitle", edition.get("subtitle"))
    _put(fields, "publisher", _first(edition.get("publishers")))
    _put(fields, "location", _first(edition.get("publish_places")))
    date = iso_date(edition.get("publish_date"))
    if date:
        fields["date"] = date
    pages = edition.get("number_of_pages")
    if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0:
        fields["pagetotal"] = str(pages)
    edition_name = clean_text(edition.get("edition_name"), limit=100)
    ordinal = re.match(r"(\d{1,3})(?:st|nd|rd|th)?\b", edition_name)
    if edition_name:
        fields["edition"] = ordinal.group(1) if ordinal else edition_name
    language = _first(edition.get("languages"))
    if isinstance(language, dict) and isinstance(language.get("key"), str):
        lang = clean_lang(language["key"].rsplit("/", 1)[-1])
        if lang:
            fields["langid"] = lang
    fields["isbn"] = identifier.value
    fields["url"] = identifier.url
    return Metadata(identifier, "book", fields, _people(authors), [], "reference", "Open Library book", "Open Library")


# --- Web pages ------------------------------------------------------------------------------------------------

_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " / ")


def _without_site(title: str, site: str) -> str:
    """`Vaccine trial begins | Example News` → `Vaccine trial begins` when the site is called Example News."""
    if not site:
        return title
    for separator in _SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if found and head.strip() and tail.strip().casefold() == site.casefold():
            return head.strip()
    return title


async def _resolve_url(identifier: Identifier, client: PoliteClient, settings: ServiceSettings) -> Metadata:
    service = _Service(identifier, client, "not found", "check the address in a browser; if the page moved, cite its "
                       "new address (or an archived copy)")
    fetched = await service.get(identifier.value, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"})
    content_type = fetched.content_type
    sniffed = not content_type and re.match(rb"\s*<(?:!doctype html|html)", fetched.body[:512], re.I)
    if content_type not in HTML_TYPES and not sniffed:
        raise service.fail(f"not a web page ({content_type or 'no content type'})",
                           "write the entry by hand in bib/ (title, author, date, url)")
    page = read_page(fetched.text())
    site = clean_text(page.site_name)
    fields: dict[str, str] = {}
    title = _without_site(clean_text(page.title), site)
    if title:
        fields["title"] = title
    if site:
        fields["organization"] = site
    _put(fields, "journaltitle", page.journal)
    date = iso_date(page.date)
    if date:
        fields["date"] = date
    doi = clean_doi(page.doi)
    if doi:
        fields["doi"] = doi
    permanent = bool(fetched.redirects) and all(status in (301, 308) for status, _, _ in fetched.redirects)
    fields["url"] = (clean_url(fetched.url) if permanent else "") or identifier.value
    lang = clean_lang(page.lang)
    if lang:
        fields["langid"] = lang
    authors: list[Person] = []
    for author in page.authors:
        name = re.sub(r"^(?:by|von|par|por)\s+", "", clean_text(author.name, limit=300), flags=re.I)
        authors.append(Person(literal=name) if author.organisation else split_name(name))
    kind, basis = proposed_kind(page, host_of(fetched.url))  # where the page came from
    return Metadata(identifier, "online", fields, _people(authors), [], kind, basis, "web page",
                    content_hash=content_hash(fetched))


_RESOLVERS: dict[str, Callable[[Identifier, PoliteClient, ServiceSettings], Awaitable[Metadata]]] = {
    "doi": _resolve_doi, "pmid": _resolve_ncbi, "pmcid": _resolve_ncbi, "arxiv": _resolve_arxiv,
    "isbn": _resolve_isbn, "url": _resolve_url}


async def resolve(identifier: Identifier, client: PoliteClient, settings: ServiceSettings) -> Metadata:
    """The metadata of one identifier from its service; ResolveError with a readable reason and hint otherwise."""
    return await _RESOLVERS[identifier.scheme](identifier, client, settings)


__all__ = ["Metadata", "Person", "ResolveError", "clean_text", "clean_url", "iso_date", "resolve", "split_name"]
