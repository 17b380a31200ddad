"""The one place that computes a report's address: the page, its JSON-LD, the PDF, the feed and "Cite this
report" all call it, so they agree with and without `site_url`. No imports: PDF workers load it."""

from __future__ import annotations

import re
import unicodedata


def report_url(site_url: str, slug: str, version: int | None = None, part: str = "") -> str:
    """The address of a report, of one of its versions (`v<N>/`) or of a page below it (`changes/`, `#v2`):
    absolute under `site_url`, or relative to the site's root when the site has none."""
    path = f"{slug}/" + (f"v{version}/" if version else "") + part
    return f"{site_url.rstrip('/')}/{path}" if site_url else path


def topic_slug(topic: str) -> str:
    """A topic's folder under `topics/`: lower case, letters and digits of any script kept, the rest one hyphen
    (`Public health` → `public-health`, `Онкология` → `онкология`); "" when nothing is left."""
    text = unicodedata.normalize("NFKC", topic).casefold()
    return re.sub(r"[^\w]+|_+", "-", text).strip("-")[:60]
