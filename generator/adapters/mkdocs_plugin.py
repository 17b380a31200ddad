"""The MkDocs adapter: wires the core into MkDocs events and adds nothing of its own."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from pydantic import BaseModel

from generator import PACKAGE_DIR
from generator.build import RESERVED_META, Project
from generator.config import SiteConfig
from generator.publish.site import STYLESHEETS, SiteOutput, build_site, navigation, write_index_files
from generator.publish.site import Page as ReportPage
from generator.render.report import MetaTooLarge, escape_meta, html_text, permalink_symbol
from generator.reproducible import ENV, source_date_epoch
from generator.sanitize import clean_page

log = logging.getLogger("mkdocs.plugins.report")
THEME_DIR = PACKAGE_DIR / "theme"  # main.html: the feed link in every page's <head>


_FROM_MKDOCS = {"site_name", "site_url", "docs_dir"}  # MkDocs' own settings, copied into SiteConfig


def _option(name: str, info: Any) -> Any:
    """A MkDocs option for one SiteConfig field: MkDocs checks the type, SiteConfig validates the value."""
    annotation, default = info.annotation, info.get_default(call_default_factory=True)
    if get_origin(annotation) is Literal:
        return c.Choice(get_args(annotation), default=default)
    if annotation in (bool, str) and name != "language":
        return c.Type(annotation, default=default)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # services: a mapping of settings
        return c.Optional(c.Type(dict))
    return c.Optional(c.Type(str if annotation is str else list))  # language: the theme's; ratings: the default


# Options under `plugins: - report:`, generated from SiteConfig so the two can never disagree.
if TYPE_CHECKING:
    ReportPluginConfig = base.Config
else:
    ReportPluginConfig = type("ReportPluginConfig", (base.Config,), {
        name: _option(name, info) for name, info in SiteConfig.model_fields.items() if name not in _FROM_MKDOCS})


class ReportPlugin(BasePlugin[ReportPluginConfig]):
    def __init__(self) -> None:
        self.auto_nav = True
        self.command = "build"
        self.project: Project | None = None
        self.site: SiteOutput | None = None
        self.pages: dict[str, ReportPage] = {}
        self.generated: set[str] = set()  # src paths of the pages the core made (HTML of our own templates)
        self.own_urls: list[str] = []  # the desk's own pages, by address (the sitemap lists them)
        self.spool: Path | None = None  # a build's generated files on disk, until MkDocs has copied them
        self.writing = ("", "", "")  # the page being written: its path, body and search text

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Defining on_startup keeps this instance across `mkdocs serve` rebuilds, so the parsed bib is reused."""
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path).parent
        self.epoch_set = not os.environ.get(ENV, "").strip().isdigit()
        if self.epoch_set:  # a plain `mkdocs build` dates the sitemap by the last commit, not the clock
            os.environ[ENV] = str(source_date_epoch(root))
        options: dict[str, Any] = {k: v for k, v in self.config.items() if v is not None}
        options.setdefault("language", config.theme.get("language") or "en")
        options["site_name"] = config.site_name
        options["site_url"] = config.site_url or ""
        options["docs_dir"] = config.docs_dir
        site_config = SiteConfig(**options)
        if self.project is None or self.project.root != root or self.project.config != site_config:
            self.project = Project(root=root, config=site_config)
        self.auto_nav = config.nav is None
        for uri in STYLESHEETS:
            if uri not in config.extra_css:
                config.extra_css.append(uri)
        _add_theme_dir(config)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.project is not None
        self._drop_spool()
        if self.command != "serve":  # a one-off build streams its pages and files through a folder on disk
            self.spool = Path(tempfile.mkdtemp(prefix="report-spool-"))
        # MkDocs empties site_dir before this event: generated files are written there at once, not copied
        self.site = site = build_site(self.project, permalink=_permalink(config), partial=self.command == "serve",
                                      spool=self.spool, files_dir=Path(config.site_dir) if self.spool else None)
        for problem in site.problems.sorted():
            (log.error if problem.severity.value == "error" else log.warning)(problem.format())
        if not site.ok and not site.pages:
            raise PluginError(f"report: {len(site.problems.errors)} error(s) in content or sources; see above")
        # While previewing, a half-written report still shows (an unknown key as `?key`); builds stop above.
        self.pages = {}
        self.generated = set()
        for uri, page in site.pages.items():
            if uri == "index.md" and files.get_file_from_path("index.md") is not None:
                continue  # the desk's own home page wins
            self.generated.add(uri)
            self.pages[uri] = page  # finished HTML: MkDocs gets only its front matter to convert
            inclusion = InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV
            _replace(files, File.generated(config, uri, content=page.front_matter(), inclusion=inclusion))
        for uri, data in site.files.items():
            self.generated.add(uri)
            if isinstance(data, Path):  # already in site_dir: a docs/ file at its path must not overwrite it
                existing = files.get_file_from_path(uri)
                if existing is not None:
                    files.remove(existing)
            else:
                _replace(files, File.generated(config, uri, content=data))
        for uri, path in site.stylesheets.items():
            _replace(files, File.generated(config, uri, abs_src_path=str(path)))
        if self.auto_nav:
            config.nav = self._navigation(files, site)
        self.own_urls = [f.url for f in files.documentation_pages() if f.src_uri not in self.generated]
        return files

    def _navigation(self, files: Files, site: SiteOutput) -> list[Any]:
        """Home, the topics (or a small site's reports), then the user's own pages (only when mkdocs.yml sets no
        nav)."""
        generated = {f"{r.report.slug}/" for r in site.result.rendered} | {"topics/"}
        own = sorted(f.src_uri for f in files.documentation_pages()
                     if f.src_uri != "index.md" and not any(f.src_uri.startswith(g) for g in generated))
        return navigation(site, own)

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """A report page's body was rendered by the core: hand it over with its table of contents. Every page, ours
        and the desk's own, leaves here with its title and front matter escaped (MkDocs themes print them without
        escaping); a desk's own page is cleaned like report prose unless `sanitize_html: false`."""
        _escape_page_text(page)
        output = self.pages.get(page.file.src_uri)
        if output is None:
            sanitize = self.project is None or self.project.config is None or self.project.config.sanitize_html
            if not sanitize or page.file.src_uri in self.generated:
                return html
            for key in RESERVED_META:  # an error in `report check`; never honoured, even in a preview
                page.meta.pop(key, None)
            return clean_page(html)
        page.toc = get_toc([entry.token() for entry in output.toc])  # type: ignore[misc]
        # The body is put in place when the page is written (on_page_context), and let go once it is: MkDocs would
        # otherwise hold every page's body from the first page converted to the last page written.
        return ""

    def _texts(self, uri: str) -> tuple[str, str] | None:
        """A generated page's body and search text, read once for the page being written."""
        output = self.pages.get(uri)
        if output is None:
            return None
        if self.writing[0] != uri:
            self.writing = (uri, *output.texts())
        return self.writing[1], self.writing[2]

    @event_priority(100)  # before the search plugin indexes the page
    def _search_sees_text(self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
        texts = self._texts(page.file.src_uri)
        if texts is not None:
            page.content = texts[1]
        return context

    @event_priority(-100)  # after it: the theme renders the whole page
    def _theme_sees_all(self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
        texts = self._texts(page.file.src_uri)
        if texts is not None:
            page.content = texts[0]
        return context

    on_page_context = CombinedEvent(_search_sees_text, _theme_sees_all)

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if page.file.src_uri in self.pages:
            page.content = None  # written: its body is on disk (see on_page_content)
            self.writing = ("", "", "")
        return output

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        assert self.project is not None and self.project.config is not None
        for folder in (self.project.config.content_dir, self.project.config.bib_dir):
            path = self.project.root / folder
            if not path.exists() and not path.is_symlink():  # made now, so a folder added later is watched too
                path.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                server.watch(str(path))
        return server

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.site is not None:  # after MkDocs wrote its own sitemap.xml (every page, dated by the build)
            write_index_files(self.site, Path(config.site_dir), self.own_urls)
        self._drop_spool()
        self._restore_epoch()

    def on_build_error(self, *, error: Exception) -> None:
        self._drop_spool()
        self._restore_epoch()

    def _drop_spool(self) -> None:
        spool, self.spool = getattr(self, "spool", None), None
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)

    def _restore_epoch(self) -> None:
        if getattr(self, "epoch_set", False):
            os.environ.pop(ENV, None)
            self.epoch_set = False


def _escape_page_text(page: Page) -> None:
    """Title and front-matter text as HTML: Material prints `page.title`, `page.meta.title` and
    `page.meta.description` into the page (and <title>, <meta>) without escaping."""
    title = page.title  # from nav, front matter, the first heading or the file name: text, not HTML
    try:
        page.meta = {key: value if key == "template" else escape_meta(value) for key, value in page.meta.items()}
    except MetaTooLarge:  # an error in `report check` (project.check_docs); never expanded here
        page.meta = {}
    if title is not None:
        page.title = html_text(title)


def _replace(files: Files, file: File) -> None:
    """Add a generated file, replacing one at the same path (a user's file or a previous build's)."""
    existing = files.get_file_from_path(file.src_uri)
    if existing is not None:
        files.remove(existing)
    files.append(file)


def _permalink(config: MkDocsConfig) -> str | None:
    """The heading permalink symbol the user's `toc` extension settings ask for (report pages add it themselves)."""
    return permalink_symbol((config.mdx_configs or {}).get("toc", {}).get("permalink"))


def _add_theme_dir(config: MkDocsConfig) -> None:
    """Our main.html after the user's custom_dir and before the theme's, when the theme has a base.html."""
    dirs = config.theme.dirs
    if str(THEME_DIR) in dirs or not any((Path(d) / "base.html").exists() for d in dirs):
        return
    dirs.insert(1 if config.theme.custom_dir else 0, str(THEME_DIR))
