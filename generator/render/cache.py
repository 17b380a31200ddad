"""Rendered reports kept between builds: in memory (`report serve` rebuilds) and on disk (warm builds).

A rendered report depends on its report folder, the site settings, this code, and the sources it cites. The
entry key covers the first three; the cited sources' fingerprints are stored with the entry and compared with
the bibliography being built, so editing one .bib entry re-renders exactly the reports that cite it. Only
renders without problems are kept (a report with an unknown key is rendered afresh until it is fixed).

The disk format is JSON, never pickle: a cache folder restored from somewhere else can at worst miss. Values are
tagged by type on the way out so that safe HTML (`Markup`) comes back as safe HTML and everything else as text;
claims, narratives and ratings are stored by position or id and re-attached to the freshly loaded report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator.cache import Store
from generator.config import Rating, SiteConfig
from generator.render.report import (
    PageOutput,
    ReferenceEntry,
    RenderedBottomLine,
    RenderedClaim,
    RenderedNarrative,
    RenderedReport,
    RenderedSection,
    RenderedSummary,
    SourceMixRow,
)
from generator.reports.model import Claim, Narrative, Report
from generator.sources.bib import Bibliography
from generator.sources.references import FormattedReference, shared

_REBUILT = ("report", "config", "revisions", "looked_up")  # taken from the freshly loaded report, not the cache
# The parts of a rendered report, encoded field by field (dataclasses.fields) and rebuilt by name: a field added
# to one of them is stored without touching this module.
_PARTS: dict[str, type] = {cls.__name__: cls for cls in (RenderedClaim, RenderedNarrative, RenderedSummary,
                                                         RenderedSection, RenderedBottomLine, SourceMixRow)}


class _Unstorable(Exception):
    """A value the JSON form cannot hold: the render is simply not cached."""


@dataclass
class CachedReport:
    """A rendered report and, once asked for (`RenderCache.load_pages`), its finished pages and downloads: those are
    stored apart and read only when the page is written, so a warm build never holds every page at once."""

    key: str
    fingerprints: dict[str, str]
    rendered: RenderedReport
    pages: dict[str, PageOutput] | None = None  # by page-context digest; None: not read yet
    downloads: dict[str, str] | None = None  # sources.bib, sources.json
    new: bool = False  # the render is not on disk yet
    lean: bool = False  # `rendered` is its summary (RenderedReport.summary_only); the whole render is on disk

    @property
    def pages_key(self) -> str:
        return Store.key("pages", self.key, json.dumps(self.fingerprints, sort_keys=True))


def report_key(report: Report, config: SiteConfig, style_key: str) -> str:
    """Everything a report's rendering depends on except its sources (`style_key`: the CSL file's content)."""
    return Store.key("rendered", config.model_dump_json(), style_key, report.slug, report.meta.model_dump_json(),
                     json.dumps(sorted(report.prose.items()), ensure_ascii=False))


def page_context_key(extra: dict[str, Any], permalink: str | None) -> str:
    return hashlib.sha256(json.dumps([extra, permalink], sort_keys=True, default=str).encode()).hexdigest()[:24]


class RenderCache:
    """Per-report entries; `disk` is the cache folder (None: memory only)."""

    def __init__(self, disk: Path | None = None, style_key: str = ""):
        self.disk = disk
        self.style_key = style_key
        # A streamed build keeps only a summary of each render it reads from disk, and reads the whole render back
        # only if the report's page is not cached as well (`whole`): a warm build never holds every report's body.
        # A fresh render stays whole until its page is written (reading it back would cost more than it saves).
        self.lean = False
        self.memory: dict[str, CachedReport] = {}
        self.dirty: set[str] = set()  # entries to write: a new render, or pages it gained
        self.hits = self.misses = 0

    @property
    def store(self) -> Store:
        return Store(self.disk)

    def get(self, report: Report, config: SiteConfig, bib: Bibliography) -> CachedReport | None:
        key = report_key(report, config, self.style_key)
        entry = self.memory.get(report.slug)
        if entry is not None and (entry.key != key or not _sources_unchanged(entry.fingerprints, bib)):
            entry = None
        if entry is None:
            entry = self._read(report, config, bib, key)  # checks the fingerprints itself, before decoding
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        entry.rendered.report, entry.rendered.config = report, config
        for reference in entry.rendered.references:  # the bibliography's own objects (same fingerprint)
            reference.source = bib.sources[reference.source.key]
        if self.lean and not entry.lean and not entry.new:
            entry.rendered, entry.lean = entry.rendered.summary_only(), True
        self.memory[report.slug] = entry
        return entry

    def whole(self, entry: CachedReport, bib: Bibliography) -> RenderedReport | None:
        """The whole render of an entry kept lean, read back from disk (None if it can no longer be read)."""
        if not entry.lean:
            return entry.rendered
        summary = entry.rendered
        found = self._read(summary.report, summary.config, bib, entry.key)
        if found is None:
            return None
        found.rendered.report, found.rendered.config = summary.report, summary.config
        return found.rendered

    def put(self, rendered: RenderedReport, config: SiteConfig, bib: Bibliography) -> CachedReport | None:
        """Keep a render that had no problems and found every key it looked up in the bibliography."""
        found = {k: bib.source(k) for k in sorted(rendered.looked_up)}
        if any(source is None for source in found.values()):
            return None
        fingerprints = {k: source.fingerprint() for k, source in found.items() if source is not None}
        entry = CachedReport(report_key(rendered.report, config, self.style_key), fingerprints, rendered, {}, {},
                             new=True)
        self.memory[rendered.report.slug] = entry
        self.dirty.add(rendered.report.slug)
        return entry

    def changed(self, entry: CachedReport) -> None:
        self.dirty.add(entry.rendered.report.slug)

    def load_pages(self, entry: CachedReport) -> None:
        """Read the entry's pages and downloads from disk, once (none there: empty)."""
        if entry.pages is not None and entry.downloads is not None:
            return
        entry.pages, entry.downloads = {}, {}
        data = self.store.read("pages", entry.rendered.report.slug, entry.pages_key)
        if not isinstance(data, dict):
            return
        try:
            entry.pages = {k: PageOutput(v["meta"], v["html"], v["toc"]) for k, v in data["pages"].items()}
            entry.downloads = {str(k): str(v) for k, v in data["downloads"].items()}
        except (KeyError, TypeError, AttributeError):
            entry.pages, entry.downloads = {}, {}

    def release(self, slug: str) -> None:
        """Write the entry if it changed, and let it go: a one-off build keeps no report once its files are out."""
        if slug in self.dirty and slug in self.memory:
            self.write(self.memory[slug])
        self.dirty.discard(slug)
        self.memory.pop(slug, None)

    def flush(self) -> None:
        """Write the entries that are new or gained a page since they were read."""
        for slug in sorted(self.dirty):
            if slug in self.memory:
                self.write(self.memory[slug])
        self.dirty.clear()

    def write(self, entry: CachedReport) -> None:
        """The render (when new) and the pages and downloads (when made or read), as two files: a warm build reads
        every render up front but each page only when it writes it."""
        if self.disk is None:
            return
        slug = entry.rendered.report.slug
        if entry.new:
            try:
                data = {"fingerprints": entry.fingerprints, "rendered": _encode_rendered(entry.rendered)}
            except _Unstorable:
                return
            self.store.write("rendered", slug, entry.key, data)
            entry.new = False
        if entry.pages or entry.downloads:
            assert entry.pages is not None and entry.downloads is not None
            pages = {k: {"meta": p.meta, "html": p.html, "toc": p.toc} for k, p in entry.pages.items()}
            self.store.write("pages", slug, entry.pages_key, {"pages": pages, "downloads": entry.downloads})

    def _read(self, report: Report, config: SiteConfig, bib: Bibliography, key: str) -> CachedReport | None:
        data = self.store.read("rendered", report.slug, key)
        if not isinstance(data, dict):
            return None
        try:
            fingerprints = dict(data["fingerprints"])
            if not _sources_unchanged(fingerprints, bib):
                return None
            rendered = _decode_rendered(data["rendered"], report, config, bib)
            return CachedReport(key, fingerprints, rendered)
        except (KeyError, TypeError, ValueError, IndexError, _Unstorable):
            return None


def _sources_unchanged(fingerprints: dict[str, str], bib: Bibliography) -> bool:
    for key, fingerprint in fingerprints.items():
        source = bib.source(key)  # a citation of an identifier: the entry it names now
        if source is None or source.fingerprint() != fingerprint:
            return False
    return True


# -- JSON form of a RenderedReport ----------------------------------------------------------------------


def _encode_rendered(rendered: RenderedReport) -> dict[str, Any]:
    meta = rendered.report.meta
    claims = {id(c): i for i, c in enumerate(meta.claims)}
    narratives = {id(n): i for i, n in enumerate(meta.narratives)}

    def encode(value: Any) -> Any:
        if isinstance(value, Markup):
            return {"m": str(value)}
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {"d": {k: encode(v) for k, v in value.items()}}
        if isinstance(value, Claim) and id(value) in claims:
            return {"claim": claims[id(value)]}
        if isinstance(value, Narrative) and id(value) in narratives:
            return {"narrative": narratives[id(value)]}
        if isinstance(value, Rating):
            return {"rating": value.id}
        if isinstance(value, ReferenceEntry):
            return {"ref": [value.number, value.source.key, value.formatted.html, value.formatted.text, value.anchor,
                            value.backlinks, value.formatted.style_accessed, value.csl]}
        if _PARTS.get(type(value).__name__) is type(value) and dataclasses.is_dataclass(value):
            return {"part": [type(value).__name__, {f.name: encode(getattr(value, f.name))
                                                    for f in dataclasses.fields(value)}]}
        raise _Unstorable(type(value).__name__)

    return {f.name: encode(getattr(rendered, f.name)) for f in dataclasses.fields(rendered) if f.name not in _REBUILT}


def _decode_rendered(data: dict[str, Any], report: Report, config: SiteConfig, bib: Bibliography) -> RenderedReport:
    meta = report.meta
    ratings = {r.id: r for r in config.ratings}

    def decode(value: Any) -> Any:
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            raise _Unstorable("malformed entry")
        [(tag, inner)] = value.items()
        if tag == "m":
            return Markup(inner)  # noqa: S704 - our own rendered, sanitised HTML, stored by RenderCache.write
        if tag == "d":
            return {k: decode(v) for k, v in inner.items()}
        if tag == "claim":
            return meta.claims[inner]
        if tag == "narrative":
            return meta.narratives[inner]
        if tag == "rating":
            return ratings[inner]
        if tag == "ref":
            number, key, html, text, anchor, backlinks, style_accessed, csl = inner
            source = bib.sources[key]
            return ReferenceEntry(number, source, shared(source, "formatted", FormattedReference(html, text,
                                  bool(style_accessed))), anchor, list(backlinks), shared(source, "csl-item", dict(csl)))
        if tag == "part":
            name, fields = inner
            return _PARTS[name](**{k: decode(v) for k, v in fields.items()})
        raise _Unstorable(tag)

    values = {name: decode(value) for name, value in data.items()}
    return RenderedReport(report=report, config=config,
                          revisions=sorted(meta.revisions, key=lambda r: r.version, reverse=True), **values)
