"""The MkDocs adapter: wires the core into MkDocs events and adds nothing of its own."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

from .config import SiteConfig
from .history import collect_history
from .project import STYLESHEETS, BuildResult, Project, build_project, listed_in_nav, site_files
from .render import PageOutput, html_text
from .reproducible import ENV, source_date_epoch
from .sanitize import clean_page

log = logging.getLogger("mkdocs.plugins.report")
CSS_URIS = {name: f"assets/report/{name}" for name in STYLESHEETS}
THEME_DIR = Path(__file__).parent / "theme"  # main.html: the feed link in every page's <head>


class ReportPluginConfig(base.Config):
    """Options under `plugins: - report:`; validated again by the core's SiteConfig."""

    content_dir = c.Type(str, default="content")
    bib_dir = c.Type(str, default="bib")
    csl_style = c.Type(str, default="ieee")
    language = c.Optional(c.Type(str))
    ratings = c.Optional(c.Type(list))
    sanitize_html = c.Type(bool, default=True)
    pdf = c.Type(bool, default=True)
    page_size = c.Choice(("A4", "Letter"), default="A4")
    cache_dir = c.Type(str, default=".cache/report")


class ReportPlugin(BasePlugin[ReportPluginConfig]):
    def __init__(self) -> None:
        self.auto_nav = True
        self.command = "build"
        self.project: Project | None = None
        self.result: BuildResult | None = None
        self.pages: dict[str, PageOutput] = {}
        self.generated: set[str] = set()  # src paths of the pages the core made (HTML of our own templates)

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
        for extension in ("attr_list", "toc"):
            if extension not in config.markdown_extensions:
                config.markdown_extensions.append(extension)
        for uri in CSS_URIS.values():
            if uri not in config.extra_css:
                config.extra_css.append(uri)
        _add_theme_dir(config)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.project is not None
        self.result = result = build_project(self.project)
        history = collect_history(self.project, result) if result.ok else None  # warns when archives are skipped
        for problem in result.problems.sorted():
            (log.error if problem.severity.value == "error" else log.warning)(problem.format())
        if not result.ok and (self.command != "serve" or result.renderer is None):
            raise PluginError(f"report: {len(result.problems.errors)} error(s) in content or sources; see above")
        # While previewing, a half-written report still shows (an unknown key as `?key`); builds stop above.
        generated = site_files(result, pdf_cache=self.project.pdf_cache, history=history, permalink=_permalink(config))
        self.pages = {}
        self.generated = set()
        for uri, content in generated.items():
            if uri == "index.md" and files.get_file_from_path("index.md") is not None:
                continue
            self.generated.add(uri)
            if isinstance(content, PageOutput):  # finished HTML: MkDocs gets only its front matter to convert
                self.pages[uri] = content
                content = content.front_matter()
            inclusion = InclusionLevel.UNDEFINED if listed_in_nav(uri) else InclusionLevel.NOT_IN_NAV
            _replace(files, File.generated(config, uri, content=content, inclusion=inclusion))
        for name, uri in CSS_URIS.items():
            _replace(files, File.generated(config, uri, abs_src_path=str(STYLESHEETS[name])))
        if self.auto_nav:
            config.nav = self._navigation(files, result)
        return files

    def _navigation(self, files: Files, result: BuildResult) -> list[Any]:
        """Home, the reports by short title, then the user's own pages (only when mkdocs.yml sets no nav)."""
        reports = [{r.report.short_title: f"{r.report.slug}/index.md"} for r in result.rendered]
        generated = {f"{r.report.slug}/" for r in result.rendered}
        own = sorted(f.src_uri for f in files.documentation_pages()
                     if f.src_uri != "index.md" and not any(f.src_uri.startswith(g) for g in generated))
        return [{"Home": "index.md"}, {"Reports": reports}, *own]

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """A report page's body was rendered by the core: hand it over with its table of contents. Every page, ours
        and the desk's own, leaves here with its title and front matter escaped (MkDocs themes print them without
        escaping); a desk's own page is cleaned like report prose unless `sanitize_html: false`."""
        _escape_page_text(page)
        output = self.pages.get(page.file.src_uri)
        if output is None:
            sanitize = self.project is None or self.project.config is None or self.project.config.sanitize_html
            return clean_page(html) if sanitize and page.file.src_uri not in self.generated else html
        page.toc = get_toc(output.toc)  # type: ignore[arg-type]
        return output.html

    @event_priority(100)  # before the search plugin indexes the page
    def _search_sees_text(self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
        output = self.pages.get(page.file.src_uri)
        if output is not None:
            page.content = output.search_html()
        return context

    @event_priority(-100)  # after it: the theme renders the whole page
    def _theme_sees_all(self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
        output = self.pages.get(page.file.src_uri)
        if output is not None:
            page.content = output.html
        return context

    on_page_context = CombinedEvent(_search_sees_text, _theme_sees_all)

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        assert self.project is not None and self.project.config is not None
        for folder in (self.project.config.content_dir, self.project.config.bib_dir):
            path = self.project.root / folder
            if path.exists():
                server.watch(str(path))
        return server

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._restore_epoch()

    def on_build_error(self, *, error: Exception) -> None:
        self._restore_epoch()

    def _restore_epoch(self) -> None:
        if getattr(self, "epoch_set", False):
            os.environ.pop(ENV, None)
            self.epoch_set = False


def _escape_page_text(page: Page) -> None:
    """Title and front-matter text as HTML: Material prints `page.title`, `page.meta.title` and
    `page.meta.description` into the page (and <title>, <meta>) without escaping."""
    title = page.title  # from nav, front matter, the first heading or the file name: text, not HTML
    page.meta = {key: value if key == "template" else _escaped(value) for key, value in page.meta.items()}
    if title is not None:
        page.title = html_text(title)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html_text(value)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value


def _replace(files: Files, file: File) -> None:
    """Add a generated file, replacing one at the same path (a user's file or a previous build's)."""
    existing = files.get_file_from_path(file.src_uri)
    if existing is not None:
        files.remove(existing)
    files.append(file)


def _permalink(config: MkDocsConfig) -> str | None:
    """The heading permalink symbol the user's `toc` extension settings ask for (report pages add it themselves)."""
    setting = (config.mdx_configs or {}).get("toc", {}).get("permalink")
    if setting is True:
        return "&para;"
    return setting if isinstance(setting, str) and setting else None


def _add_theme_dir(config: MkDocsConfig) -> None:
    """Our main.html after the user's custom_dir and before the theme's, when the theme has a base.html."""
    dirs = config.theme.dirs
    if str(THEME_DIR) in dirs or not any((Path(d) / "base.html").exists() for d in dirs):
        return
    dirs.insert(1 if config.theme.custom_dir else 0, str(THEME_DIR))
