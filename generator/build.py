"""Load → validate → render a whole project; the engine adapters (MkDocs plugin, CLI) only call this."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from generator import hygiene, safefs
from generator.cache import Store
from generator.citations import find_citations, iter_keys
from generator.config import SiteConfig, load_site_config, mkdocs_yml_problems, trusted_docs_files
from generator.errors import Problems
from generator.publish.pdf import PdfCache
from generator.render.cache import RenderCache
from generator.render.report import (
    PLAIN_KEY,
    RenderedReport,
    Renderer,
    ReportDraft,
    report_citation_syntax,
    report_unknown_citation,
)
from generator.reports.model import (
    REPORT_FILE,
    TOPIC_LENGTH,
    RejectedReport,
    Report,
    Revision,
    check_slug_collisions,
    cited_texts,
    load_reports,
    load_yaml_data,
    report_folders,
    source_keys,
    walk_fields,
)
from generator.sources.bib import Bibliography, BibliographyLoader, ParsedBibCache, did_you_mean
from generator.sources.references import BATCH, PandocError, ReferenceFormatter, StyleError
from generator.urls import topic_key, topic_slug
from generator.workers import default_workers

UNUSED_LISTED = 25  # unused sources warned about one by one; the rest get one summary warning
AHEAD = (default_workers(2) + 1) * BATCH  # reports read ahead of the one being completed: Pandoc's batches in flight


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
    # A one-off build that streams its site (publish.site.build_site with a spool): each render read from the disk
    # cache is held only as its summary, and read back whole only if its page is not cached too.
    stream: bool = False


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
            name = str(error["loc"][0]) if error["loc"] else ""
            hint = "see the Configuration section of the README"
            if error["type"] == "extra_forbidden":
                settings = list(SiteConfig.model_fields)
                close = name.replace("-", "_") if name.replace("-", "_") in settings else ""
                hint = (f"did you mean `{close}`?" if close else did_you_mean(name, settings)) or \
                    f"the settings are: {', '.join(settings)}"
                message = f"unknown report plugin setting `{loc}`"
            else:
                message = f"report plugin setting `{loc}`: {error['msg']}"
            problems.error(project.root / "mkdocs.yml", _setting_line(project.root, name), message, hint,
                           code="config")
        return SiteConfig()


def _setting_line(root: Path, name: str) -> int | None:
    """The line of the report plugin's setting `name` in mkdocs.yml (the first after the plugin's own line)."""
    try:
        lines = safefs.read_text(root / "mkdocs.yml", root).splitlines()
    except (OSError, UnicodeDecodeError, safefs.UnsafePath):
        return None
    plugin = next((i for i, line in enumerate(lines) if re.match(r"\s*-?\s*report\s*:", line)), None)
    if plugin is None or not name:
        return None
    setting = re.compile(rf"\s*-?\s*{re.escape(name)}\s*:")
    return next((i + 1 for i in range(plugin + 1, len(lines)) if setting.match(lines[i])), None)


def _check_rating(value: str, config: SiteConfig, problems: Problems, path: Path, line: int | None) -> None:
    rating_ids = [r.id for r in config.ratings]
    if value not in rating_ids:
        hint = did_you_mean(value, rating_ids) or f"use one of: {', '.join(rating_ids)}"
        problems.error(path, line, f"unknown rating `{value}`", hint, code="unknown-rating")


def _check_key(key: str, bib: Bibliography, problems: Problems, path: Path, line: int | None) -> None:
    if bib.key_of(key) is None:
        problems.error(path, line, f"unknown source key `{key}`", bib.missing_key_hint(key), code="unknown-key")


def _check_citations(text: str, bib: Bibliography, problems: Problems, path: Path, first_line: int) -> None:
    """Citation syntax and unknown keys in one text, without rendering it."""
    citations, errors = find_citations(text)
    report_citation_syntax(errors, problems, path, first_line)
    for citation in citations:
        for item in citation.items:
            if bib.key_of(item.key) is None:
                report_unknown_citation(item, bib, problems, path, first_line + citation.line - 1)


def check_rejected_report(rejected: RejectedReport, config: SiteConfig, bib: Bibliography, problems: Problems) -> None:
    """A report.yml that failed the schema still gets the checks that need no valid model, so one bad
    date does not hide a mistyped rating or citation (every problem is reported at once)."""
    data, path = rejected.data, rejected.folder / REPORT_FILE

    def line(loc: tuple[Any, ...]) -> int | None:
        return hygiene.line_in(rejected.lines, loc)

    for pattern in (("verdict", "rating"), ("claims", "*", "rating")):
        for loc, value in walk_fields(data, pattern):
            if isinstance(value, str):
                _check_rating(value, config, problems, path, line(loc))
    for loc, text in cited_texts(data):
        _check_citations(text, bib, problems, path, line(loc) or 1)
    for loc, key in source_keys(data):
        _check_key(key, bib, problems, path, line(loc))
    for _loc, file_name in walk_fields(data, ("sections", "*", "file")):
        if isinstance(file_name, str) and re.fullmatch(r"[^/\\]+\.md", file_name):
            try:
                prose = safefs.read_text(rejected.folder / file_name, rejected.folder.parent, problems.root)
            except (safefs.UnsafePath, OSError, UnicodeDecodeError):
                continue  # reported once the schema problems are fixed
            hygiene.check_prose(prose, rejected.folder / file_name, problems)
            _check_citations(prose, bib, problems, rejected.folder / file_name, 1)


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
        appeared = claim.first_appeared
        if appeared and appeared.date and appeared.date > today:
            problems.error(path, line("claims", i, "first_appeared", "date"),
                           f"claim `{claim.id}` first appeared on {appeared.date}, which is in the future",
                           "check the year", code="future-date")
    for loc, key in source_keys(meta.model_dump()):
        check_key(key, *loc)
    topics: dict[str, str] = {}
    for i, topic in enumerate(meta.topics):
        slug = topic_slug(topic)
        if len(topic) > TOPIC_LENGTH:
            shown = topic if len(topic) <= 40 else topic[:40] + "…"
            problems.error(path, line("topics", i), f"topic `{shown}` is {len(topic)} characters long; a topic may "
                           f"have at most {TOPIC_LENGTH}", "name the topic with a word or two, such as `vaccines` or "
                           "`public health` (it is a filter's option, a sidebar entry and a page's title); the "
                           "question and the summary say the rest", code="schema")
        elif not slug:
            problems.error(path, line("topics", i), f"topic `{topic}` has no letter or digit",
                           "name the topic with a word or two, such as `vaccines`", code="schema")
        elif slug in topics and topic_key(topic) == topic_key(topics[slug]):
            problems.error(path, line("topics", i), f"topic `{topic}` is listed twice (as `{topics[slug]}`)",
                           "list each topic once", code="schema")
        elif slug in topics:
            problems.error(path, line("topics", i), f"topics `{topics[slug]}` and `{topic}` would share one page, "
                           f"`topics/{slug}/`", TOPIC_CLASH_HINT, code="topic-collision")
        topics.setdefault(slug, topic)

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
    _check_access_dates(report, newest, bib, problems)


TOPIC_CLASH_HINT = ("a topic's page address keeps only its letters and digits, in lower case: spell one topic the "
                    "same way everywhere, or name two topics so that their letters or digits differ")


def check_topic_collisions(reports: list[Report], problems: Problems) -> None:
    """Two different topics whose addresses are the same (`C++` and `C`, `Vaccines` and `vaccines!`) would share one
    topic page: an error at the report.yml that brings in the second spelling, naming both. Spellings that differ
    only in letter case or spacing are one topic (the pages show the most common spelling: `topic_names`)."""
    first: dict[str, tuple[str, Report]] = {}  # topic slug → the first spelling, and the report that has it
    clashes: dict[tuple[str, str], list[tuple[str, Report, int | None]]] = {}  # (slug, spelling's key) → its uses
    for report in reports:
        for i, topic in enumerate(report.meta.topics):
            slug = topic_slug(topic)
            if not slug or len(topic) > TOPIC_LENGTH:
                continue  # reported by validate_report
            if slug not in first:
                first[slug] = (topic, report)
            elif first[slug][1] is not report and topic_key(topic) != topic_key(first[slug][0]):
                clashes.setdefault((slug, topic_key(topic)), []).append((topic, report, report.line_of("topics", i)))
    for (slug, _key), places in clashes.items():
        (spelling, report, line), others = places[0], len(places) - 1
        earlier, where = first[slug]
        also = f" ({others} more report{'s spell' if others > 1 else ' spells'} it so too)" if others else ""
        problems.error(report.path, line, f"topic `{spelling}` and topic `{earlier}` (in "
                       f"{problems.relative(where.path)}) would share one page, `topics/{slug}/`{also}",
                       TOPIC_CLASH_HINT, code="topic-collision")


def _check_access_dates(report: Report, newest: Revision, bib: Bibliography, problems: Problems) -> None:
    """A correction or update that moves checked_on past the day the sources were last accessed must say whether
    they were read again: readers take a new date for a new look at the evidence."""
    meta = report.meta
    if newest.version == 1 or newest.sources_reaccessed is False:
        return
    sources = (source for key in cited_keys(report) if (source := bib.source(key)) is not None)
    accessed = max((date for source in sources if (date := source.accessed) is not None), default=None)
    if accessed is None or meta.checked_on <= accessed:
        return
    line = report.line_of("revisions", newest.version - 1) or report.line_of("checked_on")
    if newest.sources_reaccessed:
        message = (f"revision {newest.version} says the sources were accessed again, but the newest access date "
                   f"(`urldate`) of the sources this report cites is {accessed}, before checked_on {meta.checked_on}")
        hint = "set the `urldate` of each source you read again to the day you read it"
    else:
        message = (f"checked_on {meta.checked_on} is after the day this report's sources were last accessed "
                   f"({accessed}), and revision {newest.version} ({newest.kind}) does not say whether they were read "
                   "again")
        hint = (f"if you read them again, set their `urldate` to that day; if not, add `sources_reaccessed: false` to "
                f"revision {newest.version} (the stamp shows both dates either way)")
    problems.warning(report.path, line, message, hint, code="sources-not-reaccessed")


def cited_keys(report: Report) -> dict[str, None]:
    """The keys a report cites anywhere (prose, YAML texts and source lists), in order of first mention."""
    keys: dict[str, None] = {}
    data = report.meta.model_dump()
    for text in (*report.prose.values(), *(text for _, text in cited_texts(data))):
        keys.update((k, None) for k in iter_keys(text))
    keys.update((key, None) for _, key in source_keys(data))
    return keys


CACHE_SUBFOLDERS = (*Store.NAMESPACES, "zensical-serve")  # the last: the Zensical preview's stage
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


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*\n", re.S)
# Front-matter keys a page may not set: `template` picks the theme template that renders it, and Material's
# redirect.html puts `location` into script (a page could run script, or redirect readers off the desk's site).
# `report_share` is a generated page's link-preview and index data (canonical address, `noindex`): a page of the
# desk's own could point search engines and link previews elsewhere with it.
RESERVED_META = ("template", "report_share")
_RESERVED_WHY = {
    "template": ("it chooses the theme template that renders the page (Material's redirect.html runs the page's "
                 "`location` as script)", "remove it; templates are chosen in mkdocs.yml and theme overrides, which "
                 "are reviewed as code"),
    "report_share": ("it carries the link-preview and search-index data of generated pages",
                     "remove it; a page's preview is made from its `title` and `description`"),
}
THEME_PATH_META = ("icon",)  # values a theme turns into a template path: names like `material/alert`, nothing else
_THEME_PATH = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")


def docs_front_matter(text: str, path: Path, problems: Problems) -> tuple[dict[str, Any], str]:
    """A docs page's front matter, read as plain data (a tag is an error with its line), and the text after it."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        alias = next((e for e in yaml.parse(match.group(1) or "", Loader=yaml.SafeLoader)
                      if isinstance(e, yaml.AliasEvent)), None)
        if alias is not None:  # shared subtrees: 400 bytes can stand for millions of values
            line = alias.start_mark.line + 2 if alias.start_mark else 1
            problems.error(path, line, "front matter may not use YAML aliases (`*name`)", "write the value out",
                           code="yaml")
            return {}, text[match.end():]
        _node, data = load_yaml_data(match.group(1) or "")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.error(path, mark.line + 2 if mark else 1, f"front matter is not plain YAML data: {problem}",
                       "write front matter as `key: value` lines, without tags", code="yaml")
        data = {}
    return (data if isinstance(data, dict) else {}), text[match.end():]


def _check_docs_page(path: Path, docs: Path, root: Path, problems: Problems, sanitize: bool) -> None:
    """A desk's own page is converted by the engine's Python-Markdown: the same hygiene and cost limits as report
    prose, checked before the engine converts anything; its front matter is data, and may not pick a template."""
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
    meta, _body = docs_front_matter(text, path, problems)
    lines = text.split("\n")

    def line_of(key: str) -> int:
        return 2 + next((i for i, line in enumerate(lines[1:]) if line.lstrip("\"'").startswith(key)), 0)

    for key, value in meta.items():
        if not isinstance(key, str) or not PLAIN_KEY.fullmatch(key):
            problems.error(path, line_of(str(key)[:20]), f"front-matter key `{key}` is not a plain name",
                           "use letters, digits, `_` and `-`", code="reserved-meta")
        elif key in THEME_PATH_META and not (isinstance(value, str) and _THEME_PATH.fullmatch(value)):
            problems.error(path, line_of(key), f"`{key}` must name an icon such as `material/alert`",
                           "the theme reads it as a file path: no `..`, no other characters", code="reserved-meta")
    for key in RESERVED_META if sanitize else ():
        if key in meta:
            problems.error(path, 2 + next((i for i, line in enumerate(text.split("\n")[1:]) if line.startswith(key)), 0),
                           f"a page may not set `{key}`: {_RESERVED_WHY[key][0]}", _RESERVED_WHY[key][1],
                           code="reserved-meta")


def check_docs(root: Path, config: SiteConfig, problems: Problems, trusted: AbstractSet[str] = frozenset()) -> None:
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
            _check_docs_page(path, docs, root, problems, config.sanitize_html)
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
    for folder in (config.content_dir, config.bib_dir):  # a link out or a pipe is an error even where nothing reads it
        for unsafe in safefs.unsafe_entries(project.root / folder, project.root, inner_folder_links=True):
            problems.error(unsafe.path, None, unsafe.message, unsafe.hint, code="unsafe-path")
    cache_dir = project.root / config.cache_dir if config.cache_dir else None  # `cache_dir: ""`: no disk caches
    project.loader.disk = ParsedBibCache(cache_dir) if cache_dir else None
    bib = project.loader.load(project.root / config.bib_dir, project.root)
    problems.extend(bib.problems)
    rejected: list[RejectedReport] = []
    reports = load_reports(project.root / config.content_dir, problems, rejected)
    for refused in rejected:
        check_rejected_report(refused, config, bib, problems)
    check_slug_collisions(reports, project.root / config.docs_dir, problems)
    check_topic_collisions(reports, problems)
    if project.formatter is None:
        try:
            project.formatter = ReferenceFormatter(config.csl_style, project.root, cache_dir, config.language)
        except safefs.UnsafePath as exc:
            problems.error(project.root / "mkdocs.yml", None, f"CSL style `{config.csl_style}` {exc.message}",
                           "use a style name such as `ieee` or a .csl file inside the project", code="unsafe-path")
            return BuildResult(config, bib, reports, [], problems)
        except StyleError as exc:
            own = (project.root / config.csl_style).is_file()
            problems.error(project.root / (config.csl_style if own else "mkdocs.yml"), None,
                           f"CSL style `{config.csl_style}` {exc}",
                           "fix the file, or use a style name such as `ieee`" if own else
                           "use a style name such as `ieee`, `apa`, `vancouver`, `harvard`, `chicago`, `mla`, or a "
                           ".csl file in the project", code="config")
            return BuildResult(config, bib, reports, [], problems)
        except PandocError as exc:
            problems.error(project.root / "mkdocs.yml", None, str(exc), "install evidence-desk with its dependencies",
                           code="config")
            return BuildResult(config, bib, reports, [], problems)
    renderer = Renderer(config, bib, project.formatter)
    render_cache = project.render_cache
    render_cache.disk, render_cache.style_key = cache_dir, project.formatter.style_key
    render_cache.lean = project.stream
    cached = {}
    for report in reports:
        validate_report(report, config, bib, problems, today)
        cached[report.slug] = render_cache.get(report, config, bib)
    # Reports not in the cache are read through one by one; Pandoc formats the citations of each batch of them in
    # the background as soon as the batch is read (processes side by side), and each is completed once its batch is
    # back. Reading stays at most AHEAD reports in front of completing, so a cold build holds a few batches of drafts,
    # never every report's. Each report's problems are kept apart to know which renders to cache.
    drafts: dict[str, tuple[Problems, int, ReportDraft, int]] = {}
    fresh: dict[str, RenderedReport] = {}
    begun: deque[str] = deque()  # read, not yet completed, in order
    pipeline = project.formatter.pipeline()

    def complete(slug: str) -> None:
        found, known, draft, ticket = drafts.pop(slug)
        pipeline.wait(ticket)  # later batches are still being formatted meanwhile
        done = renderer.complete_report(draft)
        problems.items.extend(found.items[known:])
        if len(found.items) == known:
            render_cache.put(done, config, bib)
        fresh[slug] = done

    try:
        for report in reports:
            if cached[report.slug] is not None:
                continue
            found = Problems(root=problems.root, items=list(problems.items))  # sees what the checks reported
            known = len(found.items)  # what this report adds comes after
            draft = renderer.begin_report(report, found)
            drafts[report.slug] = (found, known, draft, pipeline.add(draft.request()))
            begun.append(report.slug)
            while len(begun) > AHEAD and pipeline.submitted(drafts[begun[0]][3]):
                complete(begun.popleft())
        pipeline.close()
        while begun:
            complete(begun.popleft())
    finally:
        pipeline.shutdown()
    rendered = [entry.rendered if (entry := cached[report.slug]) is not None else fresh[report.slug]
                for report in reports]
    cited = {key for r in rendered for key in (e.source.key for e in r.references)}
    for report in reports:
        cited.update(key for text in report.prose.values() for k in iter_keys(text) if (key := bib.key_of(k)))
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
