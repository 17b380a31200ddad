"""The one place that computes the addresses the product writes: the page, its JSON-LD, share tags, the PDF, the feed
and "Cite this report" all call it, so they agree with and without `site_url`. No imports beyond the standard
library: PDF workers load it.

Every address is absolute under `site_url` when the site has one, and otherwise relative to the page (or file) it is
written into, so that it resolves where a reader's browser, a crawler or a feed reader meets it. Paths are written
relative to the site's root (`enteromix/`, `enteromix/v2/`, `feed.xml`); `here` is the folder of the page or file that
carries the address, also relative to the site's root ("" for the root itself)."""

from __future__ import annotations

import posixpath
import re
import unicodedata


def report_path(slug: str, version: int | None = None, part: str = "") -> str:
    """A report's page (`<slug>/`), one of its versions (`<slug>/v<N>/`) or something below it (`changes/`, `#v2`),
    relative to the site's root."""
    return f"{slug}/" + (f"v{version}/" if version else "") + part


def relative_to(path: str, here: str) -> str:
    """`path` (relative to the site's root, may end with `/`, a `#fragment` or `?query`) as seen from the folder
    `here`: `relative_to("a/card.png", "a/")` is `card.png`, `relative_to("a/#x", "a/")` is `./#x`,
    `relative_to("", "a/v1/")` is `../../`."""
    cut = min((i for i in (path.find("#"), path.find("?")) if i >= 0), default=len(path))
    target, rest = path[:cut], path[cut:]
    folder = here if here.endswith("/") or not here else posixpath.dirname(here) + "/"
    relative = posixpath.relpath("/" + target, "/" + folder) if target.strip("/") else posixpath.relpath("/", "/" + folder)
    if relative == ".":
        relative = "./"
    elif target.endswith("/") or not target.strip("/"):
        relative = relative.rstrip("/") + "/"
    return relative + rest


def site_address(site_url: str, path: str, here: str = "") -> str:
    """The address of `path` (relative to the site's root): absolute under `site_url`, else relative to `here`."""
    if site_url:
        return f"{site_url.rstrip('/')}/{path}"
    return relative_to(path, here)


def report_url(site_url: str, slug: str, version: int | None = None, part: str = "", here: str | None = None) -> str:
    """The address of a report, of one of its versions (`v<N>/`) or of a page below it (`changes/`, `#v2`):
    absolute under `site_url`; without one relative to the folder `here`, or to the site's root when `here` is None
    (what a file at the root, such as the feed, needs)."""
    path = report_path(slug, version, part)
    if site_url:
        return site_address(site_url, path)
    return path if here is None else relative_to(path, here)


def topic_slug(topic: str) -> str:
    """A topic's folder under `topics/`: lower case, letters and digits of any script kept, the rest one hyphen
    (`Public health` → `public-health`, `Онкология` → `онкология`); "" when nothing is left."""
    text = unicodedata.normalize("NFKC", topic).casefold()
    return re.sub(r"[^\w]+|_+", "-", text).strip("-")[:60]


def topic_key(topic: str) -> str:
    """What makes two spellings one topic: the same words, whatever their letter case and spacing (`Public health`,
    `public  Health`). Two topics with different keys and the same `topic_slug` would share a page: an error."""
    return " ".join(unicodedata.normalize("NFKC", topic).casefold().split())
