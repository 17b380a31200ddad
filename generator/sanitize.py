"""What content may put on a page: HTML cleaned by nh3, with ids and classes kept out of the theme's and our own.

Raw HTML in prose (and in a desk's own docs/ pages) goes through nh3, which removes scripts, event handlers and
unsafe URLs. That is not enough on a page whose theme runs JavaScript: Material reads its settings from the element
`#__config` and finds its search, drawer and table of contents by id, so an element of the content with such an id
hijacks the theme. On a fact-check, a content element with the id of a reference (`ref-…`) or the class of a rating
badge (`rg-rating-false`) would fake the report's own apparatus. Such ids and classes are dropped.
"""

from __future__ import annotations

import re
from functools import partial

import nh3

URL_SCHEMES = {"http", "https", "mailto"}
REPORT_ATTRIBUTES = {"*": {"class", "id", "title", "lang", "dir"}, "a": {"href"}, "img": {"src", "alt"},
                     "th": {"align"}, "td": {"align"}, "abbr": {"title"}, "time": {"datetime"}}
DOCS_TAGS = set(nh3.ALLOWED_TAGS) | {"input", "label"}  # content tabs (pymdownx.tabbed) are radio inputs + labels
DOCS_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"}, "a": {"href"}, "img": {"src", "alt", "width", "height", "loading"},
    "th": {"align", "colspan", "rowspan", "scope"}, "td": {"align", "colspan", "rowspan"}, "abbr": {"title"},
    "time": {"datetime"}, "ol": {"start", "reversed"}, "li": {"value"}, "label": {"for"},
    "input": {"type", "name", "checked", "disabled"}, "details": {"open"},
}
# Ids Material's JavaScript and templates look up (its own all start with `__`: `__config`, `__search`, `__drawer`…).
THEME_ID = re.compile(r"__")
# Ids that Python-Markdown extensions a desk's docs pages may use generate themselves (tabs, code line numbers).
EXTENSION_ID = re.compile(r"__(?:tabbed_\d+_\d+|codelineno-\d+-\d+|code_\d+_annotation_\d+|span-\d+-\d+)")
# The ids and classes a report page gives its own parts (templates/_macros.html, report_page.html, citation.html).
REPORT_ID = re.compile(r"(?:cite-\d+|ref-.*|claim-.*|s\d+-.*|v\d+|text-.*|rating-.*"
                       r"|summary|bottom-line|follow-up|disclaimer|source-mix|references|revision-history|cite"
                       r"|at-a-glance|verdict|claims|sources|text|narratives|rg-.*)")
RESERVED_CLASS = re.compile(r"(?:rg|md)-")


def _attribute(element: str, attribute: str, value: str, *, docs: bool) -> str | None:
    if attribute == "id":
        if THEME_ID.match(value) and not (docs and EXTENSION_ID.fullmatch(value)):
            return None
        if not docs and REPORT_ID.fullmatch(value):
            return None
        return value
    if attribute == "class":
        kept = [name for name in value.split() if not RESERVED_CLASS.match(name)]
        return " ".join(kept) or None
    if attribute == "for" and THEME_ID.match(value) and not EXTENSION_ID.fullmatch(value):
        return None
    return value


def clean_prose(html: str) -> str:
    """Prose of a report (Markdown converted to HTML): no script, no unsafe URL, no id or class of the page's own."""
    return nh3.clean(html, attributes=REPORT_ATTRIBUTES, link_rel=None, url_schemes=URL_SCHEMES,
                     attribute_filter=partial(_attribute, docs=False))


def clean_page(html: str) -> str:
    """A desk's own page from docs/, as converted by the engine: the same rules, with the extensions' own ids."""
    return nh3.clean(html, tags=DOCS_TAGS, attributes=DOCS_ATTRIBUTES, link_rel=None, url_schemes=URL_SCHEMES,
                     attribute_filter=partial(_attribute, docs=True))


def safe_url(url: str) -> str:
    """A URL for an href: only web links (the schemes check on bib URLs reports others; a preview keeps going)."""
    return url if re.match(r"^https?://", url.strip(), re.I) else ""


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


def split_tags(markup: str) -> list[str]:
    """Markup as alternating text and tags (even items text, odd items tags), for edits that must touch text
    nodes only: a link added to a reference, a citation put in place of its placeholder."""
    return _TAG_OR_TEXT.split(markup)
