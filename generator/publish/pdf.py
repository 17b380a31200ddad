"""PDF export: each report rendered by WeasyPrint from our own print template, reproducibly and in parallel."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import PACKAGE_DIR
from generator.errors import inert
from generator.i18n import N_, labels
from generator.urls import report_url
from generator.workers import default_workers, pool_context

if TYPE_CHECKING:  # workers import this module: keep it light (no Markdown, Jinja or citeproc)
    from generator.render.report import Corrections, RenderedReport, Renderer

log = logging.getLogger(__name__)
PRINT_CSS = PACKAGE_DIR / "assets" / "print.css"
KINDS_CSS = PACKAGE_DIR / "assets" / "kinds.css"


def print_stylesheet() -> str:
    """The PDF's CSS: the source-kind colours shared with the site, then the print rules."""
    return KINDS_CSS.read_text(encoding="utf-8") + PRINT_CSS.read_text(encoding="utf-8")
PRINT_TEMPLATE = "print.html"
# PDF/UA-1 implies tagged PDF 1.7; WeasyPrint writes the structure tree and XMP identification.
PDF_VARIANT = "pdf/ua-1"

# WeasyPrint (70) breaks a line after its FIRST word when a text run ends in a space that does not fit
# but the run without it does (e.g. "… approval <span>[3]</span>" at the right margin). Moving such
# whitespace inside the next inline element (or out of the inline element it ends) keeps the text
# identical and leaves no text run ending in a space. Inline-block badges are left alone.
_INLINE = r"(?:a|em|strong|i|b|time|code|sup|sub|abbr|small|mark|q|kbd|s|u|del|ins|" \
          r"span(?![^>]*\bclass=\"[^\"]*\brg-(?:rating|badge)\b))"
_SPACE_BEFORE_END = re.compile(rf"(\s+)(</{_INLINE}>)")
_SPACE_BEFORE_START = re.compile(rf"(\s+)(<{_INLINE}\b[^>]*>)")


@dataclass(frozen=True)
class PdfJob:
    """Everything one worker needs to render a PDF, as plain strings so it pickles cheaply.

    `base_url` is the report's address on the published site (relative links in the PDF resolve there, never to the
    build machine's files); `folder` is the report's folder, the only place images may come from."""

    slug: str
    html: str
    css: str
    base_url: str
    page_size: str
    identifier: str
    folder: str = ""
    link_names: tuple[tuple[str, str], ...] = ()  # an internal link's target → what its annotation says it is


    @property
    def key(self) -> str:
        """Cache key: every input that can change the bytes, plus the renderer's version."""
        import pydyf
        import weasyprint

        digest = hashlib.sha256()
        for part in (weasyprint.__version__, pydyf.__version__, PDF_VARIANT, self.page_size, self.identifier,
                     self.base_url, self.css, self.html, *(part for pair in self.link_names for part in pair)):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()


@dataclass(frozen=True)
class PdfOutput:
    """One exported PDF: its bytes, page count and any characters no installed font could draw."""

    slug: str
    data: bytes
    pages: int
    missing_glyphs: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # addresses the content asked for that the PDF did not fetch

    @property
    def size(self) -> str:
        return human_size(len(self.data))


class PdfCache:
    """The last PDF of each report, keyed by a hash of its inputs, so `mkdocs serve` skips unchanged reports."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, PdfOutput]] = {}

    def get(self, job: PdfJob) -> PdfOutput | None:
        entry = self._entries.get(job.slug)
        return entry[1] if entry is not None and entry[0] == job.key else None

    def put(self, job: PdfJob, output: PdfOutput) -> None:
        self._entries[job.slug] = (job.key, output)

    def __len__(self) -> int:
        return len(self._entries)


def human_size(size: int) -> str:
    """A byte count as readers expect it next to a download link ("312 KB", "1.4 MB")."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{round(size / 1000)} KB"
    return f"{size / 1_000_000:.1f} MB"


def keep_spaces_inside_inlines(html: str) -> str:
    """Work around WeasyPrint's early line break after a trailing space (see _INLINE); text is unchanged."""
    html = _SPACE_BEFORE_END.sub(r"\2\1", html)
    return _SPACE_BEFORE_START.sub(r"\2\1", html)


def page_url(rendered: RenderedReport) -> str:
    """The report's published address, or "" when the site has no `site_url` (a PDF needs an absolute one)."""
    return report_url(rendered.config.site_url, rendered.report.slug) if rendered.config.site_url else ""


# The base of a report's PDF when the site has no `site_url`: relative links then stay relative (they resolve next
# to the PDF, which is published beside the report page), and images resolve to this address, which only our
# fetcher understands. It is never written into the PDF.
LOCAL_BASE = "https://report.invalid/"


def pdf_base_url(rendered: RenderedReport) -> str:
    return page_url(rendered) or f"{LOCAL_BASE}{rendered.report.slug}/"


def _local_link(target: str, base_url: str) -> str:
    """A link that resolved against LOCAL_BASE, made relative again (to the report page, beside the PDF)."""
    if not target.startswith(LOCAL_BASE):
        return target
    import posixpath
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(target)
    base = urlsplit(base_url).path
    relative = posixpath.relpath(parts.path, base) if parts.path != base else ""
    if relative == ".":
        relative = ""
    if parts.path.endswith("/") and relative and not relative.endswith("/"):
        relative += "/"
    return urlunsplit(("", "", relative, parts.query, parts.fragment)) or "./"


MAX_EMBEDDED = 20_000_000  # bytes: an image larger than this is not embedded


def report_fetcher(base_url: str, folder: str) -> Any:
    """WeasyPrint's only way to the outside world while it renders a report, and it leads nowhere but the report's
    own folder: an address under the report's base URL is served from a regular file inside that folder; `data:`
    URLs are decoded; everything else — `file:` paths elsewhere, http(s), other schemes — is refused, so content
    can neither embed a file of the build machine nor make a network request. Files over MAX_EMBEDDED bytes and
    XML that declares entities or a DOCTYPE (an SVG "billion laughs" takes minutes and gigabytes) are refused too.
    `refused` lists what was asked for."""
    return _fetcher_class()(base_url, folder)


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportFetcher(URLFetcher):
        def __init__(self, base_url: str, folder: str):
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.base_url = base_url
            self.folder = Path(folder) if folder else None
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            import mimetypes
            from urllib.parse import unquote, urlsplit

            from generator.safefs import UnsafePath, check_file

            if url.startswith("data:"):
                return super().fetch(url, headers)
            if self.folder is not None and url.startswith(self.base_url):
                path = self.folder / unquote(urlsplit(url[len(self.base_url):]).path)
                try:
                    check_file(path, self.folder)
                    if path.stat().st_size > MAX_EMBEDDED:
                        raise UnsafePath(path, "too large")
                    body = path.read_bytes()
                    if b"<!ENTITY" in body or b"<!DOCTYPE" in body.upper():  # XML entities: a "billion laughs" SVG
                        raise UnsafePath(path, "declares XML entities")
                except (UnsafePath, OSError):
                    pass
                else:
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body=body, headers={"Content-Type": kind})
            self.refused.append(url)
            raise ValueError(f"not fetched: {url} (a PDF embeds only files of its report's folder)")

    return ReportFetcher


def print_html(rendered: RenderedReport, renderer: Renderer, corrections: Corrections | None = None) -> str:
    """The report as one standalone HTML document for print (dates from content, never the clock), with the same
    correction notice and rating-change markers as its page."""
    from generator.render.report import Corrections, correction_notice  # the main process has it loaded

    meta = rendered.report.meta
    first = min(meta.revisions, key=lambda r: r.version)
    corrections = corrections or Corrections()
    context = {
        "r": rendered,
        "corrections": corrections,
        "notice": correction_notice(rendered, corrections),
        **renderer.locale_context(rendered.language),
        "site_name": rendered.config.site_name,
        "page_url": page_url(rendered),
        "created": first.date.isoformat(),
        "modified": meta.checked_on.isoformat(),
    }
    words = labels(rendered.language)
    context["running_stamp"] = " · ".join([
        words.text(N_("Corrected on %(date)s") if rendered.corrected else N_("Checked on %(date)s"),
                   date=context["fmt"](meta.checked_on)),
        words.text(N_("Version %(version)s"), version=rendered.report.version)])
    return keep_spaces_inside_inlines(renderer.env.get_template(PRINT_TEMPLATE).render(context))


def pdf_identifier(rendered: RenderedReport) -> str:
    """A fixed PDF /ID per report version (pydyf adds a content hash as the second half)."""
    name = f"{rendered.report.slug}@{rendered.report.version}"
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


def link_names(rendered: RenderedReport) -> tuple[tuple[str, str], ...]:
    """What a link to each reference says it is in the PDF ("Reference 4: TASS, …"): a screen reader announces a
    link annotation by its description, which WeasyPrint sets to the link's target, an anchor id."""
    words = labels(rendered.language)
    return tuple((e.anchor, words.text(N_("Reference %(number)s: %(reference)s"), number=e.number,
                                       reference=e.formatted.text) if rendered.numeric else e.formatted.text)
                 for e in rendered.references)


def describe_links(document: Any, pdf: Any, names: dict[str, str]) -> None:
    """A WeasyPrint finisher: every link annotation described for a reader, not by its target. An internal link to a
    reference by `names`, any other by its text (an external one with its address, unless the text is the
    address). WeasyPrint (70) writes the target as the description (`/Contents`) of every link under PDF/UA."""
    import pydyf

    for page in document.pages:
        for kind, target, _rectangle, box in page.links:
            annotation = getattr(box, "link_annotation", None)
            if annotation is None or "Contents" not in annotation:
                continue
            element = getattr(box, "element", None)
            text = " ".join("".join(element.itertext()).split()) if element is not None else ""
            if kind == "internal":
                description = names.get(target) or text or target
            else:
                description = f"{text} ({target})" if text and text != target else target
            annotation["Contents"] = pydyf.String(description)


def make_job(rendered: RenderedReport, renderer: Renderer, css: str | None = None,
             corrections: Corrections | None = None) -> PdfJob:
    """Render the print HTML here (Jinja stays in this process); the worker only runs WeasyPrint."""
    return PdfJob(
        slug=rendered.report.slug,
        html=print_html(rendered, renderer, corrections),
        css=print_stylesheet() if css is None else css,
        base_url=pdf_base_url(rendered),
        page_size=rendered.config.page_size,
        identifier=pdf_identifier(rendered),
        folder=str(rendered.report.folder.resolve()),
        link_names=link_names(rendered),
    )


class _WeasyPrintLog(logging.Filter):
    """Collects the characters WeasyPrint drew as .notdef boxes (it only logs them), and makes every message it logs
    inert: its warnings quote what it was given (an image address, a CSS value from content), so each is printed as
    one line with control characters made visible, and content can never start a line of a CI log."""

    def __init__(self) -> None:
        super().__init__()
        self.chars: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(".notdef glyph") and record.args:
            self.chars.add(str(record.args[0]))  # type: ignore[index]
        record.msg, record.args = inert(record.getMessage()), ()
        return True


def render_job(job: PdfJob) -> PdfOutput:
    """HTML + CSS to PDF bytes with WeasyPrint; runs in worker processes, so it takes only plain data."""
    from weasyprint import CSS, HTML

    fetcher = report_fetcher(job.base_url, job.folder)
    stylesheets = [
        CSS(string=job.css, base_url=job.base_url, url_fetcher=fetcher),
        CSS(string=f"@page {{ size: {job.page_size}; }}", url_fetcher=fetcher),
    ]
    missing = _WeasyPrintLog()
    weasy_log = logging.getLogger("weasyprint")
    weasy_log.addFilter(missing)
    try:
        document = HTML(string=job.html, base_url=job.base_url, url_fetcher=fetcher).render(stylesheets=stylesheets)
        if job.base_url.startswith(LOCAL_BASE):
            for page in document.pages:
                page.links = [(kind, _local_link(target, job.base_url) if kind == "external" else target, *rest)
                              for kind, target, *rest in page.links]
        data = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_identifier=job.identifier.encode("ascii"),
                                  finisher=functools.partial(describe_links, names=dict(job.link_names)))
    finally:
        weasy_log.removeFilter(missing)
    return PdfOutput(job.slug, data, len(document.pages), tuple(sorted(missing.chars)), tuple(dict.fromkeys(fetcher.refused)))


def _render_all(jobs: list[PdfJob], workers: int) -> list[PdfOutput]:
    """Jobs across worker processes (serially for one); if the pool breaks, the rest are rendered here."""
    done: list[PdfOutput] = []
    if len(jobs) <= 1 or workers <= 1:
        return [render_job(job) for job in jobs]
    try:
        context = pool_context(["generator.publish.pdf", "weasyprint"])
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for output in pool.map(render_job, jobs):
                done.append(output)
    except BrokenProcessPool as exc:
        log.warning("PDF worker processes failed (%s); rendering the remaining %d PDF(s) in this process",
                    exc, len(jobs) - len(done))
    return done + [render_job(job) for job in jobs[len(done):]]


def render_jobs(jobs: Iterable[PdfJob], cache: PdfCache | None = None, workers: int | None = None) -> dict[str, PdfOutput]:
    """Render several PDFs across cores; unchanged inputs come from the cache with identical bytes."""
    jobs = list(jobs)
    outputs: dict[str, PdfOutput] = {}
    todo: list[PdfJob] = []
    for job in jobs:
        cached = cache.get(job) if cache is not None else None
        if cached is not None:
            outputs[job.slug] = cached
        else:
            todo.append(job)
    done = _render_all(todo, workers or default_workers(len(todo)))
    for job, output in zip(todo, done, strict=True):
        outputs[job.slug] = output
        if cache is not None:
            cache.put(job, output)
    return {job.slug: outputs[job.slug] for job in jobs}


def export_pdfs(rendered: Iterable[RenderedReport], renderer: Renderer, cache: PdfCache | None = None,
                workers: int | None = None, corrections: dict[str, Corrections] | None = None) -> dict[str, PdfOutput]:
    """Every given report as PDF bytes, by slug, in input order (`corrections`: by slug, from its history)."""
    css = print_stylesheet()
    jobs = [make_job(r, renderer, css, (corrections or {}).get(r.report.slug)) for r in rendered]
    outputs = render_jobs(jobs, cache, workers)
    for slug, output in outputs.items():
        if output.missing_glyphs:
            chars = ", ".join(f"{c} (U+{ord(c):04X})" for c in output.missing_glyphs)
            log.warning(inert(f"{slug}.pdf: no installed font has {chars}; they print as empty boxes. Install a font "
                              "that covers them (e.g. fonts-noto-cjk for Chinese, Japanese and Korean)"))
        for url in output.refused:
            log.warning(inert(f"{slug}.pdf: `{url[:200]}` was not embedded: a PDF embeds only files of its report's "
                              "folder, and fetches nothing from the network"))
    return outputs
