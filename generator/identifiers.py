"""Sources cited by identifier: `[@doi:10.1038/…]`, `[@pmid:…]`, `[@pmcid:…]`, `[@arxiv:…]`, `[@isbn:…]`,
`[@url:https://…]` (Manubot's prefixes).

An identifier is cited like a key; the build finds it among the `ids` of the entries in `bib/` (biblatex's field
for a key's aliases), which `report sources` writes when it resolves it. Each scheme has one normal form, so
`doi:10.1038/NATURE1` and `doi:https://doi.org/10.1038/nature1` are the same source. Pure: no network here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

SCHEMES = ("doi", "pmid", "pmcid", "arxiv", "isbn", "url")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.I)
_ARXIV_NEW = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?")
_ARXIV_OLD = re.compile(r"[a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?")
_ARXIV_PREFIX = re.compile(r"^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|arxiv:)", re.I)
_PUBMED_PREFIX = re.compile(r"^(?:https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/|pmid:)",
                            re.I)
_PMC_PREFIX = re.compile(r"^(?:https?://(?:www\.)?(?:pmc\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pmc)/articles/|pmcid:)",
                         re.I)


class IdentifierError(ValueError):
    """Text that names a scheme but is not a valid identifier of it; `hint` says what one looks like."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, order=True)
class Identifier:
    scheme: str  # one of SCHEMES
    value: str  # in the scheme's normal form

    @property
    def key(self) -> str:
        """How it is cited and stored in `ids`: `doi:10.1038/nature12373`."""
        return f"{self.scheme}:{self.value}"

    @property
    def url(self) -> str:
        """Where a reader (or a link checker) finds it."""
        return {
            "doi": f"https://doi.org/{self.value}",
            "pmid": f"https://pubmed.ncbi.nlm.nih.gov/{self.value}/",
            "pmcid": f"https://pmc.ncbi.nlm.nih.gov/articles/{self.value}/",
            "arxiv": f"https://arxiv.org/abs/{self.value}",
            "isbn": f"https://openlibrary.org/isbn/{self.value}",
            "url": self.value,
        }[self.scheme]

    def __str__(self) -> str:
        return self.key


def scheme_of(key: str) -> str | None:
    """The scheme a citation key names (`doi:…` → `doi`), or None for an ordinary key."""
    prefix, colon, rest = key.partition(":")
    return prefix.lower() if colon and rest and prefix.lower() in SCHEMES else None


def parse_identifier(key: str) -> Identifier:
    """A cited `scheme:value` in normal form; IdentifierError when the value is not one of the scheme's."""
    scheme = scheme_of(key)
    if scheme is None:
        raise IdentifierError(f"`{key}` names no identifier scheme", f"use one of: {', '.join(s + ':' for s in SCHEMES)}")
    return Identifier(scheme, _NORMAL[scheme](key.partition(":")[2].strip()))


def guess_identifier(text: str) -> Identifier:
    """What a writer pastes into `report sources add`: `doi:…` or a bare DOI, a doi.org, PubMed, PMC or arXiv
    address, `PMC…`, an ISBN with or without hyphens, or any web address."""
    text = text.strip()
    if scheme_of(text):
        return parse_identifier(text)
    if _DOI.match(text) or _DOI_PREFIX.match(text):
        return parse_identifier(f"doi:{text}")
    if _PUBMED_PREFIX.match(text):
        return parse_identifier(f"pmid:{_PUBMED_PREFIX.sub('', text)}")
    if _PMC_PREFIX.match(text) or re.fullmatch(r"PMC\d+", text, re.I):
        return parse_identifier(f"pmcid:{_PMC_PREFIX.sub('', text)}")
    if _ARXIV_PREFIX.match(text) or _ARXIV_NEW.fullmatch(text):
        return parse_identifier(f"arxiv:{_ARXIV_PREFIX.sub('', text)}")
    if re.fullmatch(r"(?:ISBN[:\s]*)?[\d\s-]{9,17}[\dXx]", text, re.I):
        return parse_identifier("isbn:" + re.sub(r"^ISBN[:\s]*", "", text, flags=re.I))
    if re.match(r"https?://", text, re.I):
        return parse_identifier(f"url:{text}")
    raise IdentifierError(f"`{text}` is not a DOI, PubMed or PMC id, arXiv id, ISBN or web address",
                          "write it with its scheme, e.g. `doi:10.1038/…` or `url:https://…`")


def _doi(value: str) -> str:
    value = _DOI_PREFIX.sub("", value)
    if not _DOI.fullmatch(value):
        raise IdentifierError(f"`doi:{value}` is not a DOI", "a DOI starts with `10.` and a registrant code: "
                              "`doi:10.1038/nature12373`")
    return value.lower()  # DOIs are case-insensitive (the DOI Handbook, 2.4)


def _pmid(value: str) -> str:
    value = _PUBMED_PREFIX.sub("", value).strip("/")
    if not re.fullmatch(r"\d{1,9}", value) or not value.strip("0"):
        raise IdentifierError(f"`pmid:{value}` is not a PubMed id", "a PubMed id is a number: `pmid:31537788`")
    return value.lstrip("0")


def _pmcid(value: str) -> str:
    value = _PMC_PREFIX.sub("", value).strip("/")
    digits = value[3:] if value[:3].upper() == "PMC" else value
    if not re.fullmatch(r"\d{1,9}", digits):
        raise IdentifierError(f"`pmcid:{value}` is not a PubMed Central id", "write `pmcid:PMC6793451`")
    return f"PMC{digits.lstrip('0')}"


def _arxiv(value: str) -> str:
    value = _ARXIV_PREFIX.sub("", value).removesuffix(".pdf")
    if not (_ARXIV_NEW.fullmatch(value) or _ARXIV_OLD.fullmatch(value)):
        raise IdentifierError(f"`arxiv:{value}` is not an arXiv id", "write `arxiv:2401.01234` (or "
                              "`arxiv:2401.01234v2` for one version)")
    return value


def _isbn(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        if sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits)) % 11:
            raise IdentifierError(f"`isbn:{value}`: the check digit is wrong", "copy the ISBN again from the book")
        digits = "978" + digits[:9]
        digits += str((10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(digits)) % 10) % 10)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        raise IdentifierError(f"`isbn:{value}` is not an ISBN", "an ISBN has 10 or 13 digits: `isbn:9780262033848`")
    if sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(digits)) % 10:
        raise IdentifierError(f"`isbn:{value}`: the check digit is wrong", "copy the ISBN again from the book")
    return digits  # ISBN-13 without hyphens


# Characters a URL keeps as they are; everything else is percent-encoded, so the normal form never holds a space,
# a comma (it separates `ids`), a brace or a backslash (BibTeX), or a quote or angle bracket (markup).
_URL_SAFE = "/:?#[]@!$&()*+;=%~-._"


def _url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise IdentifierError(f"`url:{value}` is not a web address", "write `url:https://…` (http or https)")
    host = parts.hostname.lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise IdentifierError(f"`url:{value}`: the host name is not valid", "check the address") from None
    port = parts.port if parts.port not in (None, 80 if parts.scheme.lower() == "http" else 443) else None
    netloc = host + (f":{port}" if port else "")
    path = quote(parts.path or "/", safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE.replace("#", ""))
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))  # the fragment is a place on the same page


_NORMAL = {"doi": _doi, "pmid": _pmid, "pmcid": _pmcid, "arxiv": _arxiv, "isbn": _isbn, "url": _url}
