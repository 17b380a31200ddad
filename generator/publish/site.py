"""The site, once for every engine: load → validate → render → history → pages → PDFs → feed, into a typed
`SiteOutput` that an engine adapter only has to place in its theme.

Every generated page is finished HTML with its table of contents, its search text and its place in the
navigation; every other file (PDFs, downloads, the feed, redirects) is bytes at a path. Problems travel inside
the result. The MkDocs plugin and the Zensical adapter are the two consumers; neither renders anything itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import os
import shutil
import tempfile
import textwrap
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

from generator import PACKAGE_DIR
from generator.build import BuildResult, Project, build_project
from generator.cache import UMASK, Store
from generator.errors import Problems
from generator.history.versions import (
    SiteHistory,
    changes_page_output,
    collect_history,
    corrections,
    latest_version_page,
    version_context,
    version_page,
)
from generator.i18n import N_, labels
from generator.publish.card import Card, NoFont, report_card
from generator.publish.feed import FEED_PATH, atom_feed
from generator.publish.pdf import PdfCache, export_pdfs
from generator.render.cache import page_context_key
from generator.render.report import SHARE_META, PageOutput, ReferenceEntry, RenderedReport, front_matter, report_dates
from generator.sources.bib import PUBLISHED_FIELDS, Source
from generator.sources.references import csl_item, memo
from generator.urls import report_path, site_address
from generator.workers import default_workers

ASSETS = PACKAGE_DIR / "assets"
HOME_SCRIPT = "assets/report/home.js"  # the home page's filter; loaded by the home page alone
STYLESHEETS = {f"assets/report/{name}": ASSETS / name for name in ("kinds.css", "report.css")}


@dataclass(frozen=True)
class TocEntry:
    """One heading of a page's table of contents."""

    level: int
    id: str
    name: str  # HTML text (entities kept), as Python-Markdown's toc extension gives it
    children: tuple[TocEntry, ...] = ()

    @classmethod
    def from_tokens(cls, tokens: list[dict[str, Any]]) -> tuple[TocEntry, ...]:
        return tuple(cls(t["level"], t["id"], t["name"], cls.from_tokens(t.get("children", []))) for t in tokens)

    def token(self) -> dict[str, Any]:
        """Python-Markdown's `toc_tokens` shape, which both engines read."""
        return {"level": self.level, "id": self.id, "name": self.name, "html": self.name, "data-toc-label": "",
                "children": [child.token() for child in self.children]}


@dataclass(frozen=True)
class Page:
    """A generated page: `path` is its source path (`example/index.md`, served at `example/`)."""

    path: str
    title: str  # text; the adapter escapes it for the theme
    description: str
    html: str  # the finished body
    toc: tuple[TocEntry, ...]
    search_html: str  # what the site search should index ("" with `searchable` False)
    searchable: bool
    in_nav: bool
    share: dict[str, Any] = field(default_factory=dict)  # link-preview and index data for the theme's <head>
    spooled: Path | None = None  # html and search_html are in this file, one after the other, not in memory
    split: int = 0  # where search_html starts in the spooled file (characters)

    @classmethod
    def from_output(cls, path: str, output: PageOutput) -> Page:
        searchable = not (output.meta.get("search") or {}).get("exclude", False)
        return cls(path, str(output.meta.get("title", "")), str(output.meta.get("description", "")), output.html,
                   TocEntry.from_tokens(output.toc), output.search_html() if searchable else "", searchable,
                   listed_in_nav(path), dict(output.meta.get(SHARE_META) or {}))

    def texts(self) -> tuple[str, str]:
        """The finished HTML body and what the site search should index (read from the spool, once for both)."""
        if self.spooled is None:
            return self.html, self.search_html
        text = self.spooled.read_text(encoding="utf-8")
        return text[:self.split], text[self.split:]

    def body(self) -> str:
        """The finished HTML body."""
        return self.texts()[0]

    def meta(self) -> dict[str, Any]:
        """Title, description, search settings and share data, as text (an adapter escapes them for its theme). A
        page without a title (the home page) is titled by the theme with the site's name alone."""
        meta: dict[str, Any] = {"title": self.title} if self.title else {}
        if self.description:
            meta["description"] = self.description
        if not self.searchable:
            meta["search"] = {"exclude": True}
        if self.share:
            meta[SHARE_META] = self.share
        return meta

    def front_matter(self) -> str:
        """`meta()` as YAML front matter (values as written: `front_matter`)."""
        return front_matter(self.meta())


@dataclass(frozen=True)
class HeadLink:
    """A `<link>` every page's `<head>` should carry (the feed)."""

    rel: str
    type: str
    title: str
    href: str  # relative to the site root


@dataclass
class SiteOutput:
    """Everything an engine publishes besides the desk's own docs/ files."""

    result: BuildResult
    history: SiteHistory | None = None
    pages: dict[str, Page] = field(default_factory=dict)
    files: dict[str, bytes | Path] = field(default_factory=dict)  # bytes, or the spool's file that holds them
    stylesheets: dict[str, Path] = field(default_factory=lambda: dict(STYLESHEETS))
    head_links: list[HeadLink] = field(default_factory=list)
    spool: Path | None = None  # where pages and files were written as they were made (`build_site`)
    files_dir: Path | None = None  # where files were written instead, when the engine lets them be (`build_site`)
    _folders: set[Path] = field(default_factory=set, repr=False)  # made in the spool already
    _spooled: int = field(default=0, repr=False)  # pages written to the spool so far

    def add(self, path: str, content: str | bytes | PageOutput) -> None:
        """One generated page or file, written to the spool at once when there is one."""
        if isinstance(content, PageOutput):
            page = Page.from_output(path, content)
            if self.spool is not None:  # its body and search text in one file (numbered: one folder for all, where
                # folders per report would cost a directory each); title, headings and nav stay in memory
                self._spooled += 1
                target = self._place(self.spool / "pages", f"{self._spooled:06d}.page")
                target.write_text(page.html + page.search_html, encoding="utf-8")
                page = dataclasses.replace(page, html="", search_html="", spooled=target, split=len(page.html))
            self.pages[path] = page
            return
        data = content.encode("utf-8") if isinstance(content, str) else content
        if self.spool is None:
            self.files[path] = data
            return
        target = self._place(self.files_dir or self.spool / "files", path)
        target.write_bytes(data)
        self.files[path] = target

    def _place(self, folder: Path, path: str) -> Path:
        """Where a generated file goes in `folder` (`path` is one the core made: a report's slug and a fixed name,
        never a reader's or a pull request's choice of `..`)."""
        parts = Path(path).parts
        if ".." in parts or Path(path).is_absolute():
            raise ValueError(f"not a site path: {path}")
        target = folder / path
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        return target

    def data(self, path: str) -> bytes:
        """A generated file's bytes."""
        value = self.files[path]
        return value.read_bytes() if isinstance(value, Path) else value

    @property
    def problems(self) -> Problems:
        return self.result.problems

    @property
    def ok(self) -> bool:
        return self.result.ok

    def sitemap(self, own_pages: list[str]) -> bytes | None:
        """sitemap.xml for the current pages: the home page, every report's page and the desk's own pages
        (`own_pages`: their addresses relative to the site's root, `""` for a home page of the desk's own); never
        an archived version, a "what changed" page or a redirect. `lastmod` is the content's date (a report's newest
        revision; the home page's, the newest of them all), never a commit's or the build's; the desk's own pages
        have none. None without `site_url`: a sitemap lists absolute addresses, and one with no entry is invalid."""
        site_url = self.result.config.site_url
        if not site_url:
            return None
        dates = {report_path(r.report.slug): report_dates(r)[1] for r in self.result.rendered}
        entries: dict[str, dt.date | None] = {"": max(dates.values(), default=None), **dates}
        topics: dict[str, list[dt.date]] = {}
        for r in self.result.rendered:  # a topic's page changes when one of its reports does
            for slug in r.topic_slugs:
                topics.setdefault(slug, []).append(dates[report_path(r.report.slug)])
        if topics:
            entries["topics/"] = max(max(d) for d in topics.values())
            entries.update({f"topics/{slug}/": max(d) for slug, d in sorted(topics.items())})
        for path in own_pages:
            entries[path] = None
        return sitemap_xml(site_url, entries)


def build_site(project: Project, *, permalink: str | None = None, partial: bool = False,
               spool: Path | None = None, files_dir: Path | None = None) -> SiteOutput:
    """The whole site sequence. With errors nothing is generated, unless `partial` (a preview): then whatever
    rendered is published, so a half-written report still shows.

    With `spool` (an empty folder that outlives the engine's build), a one-off build streams: every page body and
    file is written there as it is made, and each report's full render is let go once its files are out, so memory
    holds one report's output at a time. Without it (a preview, which rebuilds from what it keeps), all of it stays
    in memory. With `files_dir` as well (the engine's own output folder, already emptied), files other than pages
    are written straight there: written once, never copied."""
    project.stream = spool is not None
    result = build_project(project)
    history = collect_history(project, result) if result.ok else None  # warns when archives are skipped
    site = SiteOutput(result, history, spool=spool, files_dir=files_dir if spool is not None else None)
    if result.renderer is None or not (result.ok or partial):
        return site
    name = result.config.site_name or "Evidence reports"
    if not result.config.site_url:  # once per build: every address is still right, relative to where it is written
        result.problems.warning(project.root / "mkdocs.yml", None, "site_url is not set, so link previews (Open Graph "
                                "and Twitter cards), canonical links, ClaimReview data and the feed can only give "
                                "relative addresses, \"Cite this report\" and the PDFs give none, and no sitemap.xml "
                                "is published (a sitemap must list absolute addresses)",
                                "add `site_url: https://…/` (the address the site is published at) to mkdocs.yml",
                                code="no-site-url")
    site.head_links.append(HeadLink("alternate", "application/atom+xml", f"{name}: report revisions", FEED_PATH))
    docs = project.root / result.config.docs_dir
    if not (docs / ROBOTS_PATH).exists():  # a desk's own robots.txt wins
        site.add(ROBOTS_PATH, robots_txt(result.config.site_url))
    for path, content in iter_site_files(result, pdf_cache=project.pdf_cache, history=history, permalink=permalink,
                                         release=spool is not None):
        site.add(path, content)
    return site


SITEMAP_PATH = "sitemap.xml"
ROBOTS_PATH = "robots.txt"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_xml(site_url: str, entries: dict[str, dt.date | None]) -> bytes:
    """A sitemap (protocol 0.9) of `entries`: address relative to the site's root → last modified (or None)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for path in sorted(entries):
        date = entries[path]
        lastmod = f"<lastmod>{date.isoformat()}</lastmod>" if date else ""
        lines.append(f"  <url><loc>{xml_escape(site_address(site_url, path))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def sitemap_gzip(data: bytes, newest: dt.date | None) -> bytes:
    """sitemap.xml.gz, dated by the newest content date (never the clock): the same bytes for the same site."""
    mtime = int(dt.datetime(newest.year, newest.month, newest.day, tzinfo=dt.UTC).timestamp()) if newest else 0
    return gzip.compress(data, compresslevel=9, mtime=mtime)


def robots_txt(site_url: str) -> str:
    """robots.txt: every crawler may read everything (archived versions say `noindex` themselves, which a crawler
    must be allowed to read); the sitemap's absolute address when there is one."""
    text = "User-agent: *\nAllow: /\n"
    return text + (f"\nSitemap: {site_address(site_url, SITEMAP_PATH)}\n" if site_url else "")


def write_index_files(site: SiteOutput, site_dir: Path, own_pages: list[str]) -> None:
    """Replace what an engine wrote as sitemap.xml (MkDocs and Zensical list every page, archives and redirects
    included, dated by the build or not at all, and write an invalid empty one without `site_url`) by ours."""
    for name in (SITEMAP_PATH, SITEMAP_PATH + ".gz"):
        (site_dir / name).unlink(missing_ok=True)
    data = site.sitemap(own_pages)
    if data is None:
        return
    (site_dir / SITEMAP_PATH).write_bytes(data)
    newest = max((report_dates(r)[1] for r in site.result.rendered), default=None)
    (site_dir / (SITEMAP_PATH + ".gz")).write_bytes(sitemap_gzip(data, newest))


def new_site_folder(site_dir: Path) -> Path:
    """An empty folder beside `site_dir` for an engine to build into; `replace_site` swaps it in on success. Its
    permissions are those of any folder made under the user's umask (0755 as a rule), not a temporary folder's
    0700: a web server reading the published site must be able to enter it."""
    folder = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.", dir=site_dir.parent))
    folder.chmod(0o777 & ~UMASK)
    return folder


def replace_site(staging: Path, site_dir: Path) -> None:
    """Put a finished build in place of `site_dir` in two renames: a failed build never touched the old site, and
    a reader of `site_dir` never sees half of one."""
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    if site_dir.exists():
        site_dir.rename(old)
    staging.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)


def site_files(result: BuildResult, extra: dict[str, dict[str, object]] | None = None,
               pdf_cache: PdfCache | None = None, history: SiteHistory | None = None,
               permalink: str | None = None) -> dict[str, str | bytes | PageOutput]:
    """Every generated page and download, by its path in the site's source tree (`iter_site_files`, all at once)."""
    return dict(iter_site_files(result, extra, pdf_cache, history, permalink))


SiteFile = tuple[str, "str | bytes | PageOutput"]


def iter_site_files(result: BuildResult, extra: dict[str, dict[str, object]] | None = None,
                    pdf_cache: PdfCache | None = None, history: SiteHistory | None = None,
                    permalink: str | None = None, release: bool = False) -> Iterator[SiteFile]:
    """Every generated page and download with its path in the site's source tree, one at a time: pages are
    `PageOutput`s (finished HTML + headings), downloads text or bytes; `<slug>/v<M>/index.html` for the latest
    version is a static redirect page. A report's files come together (its PDF, card, page, downloads and versions),
    so a consumer that writes each to disk holds one report's files at a time. With `release` (a one-off build), a
    report's whole render is let go once its files are out and only its summary stays in `result.rendered` (what
    the feed, the sitemap and the navigation read); a render the cache keeps lean (`Project.stream`) is read back
    whole only when something needs more than its summary (a page not in the cache, a PDF, earlier versions)."""
    assert result.renderer is not None
    renderer = result.renderer
    history = history or SiteHistory.current(result)
    cache = result.render_cache
    site_name = result.config.site_name or "Evidence reports"
    yield "index.md", renderer.home_page(result.rendered, site_name, permalink)
    yield HOME_SCRIPT, (ASSETS / "home.js").read_bytes()
    yield from renderer.topic_pages(result.rendered, permalink).items()

    def whole(rendered: RenderedReport) -> RenderedReport:
        entry = cache.memory.get(rendered.report.slug) if cache else None
        if cache is None or entry is None or entry.rendered is not rendered or not entry.lean:
            return rendered
        # read back from disk; rendered afresh (as it was a moment ago) if its cache file has gone meanwhile
        return cache.whole(entry, result.bib) or renderer.render_report(rendered.report, result.problems)

    for rendered in result.rendered:  # a correction's page compares the latest version with earlier ones, whole
        versions = history.reports.get(rendered.report.slug)
        if versions is not None and len(versions.versions) > 1:
            versions.versions[versions.latest].rendered = whole(rendered)
    extras = {slug: dict(values) for slug, values in (extra or {}).items()}
    rerated = {r.report.slug: corrections(history.reports.get(r.report.slug)) for r in result.rendered}
    for slug, found in rerated.items():
        extras.setdefault(slug, {})["corrections"] = found
    # PDFs first: each page links to its PDF and shows the file size
    pdfs = export_pdfs((whole(r) for r in result.rendered), renderer, pdf_cache, corrections=rerated) \
        if result.config.pdf else {}
    store = Store(cache.disk if cache else None)
    count, ahead = len(result.rendered), 2 * default_workers(len(result.rendered))
    with ThreadPoolExecutor(max_workers=ahead // 2) as pool:  # Pillow draws and compresses without holding the
        # GIL: cards are drawn side by side, a few reports ahead of the pages (never all of them held at once)
        def draw(index: int) -> Future[Card]:
            return pool.submit(report_card, result.rendered[index], site_name, store)

        cards = deque(draw(index) for index in range(min(ahead, count)))
        for index in range(count):
            rendered = result.rendered[index]
            slug = rendered.report.slug
            future = cards.popleft()
            if index + ahead < count:
                cards.append(draw(index + ahead))
            pdf = pdfs.pop(slug, None)
            if pdf is not None:
                yield f"{slug}/{slug}.pdf", pdf.data
                extras.setdefault(slug, {})["pdf"] = {"href": f"{slug}.pdf", "size": pdf.size}
            card = _card(future, rendered, result.problems)
            if card is not None:  # the page's og:image points at it
                yield card.path, card.data
                extras.setdefault(slug, {})["card"] = {"path": card.path, "alt": card.alt}
            yield from _report_files(result, rendered, whole, history, extras.get(slug, {}), permalink)
            if release:
                result.rendered[index] = rendered.summary_only()
                if slug in history.reports:
                    history.reports[slug].release()
                if cache:
                    cache.release(slug)
    yield FEED_PATH, atom_feed(result, history)
    if cache:
        cache.flush()


def _card(future: Future[Card], rendered: RenderedReport, problems: Problems) -> Card | None:
    try:
        card = future.result()
    except (NoFont, OSError) as exc:
        problems.warning(rendered.report.path, None, f"the share card was not drawn: {exc}",
                         "install fonts-dejavu-core or fonts-noto-core (scripts/system-deps.sh)", code="share-card")
        return None
    if card.missing:
        problems.warning(rendered.report.path, None, "the share card shows boxes for characters that no installed "
                         f"font has, in: {card.missing[:200]}", "install a font for the script (fonts-noto-core; "
                         "fonts-noto-cjk for Chinese, Japanese and Korean)", code="share-card")
    return card


def _report_files(result: BuildResult, rendered: RenderedReport, whole: Callable[[RenderedReport], RenderedReport],
                  history: SiteHistory, extra: dict[str, Any], permalink: str | None) -> Iterator[SiteFile]:
    """One report's page and downloads (from the render cache when it holds them for this page's context), and its
    archived versions; `whole` gives the whole render when `rendered` is a summary and more is needed."""
    assert result.renderer is not None
    renderer, cache, slug = result.renderer, result.render_cache, rendered.report.slug
    versions = history.reports.get(slug)
    page_extra = {**version_context(versions, ""), **extra}
    entry = cache.memory.get(slug) if cache else None
    if entry is None or entry.rendered is not rendered:  # a render with problems is never cached
        page, bib, csl = renderer.page(whole(rendered), page_extra, permalink), sources_bibtex(rendered), \
            sources_csl_json(rendered)
    else:
        assert cache is not None
        cache.load_pages(entry)
        assert entry.pages is not None and entry.downloads is not None
        context = page_context_key(page_extra, permalink)
        if context not in entry.pages or not entry.downloads:
            entry.pages = {context: renderer.page(whole(rendered), page_extra, permalink)}
            entry.downloads = {"sources.bib": sources_bibtex(rendered), "sources.json": sources_csl_json(rendered)}
            cache.changed(entry)
        page, bib, csl = entry.pages[context], entry.downloads["sources.bib"], entry.downloads["sources.json"]
    yield f"{slug}/index.md", page
    yield f"{slug}/sources.bib", bib
    yield f"{slug}/sources.json", csl
    if versions is None:
        return
    for number, version in sorted(versions.versions.items()):
        if number == versions.latest:
            yield f"{slug}/v{number}/index.html", latest_version_page(versions)
        else:
            yield f"{slug}/v{number}/index.md", version_page(versions, number, permalink)
        same = number == versions.latest  # the downloads of the main page
        yield f"{slug}/v{number}/sources.bib", bib if same else sources_bibtex(version.rendered)
        yield f"{slug}/v{number}/sources.json", csl if same else sources_csl_json(version.rendered)
        if versions.has_changes(number):
            yield f"{slug}/v{number}/changes/index.md", changes_page_output(versions, number, renderer, permalink)


# Up to this many reports, a site without topics lists its reports in the navigation; past it, the home page's
# list (filtered, sorted) is the way in, and the sidebar stays short.
NAV_REPORTS = 20


def navigation(site: SiteOutput, own_pages: list[str], title: Callable[[str], str] = str) -> list[Any]:
    """The sidebar when mkdocs.yml sets none, for both engines: Home, then the topics (or, on a small site without
    topics, the reports by short title), then the desk's own pages. `title` escapes a label for the theme."""
    words = labels(site.result.config.language)
    nav: list[Any] = [{title(words.text(N_("Home"))): "index.md"}]
    topics = sorted((p for p in site.pages if p.startswith("topics/") and p.count("/") == 2),
                    key=lambda p: site.pages[p].title.casefold())
    if topics:
        nav.append({title(words.text(N_("Topics"))): ["topics/index.md", *({title(site.pages[p].title): p}
                                                                           for p in topics)]})
    elif 0 < len(site.result.rendered) <= NAV_REPORTS:
        nav.append({title(words.text(N_("Reports"))): [{title(r.report.short_title): f"{r.report.slug}/index.md"}
                                                         for r in site.result.rendered]})
    return [*nav, *own_pages]


def listed_in_nav(uri: str) -> bool:
    """Version and changes pages are reached from the revision history, not the navigation."""
    parts = uri.split("/")
    return not (len(parts) > 2 and parts[1][:1] == "v" and parts[1][1:].isdigit())


def sources_bibtex(rendered: RenderedReport) -> str:
    """The cited sources of a report as BibTeX, in citation order: bibliographic fields only (PUBLISHED_FIELDS).

    bibtexparser writes a library block by block, joined by a blank line, so each entry is written once per
    source and reused by every report that cites it (byte-identical to writing the whole library at once)."""
    extra = frozenset(rendered.config.published_fields)
    return "\n\n".join(memo(entry.source, f"bibtex:{sorted(extra)}", lambda s: _entry_bibtex(s, extra))
                         for entry in rendered.references)


def _entry_bibtex(source: Source, extra: frozenset[str] = frozenset()) -> str:
    library = Library()
    library.add(Entry(source.entry_type, source.key,
                      [Field(k, v) for k, v in source.fields.items() if k in PUBLISHED_FIELDS or k in extra]))
    return bibtexparser.write_string(library)


def sources_csl_json(rendered: RenderedReport) -> str:
    """The cited sources as CSL-JSON: exactly `json.dumps(items, indent=2, sort_keys=True)`, but each item is
    encoded once per source (JSON strings hold no raw newline, so indenting an item's lines is exact)."""
    if not rendered.references:
        return "[]\n"
    return "[\n" + ",\n".join(_csl_json_item(entry) for entry in rendered.references) + "\n]\n"


def download_item(entry: ReferenceEntry) -> dict[str, Any]:
    """A cited source as the download gives it: the CSL item its style formatted (Pandoc's reading of the entry),
    with the note to readers; this tool's own mapping when the engine had none."""
    item = dict(entry.csl) if entry.csl else dict(csl_item(entry.source))
    note = entry.source.text("note")
    if note:
        item["note"] = note
    return item


def _csl_json_item(entry: ReferenceEntry) -> str:
    encode = lambda _source: textwrap.indent(  # noqa: E731 - once per source and item
        json.dumps(download_item(entry), ensure_ascii=False, indent=2, sort_keys=True), "  ")
    return memo(entry.source, f"csl-json:{bool(entry.csl)}", encode)
