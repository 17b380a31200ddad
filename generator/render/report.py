"""Render a loaded report: citations numbered in reading order, Markdown prose to safe HTML, page Markdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import markdown
import nh3
from babel.dates import format_date, format_skeleton
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from generator import hygiene
from generator.citations import AUTHOR_IN_TEXT, Citation, CitationItem, CitationSyntaxError, compress_numbers, scan, written_key
from generator.config import SOURCE_KINDS, Rating, SiteConfig, rating_hue
from generator.errors import Problems
from generator.i18n import N_, direction, labels, locale_name
from generator.identifiers import IdentifierError, parse_identifier, scheme_of
from generator.reports.model import Claim, Narrative, Report, Revision
from generator.sanitize import REPORT_ID, clean_prose, safe_url, split_tags
from generator.sources.bib import Bibliography, Source
from generator.sources.references import FormattedReference, PandocError, ReferenceFormatter, render_inlines, shared
from generator.urls import report_path, report_url, site_address, topic_slug


def _put_citations(body: str, token: str, rendered: list[str]) -> str:
    """Replace the citation placeholders in `body`: in text with the citation's markup, inside a tag (an image's
    alt text, a link's title) with nothing, since markup there would break the attribute."""
    placeholder = re.compile(rf"{token}(\d+)X")

    def text(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return rendered[index] if index < len(rendered) else ""

    parts = split_tags(body)
    return "".join(placeholder.sub("", part) if i % 2 else placeholder.sub(text, part)
                   for i, part in enumerate(parts))
MARKDOWN_EXTENSIONS = ["extra", "sane_lists"]
CITATION_FORMS_HINT = "write citations as `[@key]`, `[see @key, p. 4]`, `[-@key]` or `@key [p. 4]` (see the README)"


def _filled(value: Any, token: str, rendered: list[str]) -> Any:
    """The rendered report with every citation placeholder replaced by its citation's HTML."""
    if isinstance(value, Markup):
        return Markup(_put_citations(str(value), token, rendered)) if token in value else value  # noqa: S704
    if isinstance(value, list):
        return [_filled(v, token, rendered) for v in value]
    if type(value).__name__.startswith("Rendered") and dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            setattr(value, item.name, _filled(getattr(value, item.name), token, rendered))
    return value


def anchor_for(key: str) -> str:
    """A stable HTML id for a reference, whatever characters its key has."""
    return "ref-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def iso(date: dt.date | None) -> str:
    return date.isoformat() if date else ""


def json_for_script(data: Any) -> Markup:
    """JSON safe inside <script>: `</script>` and `<!--` in any text cannot break out."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))  # noqa: S704 - escaped above


# A link inside a formatted reference: its digits are not a date the reference gives (a year in a URL's path is
# not one a reader finds in the reference).
_LINK = re.compile(r"(?:https?://|doi:|www\.)\S+", re.I)


@dataclass
class ReferenceEntry:
    number: int
    source: Source
    formatted: FormattedReference
    anchor: str
    backlinks: list[str] = field(default_factory=list)
    csl: dict[str, Any] = field(default_factory=dict)  # the CSL-JSON item the style formatted (sources.json)

    @property
    def published(self) -> str:
        """The source's publication date (BibTeX form) when the formatted reference does not already give its
        year outside a link; "" otherwise."""
        value = (self.source.fields.get("date") or self.source.fields.get("year") or "").strip()
        return value if value and value[:4] not in _LINK.sub("", self.formatted.text) else ""

    @property
    def publisher(self) -> str:
        """Who published the source (a web page's site, a report's institution) when the style left it out: a
        reader of a fact-check needs to know where a claim appeared."""
        name = next((self.source.text(f) for f in ("organization", "publisher", "institution") if self.source.text(f)), "")
        return name if name and name not in self.formatted.text else ""

    @property
    def lang(self) -> str:
        """The language of the reference's text for `lang` (WCAG 3.1.2): the source's `langid` or `language` as a
        BCP 47 tag; "" when it gives none we know, or when its title is a description in brackets written in plain
        ASCII (`[Report on …]`: the desk's words for a source in another script, not the source's own)."""
        title = self.source.text("title").strip()
        described = title.startswith("[") and title.endswith("]") and title.isascii()
        return "" if described else self.source.language_tag

    @property
    def published_online(self) -> str:
        """An article's "online first" date (`onlinedate`), shown beside its issue's date."""
        return self.source.fields.get("onlinedate", "").strip()


@dataclass
class PendingCitation:
    """A citation met while rendering: formatted with all the others once the report is read through."""

    citation: Citation
    written: str  # as the author wrote it: what Pandoc reads
    group_id: str
    path: Path
    line: int
    missing: list[str]  # keys the bibliography does not hold


@dataclass
class ReportDraft:
    """A report read through, its citations not yet formatted: the citation state and the rendered parts."""

    state: CitationState
    parts: dict[str, Any]

    def request(self) -> tuple[list[str], list[Source], str]:
        """What the style's engine gets for this report (`ReferenceFormatter.format_report`'s arguments)."""
        return ([p.written for p in self.state.pending if not p.missing],
                [self.state.bib.sources[k] for k in self.state.order], self.state.language)


@dataclass
class CitationState:
    """One report's citations in reading order; the style numbers and formats them all at once at the end."""

    report: Report
    bib: Bibliography
    formatter: ReferenceFormatter
    problems: Problems
    token: str = field(default_factory=lambda: f"RGCITE{secrets.token_hex(8).upper()}N")  # content cannot write it
    pending: list[PendingCitation] = field(default_factory=list)
    order: dict[str, None] = field(default_factory=dict)  # cited keys, first appearance first
    looked_up: set[str] = field(default_factory=set)  # every key the render asked the bibliography for

    @property
    def language(self) -> str:
        """The report's own language ("" for the site's): its citations' CSL locale and labels."""
        return self.report.meta.language if self.report is not None else ""

    def add(self, citation: Citation, written: str, path: Path, line: int) -> str:
        """Record a citation; the placeholder that stands for it until the report is formatted."""
        missing = []
        items = []
        cursor = 0
        for item in citation.items:
            self.looked_up.add(item.key)
            key = self.bib.key_of(item.key)  # an identifier (`doi:…`) stands for the entry whose `ids` hold it
            if key is None:
                missing.append(item.key)
                report_unknown_citation(item, self.bib, self.problems, path, line)
            else:
                self.order.setdefault(key, None)
            written, cursor = _rename_key(written, cursor, item.key, key or item.key)  # Pandoc gets the entry's key
            items.append(item._replace(key=key or item.key))
        citation = citation._replace(items=tuple(items))
        self.pending.append(PendingCitation(citation, written, f"cite-{len(self.pending) + 1}", path, line, missing))
        return f"{self.token}{len(self.pending) - 1}X"


def _rename_key(written: str, cursor: int, old: str, new: str) -> tuple[str, int]:
    """The citation text with its next `@old` (or `@{old}`) from `cursor` on written `@new`; and where it ends."""
    spellings = sorted((f"@{{{old}}}", f"@{old}"), key=len, reverse=True)
    found = min(((at, s) for s in spellings if (at := written.find(s, cursor)) >= 0), default=None,
                key=lambda hit: (hit[0], -len(hit[1])))
    if found is None:
        return written, cursor
    at, spelling = found
    replacement = spelling if old == new else f"@{written_key(new)}"
    return written[:at] + replacement + written[at + len(spelling):], at + len(replacement)


# The home page and the topic pages list reports by title: the site search finds each report's own page instead.
# Indexed, a desk of 2 000 reports makes a home page too long for Zensical's search index, which then refuses the build.
LIST_PAGE_META: dict[str, Any] = {"search": {"exclude": True}}


class Renderer:
    """Holds the Markdown converter and templates; one instance renders many reports."""

    def __init__(self, config: SiteConfig, bib: Bibliography, formatter: ReferenceFormatter):
        self.config = config
        self.bib = bib
        self.formatter = formatter
        self.markdown = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
        self.env = Environment(
            loader=PackageLoader("generator", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html", "md", "xml", "j2"), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # package templates: no stat() per get_template (one per citation group)
        )
        self.env.filters["date"] = self.format_date
        self.env.filters["partial_date"] = self._partial_date_filter
        self.env.filters["md_heading"] = md_heading
        self.env.filters["html_text"] = html_text
        self.env.filters["json_script"] = json_for_script
        self.env.filters["web_url"] = safe_url
        self.env.globals["rating_hue"] = rating_hue

    def format_date(self, value: dt.date | None, form: str = "long") -> str:
        if value is None:
            return ""
        return format_date(value, form, locale=locale_name(self.config.language))

    def format_partial_date(self, value: str, language: str = "") -> str:
        """A BibTeX date (`2025`, `2025-06`, `2025-06-03`) in a language (the site's by default)."""
        return _partial_date(value, locale_name(language or self.config.language))

    @pass_context
    def _partial_date_filter(self, context: Context, value: str) -> str:
        return self.format_partial_date(value, context.get("lang") or "")

    def locale_context(self, language: str = "") -> dict[str, Any]:
        """What every template gets for its language: `lang` and `dir` for the markup, `fmt` for dates, and the
        gettext functions (`_`, `ngettext`) of the language's catalogue."""
        language = language or self.config.language or "en"
        locale = locale_name(language)

        def fmt(value: dt.date | None, form: str = "long") -> str:
            return format_date(value, form, locale=locale) if value is not None else ""

        return {"lang": language, "dir": direction(language), "site_lang": self.config.language or "en", "fmt": fmt,
                **labels(language).context()}

    # -- prose ------------------------------------------------------------------------------

    def prose(self, text: str, state: CitationState | None, path: Path, first_line: int = 1,
              inline: bool = False) -> Markup:
        """Markdown with citations to safe HTML; citations become placeholders that `finish` fills once the whole
        report is read (state None drops them)."""
        found = scan(text)
        if state is not None:
            report_citation_syntax(found.errors, state.problems, path, first_line)
        edits = [(c.start, c.end, c) for c in found.citations] + [(e, e + 2, None) for e in found.escapes]
        pieces: list[str] = []
        cursor = 0
        for start, end, citation in sorted(edits, key=lambda edit: edit[0]):
            if start < cursor:
                continue  # an escape inside a citation: Pandoc reads the citation as written
            before = text[cursor:start]
            if citation is None:
                pieces.append(before + "&#64;")  # `\@`: an at sign, which Python-Markdown does not unescape
            elif state is None:
                pieces.append(before.rstrip(" ") if citation.items[0].mode != AUTHOR_IN_TEXT else before)
            else:
                pieces.append(before)
                pieces.append(state.add(citation, text[start:end], path, first_line + citation.line - 1))
            cursor = end
        pieces.append(text[cursor:])
        self.markdown.reset()
        heavy = hygiene.heavy_markup(text)
        try:
            if heavy is not None:  # never handed to Python-Markdown: reported, and left empty
                if state is not None:
                    state.problems.error(path, first_line + heavy[0] - 1, heavy[1], hygiene.HEAVY_HINT, code="too-complex")
                body = ""
            else:
                body = self.markdown.convert("".join(pieces))
        except RecursionError:  # a last resort: hygiene.check_prose reports deep nesting before rendering
            if state is not None:
                _report_nesting(state.problems, path, first_line)
            self.markdown.reset()
            body = ""
        if self.config.sanitize_html:
            body = clean_prose(body)
        if hygiene.html_nesting(body) > hygiene.MAX_HTML_NESTING:  # more than WeasyPrint can lay out
            if state is not None:
                _report_nesting(state.problems, path, first_line)
            body = ""
        if inline and body.startswith("<p>") and body.endswith("</p>") and body.count("<p>") == 1:
            body = body[3:-4]
        return Markup(body)  # noqa: S704 - sanitised Markdown output; citations are filled in by `finish`

    def citation_list(self, keys: list[str], state: CitationState, path: Path, line: int | None) -> Markup:
        """A claim's or narrative's source list, rendered as one citation group."""
        state.looked_up.update(keys)
        keys = [k for k in keys if self.bib.key_of(k) is not None]  # unknown keys: reported by validate_report
        if not keys:
            return Markup("")
        text = "[" + "; ".join(f"@{written_key(k)}" for k in keys) + "]"
        return self.prose(text, state, path, line or 1, inline=True)

    def finish(self, state: CitationState) -> tuple[list[ReferenceEntry], list[str]]:
        """Format every citation of the report and its reference list in one call of the style's engine: the
        reference entries in the style's order, and each citation's HTML (by placeholder index)."""
        written, sources, language = ReportDraft(state, {}).request()
        sendable = [p for p in state.pending if not p.missing]
        failed = False
        try:
            formatted = self.formatter.format_report(written, sources, language)
            citations, bibliography = formatted.citations, formatted.bibliography
        except PandocError as exc:
            failed = True
            state.problems.error(state.report.path, None, f"citations could not be formatted: {exc}",
                                 "check that Pandoc is installed (`pip install pypandoc-binary`)", code="citeproc")
            citations, bibliography = [None] * len(sendable), []
        entries: dict[str, ReferenceEntry] = {}
        for key, inlines in bibliography:
            if key in state.order and key not in entries:
                number = len(entries) + 1
                source = self.bib.sources[key]
                formatted = shared(source, "formatted", self.formatter.reference(key, inlines, number, source))
                entries[key] = ReferenceEntry(number, source, formatted, anchor_for(key))
        items = {} if failed else self.formatter.csl(sources)
        for key, entry in entries.items():
            entry.csl = shared(entry.source, "csl-item", items.get(key, {}))
        for key in state.order:  # a source the engine left out (it failed): listed by its title
            if key not in entries:
                title = self.bib.sources[key].text("title") or key
                entries[key] = ReferenceEntry(len(entries) + 1, self.bib.sources[key],
                                              FormattedReference(html.escape(title, quote=False), title), anchor_for(key))
        by_pending = {id(p): inlines for p, inlines in zip(sendable, citations, strict=True)}
        rendered = []
        for pending in state.pending:
            cited = [entries[item.key] for item in pending.citation.items if item.key in entries]
            for entry in cited:
                if pending.group_id not in entry.backlinks:
                    entry.backlinks.append(pending.group_id)
            cite = by_pending.get(id(pending))
            if pending.missing or (self.formatter.numeric and pending.citation.plain) or cite is None:
                if cite is None and not pending.missing and not failed:
                    state.problems.error(pending.path, pending.line, f"Pandoc does not read `{pending.written}` as one "
                                         "citation", CITATION_FORMS_HINT, code="citation-syntax")
                rendered.append(self._numbers(pending, cited, state.language))
                continue

            def link(key: str, inner: str, _text: str) -> str:
                entry = entries.get(key)
                if entry is None:
                    return inner
                before = after = ""
                if inner.startswith("[") and inner.endswith("]"):  # `[1, p. 4]`: the brackets outside the link
                    before, inner, after = "[", inner[1:-1], "]"
                anchor = Markup('<a class="rg-cite-ref" href="#{}" title="{}">').format(entry.anchor, entry.formatted.text)
                return before + str(anchor) + inner + "</a>" + after  # render_inlines escaped every text of `inner`

            body = render_inlines(cite, link)[0]
            wraps = "" if self.formatter.numeric else " rg-cite-words"  # `(Smith & Jones, 2020; …)` may wrap
            rendered.append(f'<span class="rg-cite{wraps}" id="{pending.group_id}">{body}</span>')
        return list(entries.values()), rendered

    def prose_alone(self, text: str, state: CitationState, path: Path) -> str:
        """One text rendered on its own, citations formatted (what a report does for all its texts at once)."""
        body = self.prose(text, state, path)
        return _put_citations(str(body), state.token, self.finish(state)[1])

    def _numbers(self, pending: PendingCitation, cited: list[ReferenceEntry], language: str = "") -> str:
        """A citation as compressed numbers (`[1, 3]`, `[2–4]`), with a marker for each unknown key."""
        by_number = {e.number: e for e in cited}
        runs = [{"missing": "", "entries": [by_number[a]] if a == b else [by_number[a], by_number[b]],
                 "between": [by_number[n] for n in range(a + 1, b)]}  # each its own link (WCAG 2.1.1)
                for a, b in compress_numbers(list(by_number))]
        runs += [{"missing": key, "entries": []} for key in pending.missing]
        return self.env.get_template("citation.html").render(id=pending.group_id, runs=runs,
                                                             **self.locale_context(language)).strip()

    # -- report -----------------------------------------------------------------------------

    def render_report(self, report: Report, problems: Problems) -> RenderedReport:
        """Every part of the report in reading order, ready for the page and PDF templates."""
        return self.complete_report(self.begin_report(report, problems))

    def complete_report(self, draft: ReportDraft) -> RenderedReport:
        """A report read through by `begin_report`, with its citations and reference list formatted (one call of the
        style's engine, answered from memory when a `FormatPipeline` ran it already)."""
        state = draft.state
        references, citations = self.finish(state)
        rendered = RenderedReport(**draft.parts, references=references, source_mix=source_mix(references),
                                  looked_up=state.looked_up, numeric=self.formatter.numeric)
        return _filled(rendered, state.token, citations)

    def begin_report(self, report: Report, problems: Problems) -> ReportDraft:
        """Every text of the report converted, citations waiting as placeholders (`complete_report` formats them)."""
        meta = report.meta
        language = meta.language or self.config.language or "en"
        state = CitationState(report, self.bib, self.formatter, problems)
        yml = report.path
        line = report.line_of
        verdict = self.prose(meta.verdict.text, state, yml, line("verdict", "text") or 1, inline=True)
        verdict_uncited = self.prose(meta.verdict.text, None, yml, inline=True)
        summary: RenderedSummary | None = None
        sections: list[RenderedSection] = []
        number = 0
        claims_done = narratives_done = False
        rendered_claims: list[RenderedClaim] = []
        rendered_narratives: list[RenderedNarrative] = []

        def claims_block() -> list[RenderedClaim]:
            out = []
            for i, claim in enumerate(meta.claims):
                appeared = claim.first_appeared
                out.append(RenderedClaim(
                    claim=claim,
                    anchor=f"claim-{claim.id}",
                    rating=self.config.rating(claim.rating),
                    text=self.prose(claim.claim, state, yml, line("claims", i, "claim") or 1, inline=True),
                    appeared_source=self.citation_list([appeared.source], state, yml, line("claims", i))
                    if appeared and appeared.source else Markup(""),
                    sources=self.citation_list(claim.sources, state, yml, line("claims", i, "sources")),
                    explanation=self.prose(claim.explanation, state, yml, line("claims", i, "explanation") or 1),
                ))
            return out

        def narratives_block() -> list[RenderedNarrative]:
            return [RenderedNarrative(
                narrative=narrative,
                summary=self.prose(narrative.summary, state, yml, line("narratives", i, "summary") or 1),
                sources=self.citation_list(narrative.sources, state, yml, line("narratives", i, "sources")),
            ) for i, narrative in enumerate(meta.narratives)]

        bottom_prose = []
        for section in meta.sections:
            text = report.prose.get(section.file, "")
            path = report.folder / section.file
            if section.kind == "summary" and summary is None:
                summary = RenderedSummary(section.title, self.prose(text, state, path))
                continue
            if section.kind == "bottom-line":
                bottom_prose.append(self.prose(text, state, path))
                continue
            number += 1
            item = RenderedSection(number, section.title, section.kind, f"s{number}-{section.kind}",
                                   self.prose(text, state, path))
            if section.kind == "claims" and not claims_done:
                rendered_claims = item.claims = claims_block()
                claims_done = True
            if section.kind == "narratives" and not narratives_done:
                rendered_narratives = item.narratives = narratives_block()
                narratives_done = True
            sections.append(item)
        if meta.claims and not claims_done:
            number += 1
            rendered_claims = claims_block()
            sections.append(RenderedSection(number, labels(language).text(N_("Claims checked")), "claims", "claims", Markup(""),
                                            claims=rendered_claims))
        if meta.narratives and not narratives_done:
            number += 1
            rendered_narratives = narratives_block()
            title = labels(language).text(N_("Competing narratives"))
            sections.append(RenderedSection(number, title, "narratives", "narratives", Markup(""),
                                            narratives=rendered_narratives))
        number += 1
        bottom_line = RenderedBottomLine(
            number=number,
            anchor="bottom-line",
            prose=bottom_prose,
            conclusion=self.prose(meta.bottom_line.conclusion, state, yml, line("bottom_line", "conclusion") or 1),
            would_change=self.prose(meta.bottom_line.would_change, state, yml, line("bottom_line", "would_change") or 1),
        )
        follow_up = [self.prose(q, state, yml, line("follow_up", i) or 1, inline=True)
                     for i, q in enumerate(meta.follow_up)]
        disclaimer = self.prose(meta.disclaimer, state, yml, line("disclaimer") or 1) if meta.disclaimer else None
        return ReportDraft(state, dict(
            report=report,
            config=self.config,
            verdict_rating=self.config.rating(meta.verdict.rating),
            verdict=verdict,
            verdict_uncited=verdict_uncited,
            summary=summary,
            sections=sections,
            claims=rendered_claims,
            narratives=rendered_narratives,
            bottom_line=bottom_line,
            follow_up=follow_up,
            disclaimer=disclaimer,
            revisions=sorted(meta.revisions, key=lambda r: r.version, reverse=True),
        ))

    # -- outputs ----------------------------------------------------------------------------

    def page(self, rendered: RenderedReport, extra: dict[str, Any] | None = None,
             permalink: str | None = None) -> PageOutput:
        """The report page: its body as finished HTML, with the table of contents and front matter an engine needs.

        The body is HTML, not Markdown: every text in it is already converted, so an engine only has to place it
        in its theme (converting it again, as raw HTML inside Markdown, would cost more than the page itself)."""
        meta = rendered.report.meta
        archive = (extra or {}).get("archive")
        words = labels(rendered.language)
        title = meta.short_title or meta.question
        if archive:
            title = words.text(N_("%(title)s (version %(version)s)"), title=title, version=archive["version"])

        corrections = (extra or {}).get("corrections") or Corrections()
        slug, site_url = rendered.report.slug, self.config.site_url
        here = report_path(slug, archive["version"] if archive else None)  # the folder this page is published in
        page_url = site_address(site_url, here, here)
        card = (extra or {}).get("card") if not archive else None
        image_url = site_address(site_url, card["path"], here) if card else ""
        # An archived version carries no ClaimReview: its ratings may have been superseded by a correction, and
        # structured data is read by aggregators (fact-check search tools, data sets) that do not honour the
        # page's `noindex`; a superseded rating must not circulate as a current fact-check. The current page's
        # ClaimReviews record every re-rating (`correction`), so nothing is lost.
        jsonld = [] if archive else claim_review_jsonld(rendered, corrections, page_url, image_url)
        context = {"r": rendered, "meta": meta, "jsonld": jsonld,
                   "fmt": self.format_date, "pdf": None, "corrections": corrections,
                   "notice": None if archive else correction_notice(rendered, corrections),
                   "cite_url": report_url(site_url, slug) if site_url else "",
                   "archive": None, "version_links": {}, "h1_id": heading_id(meta.question),
                   "permalink": permalink_macro(permalink), **self.locale_context(rendered.language), **(extra or {})}
        body = self.env.get_template("report_page.html").render(context)
        front: dict[str, Any] = {"title": title, "description": meta.description or meta.question}
        if archive:
            front["search"] = {"exclude": True}
        front[SHARE_META] = report_share(rendered, title if archive else meta.question, image_url,
                                         card.get("alt", "") if card else "", noindex=bool(archive))
        return PageOutput(front, body, toc_tokens(body))

    def page_markdown(self, rendered: RenderedReport, extra: dict[str, Any] | None = None) -> str:
        """The report page as one Markdown document (front matter + the HTML body)."""
        return self.page(rendered, extra).markdown()

    def home_page(self, rendered_reports: list[RenderedReport], site_name: str,
                  permalink: str | None = None) -> PageOutput:
        """The home page: every report's question, verdict and stamp, newest first, with what its filter offers."""
        reports = newest_first(rendered_reports)
        body = self.env.get_template("home.html").render(
            reports=reports, facets=self.facets(reports), topic_names=topic_names(reports), site_name=site_name,
            h1_id=heading_id(site_name), permalink=permalink_macro(permalink), **self.locale_context())
        # No `title`: the theme then titles the home page with the site's name alone (not "Name - Name"); its
        # description is the site's (`site_description`).
        share: dict[str, Any] = {"type": "website", "title": site_name, "locale": og_locale(self.config.language)}
        return PageOutput({SHARE_META: share, **LIST_PAGE_META}, body, toc_tokens(body))


    def facets(self, reports: list[RenderedReport]) -> dict[str, list[Facet]]:
        """What the home page's filter offers, each value with how many reports have it: ratings in the scale's
        order, topics and languages by name (in the site's language)."""
        words = labels(self.config.language)
        ratings = Counter(r.report.meta.verdict.rating for r in reports)
        topics = Counter(slug for r in reports for slug in dict.fromkeys(r.topic_slugs))
        names = topic_names(reports)
        languages = Counter(r.language for r in reports)
        site = locale_name(self.config.language)
        return {
            "ratings": [Facet(r.id, words.text(r.label), ratings[r.id]) for r in self.config.ratings if ratings[r.id]],
            "topics": sorted((Facet(slug, names[slug], n) for slug, n in topics.items()), key=lambda f: f.label.casefold()),
            "languages": sorted((Facet(tag, language_name(tag, site), n) for tag, n in languages.items()),
                                key=lambda f: f.label.casefold()),
        }

    def topic_pages(self, rendered_reports: list[RenderedReport], permalink: str | None = None) -> dict[str, PageOutput]:
        """`topics/index.md`, every topic with its number of reports, and `topics/<slug>/index.md` per topic, its
        reports newest first; none when no report names a topic."""
        reports = newest_first(rendered_reports)
        topics = self.facets(reports)["topics"]
        if not topics:
            return {}
        words = labels(self.config.language)
        context = {"permalink": permalink_macro(permalink), "topic_names": topic_names(reports), **self.locale_context()}
        title = words.text(N_("Topics"))
        body = self.env.get_template("topic_page.html").render(title=title, topic=None, topics=topics,
                                                               h1_id=heading_id(title), **context)
        pages = {"topics/index.md": PageOutput({"title": title, "description": title, **LIST_PAGE_META}, body,
                                               toc_tokens(body))}
        for facet in topics:
            on_topic = [r for r in reports if facet.value in r.topic_slugs]
            body = self.env.get_template("topic_page.html").render(title=facet.label, topic=facet, reports=on_topic,
                                                                   h1_id=heading_id(facet.label), **context)
            description = words.text(N_("Reports on %(topic)s"), topic=facet.label)
            pages[f"topics/{facet.value}/index.md"] = PageOutput({"title": facet.label, "description": description,
                                                                  **LIST_PAGE_META},
                                                                 body, toc_tokens(body))
        return pages


# The front-matter key that carries a generated page's share and index data to the theme (generator/theme/main.html
# prints it into <head>); a desk's own page may not set it (build.RESERVED_META).
SHARE_META = "report_share"
SHARE_CARD_SIZE = (1200, 630)  # the size Open Graph and Twitter's large card show without cropping


def og_locale(language: str) -> str:
    """A BCP 47 tag as Open Graph writes a locale, language_TERRITORY (`de` → `de_DE`, `pt-BR` → `pt_BR`): the
    territory Unicode's likely-subtags data gives when the tag names none."""
    from babel import Locale
    from babel.core import get_global

    name = locale_name(language or "en")
    locale = Locale.parse(name)
    territory = locale.territory
    if not territory:
        likely = get_global("likely_subtags").get(locale.language, "")
        territory = next((part for part in likely.split("_")[1:] if part.isalpha() and part.isupper()), "")
    return f"{locale.language}_{territory}" if territory else locale.language


def report_share(rendered: RenderedReport, title: str, image_url: str = "", image_alt: str = "",
                 noindex: bool = False) -> dict[str, Any]:
    """What a report page tells link previews (Open Graph, Twitter cards) and crawlers: its question, the verdict as
    plain text, its dates from the revisions (content, never a commit's or the build's), its language and card.
    Plain text; the adapter escapes it for the theme, and the theme adds the page's own address (canonical)."""
    published, modified = report_dates(rendered)
    share: dict[str, Any] = {
        "type": "article",
        "title": title,
        "description": _plain(rendered.verdict_uncited),
        "locale": og_locale(rendered.language),
        "published_time": iso(published),
        "modified_time": iso(modified),
        "authors": [a.name for a in rendered.report.meta.authors],
    }
    if image_url:
        share["image"] = {"url": image_url, "width": SHARE_CARD_SIZE[0], "height": SHARE_CARD_SIZE[1],
                          "alt": image_alt, "type": "image/png"}
    if noindex:
        share["robots"] = "noindex"
    return share


@dataclass(frozen=True)
class Facet:
    """One value the home page's filter offers: what the address holds, what the reader sees, how many reports."""

    value: str
    label: str
    count: int


def topic_names(reports: list[RenderedReport]) -> dict[str, str]:
    """Each topic's name as every page shows it (the filter, the topic pages, the cards' topic links), by its slug:
    of the spellings that differ only in letter case or spacing (`Vaccines`, `vaccines`), the one most reports use;
    on a tie, the first in report order (by folder). Spacing is tidied (`public  health` → `public health`)."""
    spellings: dict[str, Counter[str]] = {}
    for rendered in sorted(reports, key=lambda r: r.report.slug):
        for topic in rendered.report.meta.topics:
            spellings.setdefault(topic_slug(topic), Counter())[" ".join(topic.split())] += 1
    # max() keeps the first of equal counts, and a Counter keeps the order spellings were first met in
    return {slug: max(counts, key=counts.__getitem__) for slug, counts in spellings.items()}


def newest_first(reports: list[RenderedReport]) -> list[RenderedReport]:
    """Reports by `checked_on`, newest first; reports checked the same day by question."""
    by_title = sorted(reports, key=lambda r: r.report.meta.question.casefold())
    return sorted(by_title, key=lambda r: r.report.meta.checked_on, reverse=True)


@lru_cache(maxsize=256)
def language_name(tag: str, in_locale: str) -> str:
    """A language's name as the site's readers call it (`de` on an English site: `German`; on a German one:
    `Deutsch`); the tag itself when Babel knows no name."""
    from babel import Locale

    try:
        name = Locale.parse(locale_name(tag)).get_display_name(in_locale)
    except (ValueError, LookupError):
        name = None
    return (name[:1].upper() + name[1:]) if name else tag


def permalink_symbol(setting: object) -> str | None:
    """The heading permalink the `toc` extension's `permalink` setting asks for: `true` is `&para;`, a string is
    itself, anything else none (report pages add the link themselves, whichever engine places them)."""
    if setting is True:
        return "&para;"
    return setting if isinstance(setting, str) and setting else None


def permalink_macro(permalink: str | None) -> Callable[[str], Markup]:
    """The heading permalink the engine's `toc` settings ask for (`permalink: true` is `&para;`), or nothing."""
    def link(anchor: str) -> Markup:
        if not permalink:
            return Markup("")
        symbol = Markup("&para;") if permalink == "&para;" else permalink
        return Markup('<a class="headerlink" href="#{}" title="Permanent link">{}</a>').format(anchor, symbol)

    return link


def front_matter(meta: dict[str, Any]) -> str:
    """The front matter of every generated page: values as they were written (the engine adapter escapes titles and
    descriptions of every page, ours and the desk's alike, in one place); JSON scalars are YAML, ASCII keeps them
    exact (YAML would fold U+2028 as a line break)."""
    def scalar(value: Any) -> str:  # no markup in the file either: `<`, `>`, `&` as YAML \u escapes
        return json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    def key(name: str) -> str:  # keys are data too: one holding a newline would write lines of its own
        return name if PLAIN_KEY.fullmatch(name) else scalar(name)

    return "---\n" + "".join(f"{key(str(k))}: {scalar(v)}\n" for k, v in meta.items()) + "---\n"


PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


MAX_META_ITEMS = 10_000  # strings, lists and mappings in one page's front matter once YAML aliases are expanded


class MetaTooLarge(ValueError):
    """Front matter that expands past MAX_META_ITEMS (a YAML alias bomb)."""


def escape_meta(value: Any) -> Any:
    """Front-matter values as HTML text for themes that print them unescaped; MetaTooLarge past MAX_META_ITEMS
    (aliases share subtrees, so a 400-byte front matter can stand for millions of strings)."""
    budget = [MAX_META_ITEMS]

    def walk(item: Any) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise MetaTooLarge(f"front matter holds more than {MAX_META_ITEMS} values")
        if isinstance(item, str):
            return html_text(item)
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value)


@dataclass
class PageOutput:
    """A finished page: front matter (title, description, search settings), body HTML and its headings."""

    meta: dict[str, Any]
    html: str
    toc: list[dict[str, Any]]  # Python-Markdown's `toc_tokens` shape: level, id, name, children

    def front_matter(self) -> str:
        return front_matter(self.meta)

    def markdown(self) -> str:
        return self.front_matter() + "\n" + self.html

    def search_html(self) -> str:
        """The body as a site search index should see it: without citation numbers (`[1, 3]`) and back-link lists
        (`Cited at ↩1 ↩2`), which are navigation, not text a reader searches for. Also a third of the markup."""
        return _INLINE_WRAPPERS.sub("", _NOT_SEARCHED.sub("", self.html))


# Our own markup (citation.html, _macros.html): a numeric citation group starts with `[` and ends with `]</span>`
# (the first `]</span>` is its end: Pandoc's output inside it holds no `]` right before a closing span); a back-link
# list holds only <a> elements. An author-date citation stays searchable: names and years are words.
# Inline wrappers carry styling and links, not words: the index keeps their text and the block structure (headings
# split a page into search sections; paragraphs and list items stay).
_INLINE_WRAPPERS = re.compile(r"</?(?:span|time|a|div)\b[^>]*>")
_NOT_SEARCHED = re.compile(r'<a class="headerlink"[^>]*>.*?</a>'
                           r'|[ \t]*<span class="rg-cite" id="[^"]*">\[.*?\]</span>'
                           r'|<span class="rg-backlinks">.*?</span>', re.S)


_HEADING = re.compile(r'<h([1-6]) id="([^"]+)">(.*?)(?:<a class="headerlink"[^>]*>.*?</a>)?</h\1>', re.S)


def heading_id(text: str) -> str:
    """The id Python-Markdown's toc extension would give a heading with this text."""
    from markdown.extensions.toc import slugify

    slug = slugify(text, "-").lstrip("_")  # never a theme id (`__config`) or one of the page's own parts
    return "title" if not slug or REPORT_ID.fullmatch(slug) else slug


def toc_tokens(body: str, depth: int = 2) -> list[dict[str, Any]]:
    """The headings of a page body down to `depth`, as nested toc tokens (each under the last shallower one)."""
    tokens: list[dict[str, Any]] = []
    parents: list[dict[str, Any]] = []
    for match in _HEADING.finditer(body):
        level = int(match.group(1))
        if level > depth:
            continue
        name = re.sub(r"<[^>]+>", "", match.group(3)).strip()
        token: dict[str, Any] = {"level": level, "id": match.group(2), "name": name, "children": []}
        while parents and parents[-1]["level"] >= level:
            parents.pop()
        (parents[-1]["children"] if parents else tokens).append(token)
        parents.append(token)
    return tokens


def _report_nesting(problems: Problems, path: Path, line: int) -> None:
    """Deep nesting found while rendering, unless the pre-check (hygiene.check_prose) already reported it here."""
    where = problems.relative(path)
    if not any(p.path == where and p.code == "nested-too-deeply" for p in problems.items):
        problems.error(path, line, hygiene.NESTING_MESSAGE, hygiene.PROSE_NESTING_HINT, code="nested-too-deeply")


def report_citation_syntax(errors: list[CitationSyntaxError], problems: Problems, path: Path, first_line: int) -> None:
    """Malformed citations of a text that starts on `first_line` of `path`."""
    for error in errors:
        problems.error(path, first_line + error.line - 1, error.message, error.hint, code="citation-syntax")


def report_unknown_citation(item: CitationItem, bib: Bibliography, problems: Problems, path: Path, line: int) -> None:
    """A cited key the bibliography does not hold; `@name` in running text is as often a handle as a source."""
    if item.mode != AUTHOR_IN_TEXT or scheme_of(item.key):
        report_unknown_citation_key(item.key, bib, problems, path, line)
        return
    hint = bib.missing_key_hint(item.key)
    problems.error(path, line, f"`@{item.key}` is not a source key",
                   f"to write a handle or an address, escape it: `\\@{item.key}`"
                   + (f"; or, for a source, {hint}" if "did you mean" in hint else ""), code="unknown-key")


def report_unknown_citation_key(key: str, bib: Bibliography, problems: Problems, path: Path, line: int) -> None:
    if scheme_of(key):
        try:
            parse_identifier(key)
        except IdentifierError as exc:
            problems.error(path, line, exc.message, exc.hint, code="bad-identifier")
            return
        problems.error(path, line, f"`{key}` is not resolved yet: no entry in bib/ has it in `ids`",
                       bib.missing_key_hint(key), code="unresolved-identifier")
        return
    problems.error(path, line, f"unknown citation key `{key}`", bib.missing_key_hint(key), code="unknown-key")


@lru_cache(maxsize=8192)  # Babel takes ~40 µs a date; every reference list shows the same few thousand dates
def _partial_date(value: str, locale: str) -> str:
    match = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$", value.strip())
    if not match:
        return value
    year, month, day = (int(g) if g else 0 for g in match.groups())
    try:
        if day and month:
            return format_date(dt.date(year, month, day), "long", locale=locale)
        if month:
            return format_skeleton("yMMMM", dt.date(year, month, 1), locale=locale)
    except ValueError:
        return value
    return str(year)


def md_heading(text: str) -> str:
    """Heading text with Markdown punctuation escaped (HTML escaping, `<` and `&`, is the template's job)."""
    return re.sub(r"([\\`*_{}\[\]()#+!|])", r"\\\1", text)


def html_text(text: str) -> str:
    """Text as HTML for places MkDocs themes print without escaping (page title, description, navigation)."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def source_mix(references: list[ReferenceEntry]) -> list[SourceMixRow]:
    """How many cited sources of each kind; peer-reviewed studies are always listed, even at zero."""
    counts = Counter(entry.source.kind for entry in references)
    return [SourceMixRow(kind, label, counts.get(kind, 0))
            for kind, label in SOURCE_KINDS.items() if counts.get(kind) or kind == "peer-reviewed"]


def _plain(value: Markup | str) -> str:
    return html.unescape(nh3.clean(str(value), tags=set())).strip()


def _person(author: Any) -> dict[str, Any]:
    person: dict[str, Any] = {"@type": "Organization" if author.organization else "Person", "name": author.name}
    if author.url and safe_url(author.url):
        person["url"] = author.url
    return person


_BIB_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def _appearance(rendered: RenderedReport, claim: Claim) -> dict[str, Any] | None:
    """Where a claim first appeared, as a schema.org CreativeWork: the cited source's address, title and date (the
    claim's own `first_appeared.date` first), with the desk's note on it (`where`) as its description."""
    appeared = claim.first_appeared
    if appeared is None:
        return None
    source = next((e.source for e in rendered.references if appeared.source and e.source.key == appeared.source), None)
    work: dict[str, Any] = {"@type": "CreativeWork"}
    if source is not None:
        if safe_url(source.url):
            work["url"] = source.url
        title = source.text("title")
        if title:
            work["name"] = title
        publisher = next((source.text(f) for f in ("organization", "publisher", "institution", "journaltitle")
                          if source.text(f)), "")
        if publisher:
            work["publisher"] = {"@type": "Organization", "name": publisher}
    date = iso(appeared.date) or (
        (source.fields.get("date") or source.fields.get("year") or "").strip() if source is not None else "")
    if _BIB_DATE.fullmatch(date):
        work["datePublished"] = date
    if appeared.where:
        work["description"] = appeared.where
        work.setdefault("name", appeared.where)
    return work if len(work) > 1 else None


def report_dates(rendered: RenderedReport) -> tuple[dt.date, dt.date]:
    """When the report was first published (its first revision) and when its content last changed (its newest
    revision, or `checked_on` if that is later): content dates, never a commit's or the build's."""
    revisions = rendered.report.meta.revisions
    first = min(revisions, key=lambda r: r.version).date
    return first, max([r.date for r in revisions] + [rendered.report.meta.checked_on])


def claim_review_jsonld(rendered: RenderedReport, corrections: Corrections | None = None,
                        page_url: str | None = None, image_url: str = "") -> list[dict[str, Any]]:
    """The report as schema.org data: an Article for the report page, then a ClaimReview per claim (each part of
    the Article); text is plain (JSON escaping happens in the template filter). A claim whose rating a later version
    changed says so: `dateModified` and a `correction` (a CorrectionComment) per change.

    `page_url` is the report page's address as written on that page (absolute under `site_url`, else relative to
    the page: `./`). Only the current page carries this data: see `Renderer.page` for archived versions."""
    meta = rendered.report.meta
    scale = rendered.config.ratings
    words = labels(rendered.language)
    if page_url is None:
        page_url = report_url(rendered.config.site_url, rendered.report.slug, here=report_path(rendered.report.slug))
    article_id = f"{page_url}#article"
    published, modified = report_dates(rendered)
    authors = [_person(a) for a in meta.authors]
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "@id": article_id,
        "url": page_url,
        "mainEntityOfPage": page_url,
        "headline": meta.question,
        "description": meta.description or _plain(rendered.verdict_uncited),
        "datePublished": iso(published),
        "dateModified": iso(modified),
        "inLanguage": rendered.language,
        "author": authors,
    }
    if rendered.config.site_name:
        article["publisher"] = {"@type": "Organization", "name": rendered.config.site_name}
    if image_url:
        article["image"] = image_url
    items: list[dict[str, Any]] = [article]
    for claim in rendered.claims:
        c = claim.claim
        position = next((i for i, r in enumerate(scale) if r.id == c.rating), 0)
        reviewed: dict[str, Any] = {"@type": "Claim", "author": {"@type": "Organization", "name": c.claimant}}
        if c.first_appeared and c.first_appeared.date:
            reviewed["datePublished"] = iso(c.first_appeared.date)
        appearance = _appearance(rendered, c)
        if appearance is not None:
            reviewed["firstAppearance"] = appearance
            reviewed["appearance"] = [appearance]
        item: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": f"{page_url}#{claim.anchor}",
            "isPartOf": {"@id": article_id},
            "claimReviewed": _plain(claim.text),
            "datePublished": iso(meta.checked_on),
            "inLanguage": rendered.language,
            "author": authors,
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": len(scale) - position,
                "bestRating": len(scale),
                "worstRating": 1,
                "alternateName": words.text(claim.rating.label) if claim.rating else c.rating,
            },
            "itemReviewed": reviewed,
        }
        changes = (corrections or Corrections()).claims.get(c.id, [])
        if changes:
            item["dateModified"] = iso(changes[-1].date)
            item["correction"] = [{
                "@type": "CorrectionComment",
                "datePublished": iso(change.date),
                "text": words.text(N_("Rating changed from %(old)s to %(new)s in version %(version)s."),
                                   old=words.text(change.old_label), new=words.text(change.new_label),
                                   version=change.version),
            } for change in changes]
        items.append(item)
    if len(items) > 1:
        article["hasPart"] = [{"@id": item["url"]} for item in items[1:]]
        for item in items[1:]:
            item["@id"] = item["url"]
    return items


@dataclass
class RenderedClaim:
    """A claim as the page shows it: its text, rating, where it first appeared and why it is rated so."""

    claim: Claim
    anchor: str
    rating: Rating | None
    text: Markup
    appeared_source: Markup
    sources: Markup
    explanation: Markup


@dataclass
class RenderedNarrative:
    narrative: Narrative
    summary: Markup
    sources: Markup


@dataclass
class RenderedSummary:
    title: str
    html: Markup
    anchor: str = "summary"


@dataclass
class RenderedSection:
    """A numbered section: its prose, and the claims or narratives it holds (the first section of that kind)."""

    number: int
    title: str
    kind: str
    anchor: str
    html: Markup
    claims: list[RenderedClaim] = field(default_factory=list)
    narratives: list[RenderedNarrative] = field(default_factory=list)


@dataclass
class RenderedBottomLine:
    number: int
    anchor: str
    prose: list[Markup]
    conclusion: Markup
    would_change: Markup


@dataclass
class SourceMixRow:
    kind: str
    label: str
    count: int


@dataclass
class RenderedReport:
    """A report with every text rendered to safe HTML and its references numbered; templates, the PDF, JSON-LD,
    the diff and the render cache read these types, never loose dictionaries."""

    report: Report
    config: SiteConfig
    verdict_rating: Rating | None
    verdict: Markup
    verdict_uncited: Markup
    summary: RenderedSummary | None
    sections: list[RenderedSection]
    claims: list[RenderedClaim]
    narratives: list[RenderedNarrative]
    bottom_line: RenderedBottomLine
    follow_up: list[Markup]
    disclaimer: Markup | None
    references: list[ReferenceEntry]
    source_mix: list[SourceMixRow]
    revisions: list[Revision]
    looked_up: set[str] = field(default_factory=set)  # source keys the rendering depended on
    numeric: bool = True  # the style cites by number (`[1]`): the reference list shows the numbers

    @property
    def checked_revision(self) -> Revision:
        """The newest revision that checked or corrected the report (an editorial one does neither): its date is
        `checked_on`."""
        checked = [r for r in self.revisions if r.kind != "editorial"] or self.revisions
        return max(checked, key=lambda r: r.version)

    @property
    def stamp_label(self) -> str:
        """What the stamp says happened on `checked_on`: a correction is not a new check of the evidence."""
        return "Corrected on" if self.corrected else "Checked on"  # English: the pages translate the stamp whole

    @property
    def corrected(self) -> bool:
        """The stamp's date is a correction's (the newest checked revision corrected the report), not a check's."""
        revision = self.checked_revision
        return revision.kind == "correction" and revision.version > 1

    @property
    def language(self) -> str:
        """The report's language (`language` in report.yml), else the site's: its labels, dates and CSL terms."""
        return self.report.meta.language or self.config.language or "en"

    @cached_property
    def citation_places(self) -> dict[str, str]:
        """Where each citation group (`cite-N`) stands on the page, as a reader would name it: "the verdict",
        "section 3, paragraph 2", "section 2, claim 1", "“Executive summary”, paragraph 1" (translated)."""
        return citation_places(self)

    def backlinks(self, entry: ReferenceEntry) -> list[tuple[str, str]]:
        """A reference's back-links: each citation group that cites it, and the link's accessible name, which says
        where it leads ("Back to the citation in section 3, paragraph 2"; "Back to citation 2 in …" when one place
        cites the reference more than once)."""
        words = labels(self.language)
        places = [self.citation_places.get(target, "") for target in entry.backlinks]
        counts = Counter(places)
        seen: Counter[str] = Counter()
        out = []
        for target, place in zip(entry.backlinks, places, strict=True):
            seen[place] += 1
            if not place:
                name = words.text(N_("Back to the citation"))
            elif counts[place] > 1:
                name = words.text(N_("Back to citation %(n)s in %(place)s"), n=seen[place], place=place)
            else:
                name = words.text(N_("Back to the citation in %(place)s"), place=place)
            out.append((target, name))
        return out

    def summary_only(self) -> RenderedReport:
        """This render without its body (sections, claims, narratives): what the home and topic pages, the share
        card, the feed, the sitemap and the downloads read. Its references stay (the stamp's access date, the
        sources files); what they show of each source is shared with every report that cites it."""
        return dataclasses.replace(self, sections=[], claims=[], narratives=[], source_mix=[], follow_up=[])

    @property
    def topic_slugs(self) -> list[str]:
        """Each topic's folder under `topics/`, in the order report.yml lists them."""
        return [topic_slug(t) for t in self.report.meta.topics]

    @property
    def sources_accessed(self) -> dt.date | None:
        """When the report's sources were last accessed: the newest `urldate` among them."""
        dates = [date for entry in self.references if (date := entry.source.accessed) is not None]
        return max(dates) if dates else None


# Our citation groups (citation.html, Renderer.finish) and the block elements a reader counts as paragraphs; a loose
# list item (`<li><p>`) is one.
_PLACE_TOKENS = re.compile(r'<span class="rg-cite[^"]*" id="(cite-\d+)">'
                           r'|<li\b[^>]*>\s*<p\b[^>]*>|<(?:p|li|dd|dt|td|th|h[1-6]|pre)\b[^>]*>')


def _paragraph_places(parts: list[Markup], found: dict[str, int]) -> None:
    """Each citation group in `parts` (one block of the page, in reading order) with its paragraph's number."""
    count = 0
    for part in parts:
        for match in _PLACE_TOKENS.finditer(str(part)):
            if match.group(1):
                found.setdefault(match.group(1), max(count, 1))
            else:
                count += 1


def citation_places(rendered: RenderedReport) -> dict[str, str]:
    """Where each citation group stands on the report's page (see RenderedReport.citation_places)."""
    words = labels(rendered.language)
    places: dict[str, str] = {}

    def in_block(parts: list[Markup], name: Callable[[int], str]) -> None:
        found: dict[str, int] = {}
        _paragraph_places(parts, found)
        for group, paragraph in found.items():
            places.setdefault(group, name(paragraph))

    def in_section(number: int) -> Callable[[int], str]:
        return lambda p: words.text(N_("section %(section)s, paragraph %(paragraph)s"), section=number, paragraph=p)

    def titled(title: str) -> Callable[[int], str]:
        return lambda p: words.text(N_("“%(title)s”, paragraph %(paragraph)s"), title=title, paragraph=p)

    def whole(name: str) -> Callable[[int], str]:  # a place named as a whole, whatever its paragraph
        return lambda _: name

    in_block([rendered.verdict], whole(words.text(N_("the verdict"))))
    if rendered.summary:
        in_block([rendered.summary.html], titled(rendered.summary.title))
    for section in rendered.sections:
        in_block([section.html], in_section(section.number))
        for i, claim in enumerate(section.claims, 1):
            name = words.text(N_("section %(section)s, claim %(claim)s"), section=section.number, claim=i)
            in_block([claim.text, claim.appeared_source, claim.sources, claim.explanation], whole(name))
        for i, narrative in enumerate(section.narratives, 1):
            name = words.text(N_("section %(section)s, narrative %(narrative)s"), section=section.number, narrative=i)
            in_block([narrative.summary, narrative.sources], whole(name))
    bottom = rendered.bottom_line
    label = Markup("<p>")  # "What would change this assessment", a paragraph of its own between the two
    in_block([*bottom.prose, bottom.conclusion, label, bottom.would_change], in_section(bottom.number))
    in_block([Markup("<li>") + q for q in rendered.follow_up], titled(words.text(N_("Follow-up questions"))))
    if rendered.disclaimer:
        in_block([rendered.disclaimer], titled(words.text(N_("Disclaimer"))))
    return places


@dataclass(frozen=True)
class RatingChange:
    """A rating as one version changed it, from the comparison of that version with the one before; labels are
    as each version named its rating."""

    version: int
    date: dt.date
    old_id: str
    old_label: str
    new_id: str
    new_label: str
    changes_href: str = ""  # that version's "what changed" page, relative to the report's page


@dataclass
class Corrections:
    """What a report's history says about the version shown: every re-rating of its verdict and of each of its
    claims, oldest first, and the "what changed" page of each version. Empty without git history."""

    verdict: list[RatingChange] = field(default_factory=list)
    claims: dict[str, list[RatingChange]] = field(default_factory=dict)
    changes_hrefs: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rerated:
    """One rating a correction changed, as its notice lists it."""

    label: str  # "The verdict", or the claim's text
    anchor: str  # where the page shows it ("" for the verdict, which is right below)
    change: RatingChange


@dataclass(frozen=True)
class CorrectionNotice:
    """The notice under the stamp of a corrected report, as fact-check sites show one: when, what was wrong,
    which ratings changed, and where the whole change is."""

    revision: Revision
    rerated: tuple[Rerated, ...]
    changes_href: str


def correction_notice(rendered: RenderedReport, corrections: Corrections) -> CorrectionNotice | None:
    """The notice for the version shown, when its newest checked revision is a correction; None otherwise (a later
    update re-checked the report, and the correction lives on in the revision history)."""
    revision = rendered.checked_revision
    if revision.kind != "correction" or revision.version == 1:
        return None
    number = revision.version
    verdict = labels(rendered.language).text(N_("The verdict"))
    rerated = [Rerated(verdict, "", c) for c in corrections.verdict if c.version == number]
    rerated += [Rerated(_plain(claim.text), claim.anchor, c)
                for claim in rendered.claims for c in corrections.claims.get(claim.claim.id, []) if c.version == number]
    return CorrectionNotice(revision, tuple(rerated), corrections.changes_hrefs.get(number, ""))
