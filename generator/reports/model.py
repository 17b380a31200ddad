"""The content model (Report, Section, Claim, Narrative, Revision), loaded from `content/<slug>/` with line numbers."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from generator import hygiene, safefs
from generator.errors import Problems

SECTION_KINDS = ("summary", "methods", "claims", "evidence", "assessment", "gaps", "narratives", "bottom-line", "free")
REVISION_KINDS = ("update", "correction", "editorial")
SLUG = r"^[a-z0-9][a-z0-9-]*$"
LANGUAGE_TAG = r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)?$"
REPORT_FILE = "report.yml"
TOPIC_LENGTH = 60  # characters a topic may have: a filter's option, a sidebar entry, a page title
# Report folders that would be published where the site publishes its own pages and files: what lives there.
RESERVED_SLUGS = {
    "topics": "the topic pages (`topics/` and `topics/<topic>/`)",
    "assets": "the site's scripts and stylesheets (`assets/report/home.js`, the theme's `assets/`)",
    "search": "the site search's index (`search/`)",
}
RESERVED_DOCS = "topics"  # the folder of docs/ (and its `.md` page) that the topic pages are published at


def _date_not_number(value: Any) -> Any:
    """Refuse `20260127` and other numbers: pydantic would read them as Unix timestamps."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("write dates as YYYY-MM-DD")
    return value


Date = Annotated[dt.date, BeforeValidator(_date_not_number)]


def _number_not_boolean(value: Any) -> Any:
    """Refuse `yes` and `true`: pydantic would read them as 1 (YAML reads `yes`, `on` and `true` as booleans)."""
    if isinstance(value, bool):
        raise ValueError("write a whole number")
    return value


Count = Annotated[int, BeforeValidator(_number_not_boolean)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Author(_Model):
    name: str = Field(min_length=1)
    organization: bool = Field(default=False, description="True for a desk, newsroom or institution.")
    url: str | None = Field(default=None, pattern=r"^https?://")
    affiliation: str = ""


class Verdict(_Model):
    rating: str = Field(description="An id from the site's rating scale.")
    text: str = Field(min_length=1, description="The verdict in one or two sentences; Markdown and citations allowed.")


class Section(_Model):
    kind: Literal[SECTION_KINDS] = Field(description="What the section does in the report.")  # type: ignore[valid-type]
    title: str = Field(min_length=1)
    file: str = Field(pattern=r"^[^/\\]+\.md$", description="Markdown file next to report.yml.")


class FirstAppearance(_Model):
    date: Date | None = None
    source: str | None = Field(default=None, description="Bib key of where the claim first appeared.")
    where: str = Field(default="", description="Free text: outlet, event or platform.")


class Claim(_Model):
    id: str = Field(pattern=SLUG)
    claim: str = Field(min_length=1, description="The statement checked.")
    claimant: str = Field(min_length=1)
    first_appeared: FirstAppearance | None = None
    rating: str = Field(description="An id from the site's rating scale.")
    sources: list[str] = Field(default_factory=list, description="Bib keys that bear on the claim.")
    explanation: str = ""


class Narrative(_Model):
    title: str = Field(min_length=1)
    promoted_by: str = ""
    summary: str = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)


class BottomLine(_Model):
    conclusion: str = Field(min_length=1)
    would_change: str = Field(min_length=1, description="What evidence would change the assessment.")


class Revision(_Model):
    version: Count = Field(ge=1)
    date: Date
    kind: Literal[REVISION_KINDS] = "update"  # type: ignore[valid-type]
    note: str = Field(min_length=1, description="What changed and why; for a correction, what was wrong.")
    summary: str = Field(default="", description="One sentence for the notice under the stamp of a corrected page "
                                                 "and the banners of earlier versions; the note is used when empty.")
    sources_reaccessed: bool | None = Field(
        default=None, description="Whether the sources were read again for this revision. `false` says that "
        "checked_on moved without a new visit (the page shows when the sources were last accessed either way).")

    @property
    def headline(self) -> str:
        """What a notice or banner says of this revision: its summary, or its note."""
        return self.summary or self.note


class ReportMeta(_Model):
    """Everything in report.yml; published as JSON Schema for editors."""

    question: str = Field(min_length=1, description="The question the report answers; its title.")
    short_title: str = ""
    description: str = ""
    authors: list[Author] = Field(min_length=1)
    checked_on: Date
    language: str = Field(default="", pattern=LANGUAGE_TAG,
                          description="The report's language as a BCP 47 tag (`en`, `de`, `pt-BR`); the site's if empty.")
    keywords: list[str] = Field(default_factory=list)
    # The length is checked with the report's line (build.validate_report), not by the schema, whose message has
    # no hint; editors still see the limit in the published JSON Schema.
    topics: list[Annotated[str, Field(min_length=1, json_schema_extra={"maxLength": TOPIC_LENGTH})]] = Field(
        default_factory=list, description="What the report is about, for the home page's filter and the topic pages "
        "(`vaccines`, `oncology`); a few short words each, shared across reports.")
    verdict: Verdict
    sections: list[Section] = Field(min_length=1)
    claims: list[Claim] = Field(default_factory=list)
    narratives: list[Narrative] = Field(default_factory=list)
    bottom_line: BottomLine
    follow_up: list[str] = Field(default_factory=list)
    disclaimer: str = ""
    revisions: list[Revision] = Field(min_length=1)


# The shape of a report, written once: which fields of report.yml hold Markdown with citations, and which hold
# source keys (`*` is every item of a list). Validation, the check of a report that failed the schema, the sources
# formatted up front and the test that rendering and the diff cover every field all read these tables.
CITED_TEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("verdict", "text"), ("claims", "*", "claim"), ("claims", "*", "explanation"), ("narratives", "*", "summary"),
    ("bottom_line", "conclusion"), ("bottom_line", "would_change"), ("follow_up", "*"), ("disclaimer",))
SOURCE_KEY_FIELDS: tuple[tuple[str, ...], ...] = (
    ("claims", "*", "sources", "*"), ("claims", "*", "first_appeared", "source"), ("narratives", "*", "sources", "*"))


def walk_fields(data: Any, pattern: tuple[str, ...], loc: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(location, value) of every value of plain data (report.yml as loaded, or `ReportMeta.model_dump()`) that
    `pattern` names; parts of the wrong type are skipped (the schema reports them)."""
    if not pattern:
        yield loc, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for i, item in enumerate(data if isinstance(data, list) else []):
            yield from walk_fields(item, rest, (*loc, i))
    elif isinstance(data, dict) and data.get(head) is not None:
        yield from walk_fields(data[head], rest, (*loc, head))


def cited_texts(data: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every Markdown text of report data that may hold citations, with its location."""
    for pattern in CITED_TEXT_FIELDS:
        yield from ((loc, value) for loc, value in walk_fields(data, pattern) if isinstance(value, str))


def source_keys(data: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every source key report data names outside its prose, with its location."""
    for pattern in SOURCE_KEY_FIELDS:
        yield from ((loc, value) for loc, value in walk_fields(data, pattern) if isinstance(value, str))


@dataclass
class Report:
    """A loaded report: its metadata, prose and where everything came from."""

    slug: str
    folder: Path
    meta: ReportMeta
    prose: dict[str, str] = field(default_factory=dict)
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / REPORT_FILE

    def line_of(self, *loc: Any) -> int | None:
        """The report.yml line of a field, or of its nearest parent."""
        return hygiene.line_in(self.lines, loc)

    @property
    def version(self) -> int:
        return max(r.version for r in self.meta.revisions)

    @property
    def latest_revision(self) -> Revision:
        return max(self.meta.revisions, key=lambda r: r.version)

    @property
    def short_title(self) -> str:
        return self.meta.short_title or self.meta.question


class _StringDateLoader(yaml.SafeLoader):
    """YAML with timestamps kept as text, so pydantic reports impossible dates with their location."""


_StringDateLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _FastStringDateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same, parsed by libyaml when PyYAML has it (~10x faster); used only for text it parses without error."""


_FastStringDateLoader.yaml_implicit_resolvers = _StringDateLoader.yaml_implicit_resolvers


# The tags plain YAML data resolves to. Any other tag (`!!python/object`, `!!binary`, `!!set`, `!custom`) would
# construct something other than data: refused before anything is constructed.
DATA_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq",
                                                                 "merge"))


class ForbiddenTag(yaml.YAMLError):
    """An explicit YAML tag in content: content is data, and no object is ever constructed from it."""

    def __init__(self, node: yaml.Node):
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        self.problem = f"the YAML tag `{tag}` is not allowed"
        self.problem_mark = node.start_mark
        super().__init__(self.problem)


class TooDeep(yaml.YAMLError):
    """YAML nested deeper than libyaml parses (its limit, ~1000 levels, is far above ours, MAX_NESTING)."""

    def __init__(self, mark: Any):
        self.problem_mark = mark
        super().__init__("nested too deeply")


def _too_deep_mark(text: str | bytes) -> Any:
    """Where the YAML first nests deeper than MAX_NESTING, read from the event stream (a loop, not a recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > hygiene.MAX_NESTING:  # as hygiene.check_report_data counts: the document is level 0
                    return event.start_mark
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def refuse_tags(node: yaml.Node | None) -> None:
    """Raise ForbiddenTag for the first node whose tag is not plain data (an explicit stack: any depth, aliases once).

    Collections nested MAX_NESTING levels deep are emptied here, before anything is built: building is recursive in
    PyYAML, and `hygiene.check_report_data` reports the nesting at that level (an empty collection is still one)."""
    stack: list[tuple[yaml.Node, int]] = [(node, 0)] if node is not None else []
    seen: set[int] = set()
    while stack:
        current, depth = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.tag not in DATA_TAGS:
            raise ForbiddenTag(current)
        if isinstance(current, yaml.CollectionNode) and depth >= hygiene.MAX_NESTING:
            current.value = []
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack += ((value, depth + 1), (key, depth + 1))
        elif isinstance(current, yaml.SequenceNode):
            stack += ((item, depth + 1) for item in reversed(current.value))


def _load_with(loader_class: type[yaml.SafeLoader], text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        refuse_tags(node)
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def load_yaml_data(text: str | bytes) -> tuple[yaml.Node | None, Any]:
    """YAML text parsed once, as data only: the node tree (for line numbers) and the data built from it.

    Explicit tags raise ForbiddenTag before anything is constructed. Anything libyaml objects to is parsed again by
    the pure-Python loader, so problems read exactly as before."""
    try:
        return _load_with(_FastStringDateLoader, text)  # type: ignore[arg-type]
    except ForbiddenTag:
        raise
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml's own limit: the pure-Python parser would recurse
            raise TooDeep(_too_deep_mark(text) or exc.problem_mark) from None
    except Exception:  # noqa: BLE001, S110 - re-parsed below, which raises the error we report
        pass
    return _load_with(_StringDateLoader, text)  # type: ignore[arg-type]



def _node_lines(node: yaml.Node, loc: tuple[Any, ...], out: dict[tuple[Any, ...], int],
                duplicates: list[tuple[str, int, int]], seen: set[int] | None = None) -> None:
    """Record the line of every field and list item; note keys given twice (YAML would keep only the last).

    Depth-first in document order with an explicit stack, so any depth is safe; below MAX_NESTING levels nothing
    is recorded (hygiene reports the nesting; a field there takes the line of its nearest recorded parent)."""
    seen = set() if seen is None else seen

    def mapping_items(node: yaml.MappingNode, loc: tuple[Any, ...]) -> Iterator[tuple[yaml.Node, tuple[Any, ...]]]:
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else f"<{key_node.tag}>"
            line = key_node.start_mark.line + 1
            if key in first:
                duplicates.append((".".join(str(p) for p in (*loc, key)), line, first[key]))
                continue
            first[key] = line
            out[(*loc, key)] = line
            yield value_node, (*loc, key)

    def enter(node: yaml.Node, loc: tuple[Any, ...]) -> Iterator[tuple[yaml.Node, tuple[Any, ...]]] | None:
        if id(node) in seen:  # an alias: its lines were recorded where it was defined (and it may be recursive)
            return None
        seen.add(id(node))
        out.setdefault(loc, node.start_mark.line + 1)
        if len(loc) >= hygiene.MAX_NESTING:
            return None
        if isinstance(node, yaml.MappingNode):
            return mapping_items(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return ((item, (*loc, index)) for index, item in enumerate(node.value))
        return None

    stack = [children] if (children := enter(node, loc)) is not None else []
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif (children := enter(*child)) is not None:
            stack.append(children)


def _close(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema model that describes the mapping at `loc` (to suggest the fields it allows)."""
    model: type[BaseModel] | None = ReportMeta
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part)) if model else None
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean `{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"the number `{value}`"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"`{str(value)[:40]}`"


def _pydantic_message(error: dict[str, Any]) -> tuple[str, str]:
    """A schema error as what is wrong and how to fix it, in the words of report.yml."""
    parts = tuple(error["loc"])
    loc = ".".join(str(p) for p in parts)
    name = str(parts[-1]) if parts else "report.yml"
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _model_at(parts[:-1])
        allowed = list(model.model_fields) if model else []
        hint = _close(name, allowed) or (f"allowed here: {', '.join(allowed)}" if allowed else "remove it")
        return f"unknown field `{loc}`", hint
    if kind == "missing":
        where = f" under `{'.'.join(str(p) for p in parts[:-1])}`" if len(parts) > 1 else ""
        return f"missing required field `{loc}`", f"add `{name}:`{where} to report.yml"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        what = {"kind": "section kind" if parts[:1] == ("sections",) else "revision kind"}.get(name, "value")
        hint = _close(str(value), choices) or f"use one of: {', '.join(choices)}"
        return f"unknown {what} `{value}` in `{loc}`", hint
    if kind.startswith("date") or (kind == "value_error" and "YYYY-MM-DD" in error["msg"]):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"`{loc}`: `{value}` is not a date", "write dates as YYYY-MM-DD, e.g. 2026-01-27"
        reason = error["msg"].split(",")[-1].strip()
        return f"`{loc}`: `{value}` is not a valid date ({reason})", "write dates as YYYY-MM-DD"
    if kind == "value_error" and isinstance(value, bool):
        words = "`yes` and `on`" if value else "`no` and `off`"
        return (f"`{loc}` must be a whole number, not {_describe(value)}",
                f"YAML read this as {_describe(value)} (as it does {words}): write a number, e.g. `{name}: 2`")
    if kind == "string_unicode":
        return (f"`{loc}` is not valid Unicode text (it holds an unpaired surrogate)",
                "remove the escape such as `\\ud800` from the quoted value")
    if kind == "string_type":
        hint = "write it as text"
        if value is None or isinstance(value, bool | int | float):
            shown = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            hint = f'YAML read this as {_describe(value)}: put it in quotes, e.g. `{name}: "{shown or "..."}"`'
        return f"`{loc}` must be text, not {_describe(value)}", hint
    if kind == "list_type":
        return f"`{loc}` must be a list, not {_describe(value)}", "write one item per line, each starting with `- `"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"`{loc}` must be a mapping of fields, not {_describe(value)}", "write `field: value` lines indented under it"
    if kind in ("bool_type", "bool_parsing"):
        return f"`{loc}` must be true or false, not {_describe(value)}", ""
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"`{loc}` must be a whole number, not {_describe(value)}", ""
    if kind == "greater_than_equal":
        return f"`{loc}` must be at least {ctx.get('ge')}, not {_describe(value)}", ""
    if kind in ("too_short", "string_too_short"):
        return f"`{loc}` must not be empty", "add at least one item" if kind == "too_short" else "write the text"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == SLUG:
            return f"`{loc}`: `{value}` is not a valid id", "use lowercase letters, digits and hyphens, e.g. `efficacy-100`"
        if "https?" in str(ctx.get("pattern")):
            return f"`{loc}` must start with http:// or https://, not `{str(value)[:40]}`", "only web links are allowed"
        if ctx.get("pattern") == LANGUAGE_TAG:
            return (f"`{loc}`: `{str(value)[:40]}` is not a language tag",
                    "write a BCP 47 tag such as `en`, `de`, `uk` or `pt-BR`, or leave it out for the site's language")
        if name == "file":
            return f"`{loc}`: `{value}` is not a Markdown file next to report.yml", "write a file name such as `summary.md`"
    return f"`{loc}`: {error['msg']}", ""


def _unclosed_quote_line(text: str, line: int | None) -> int | None:
    """The line, at or shortly before where YAML gave up, whose double quote is never closed (a common slip)."""
    lines = text.splitlines()
    last = min(line or len(lines), len(lines))
    for number in range(last, max(last - 4, 0), -1):
        stripped = re.sub(r"\\.", "", lines[number - 1])
        if "'" not in stripped and stripped.count('"') % 2 == 1:
            return number
    return None


def _yaml_hint(problem: str) -> str:
    """A hint for common YAML mistakes: tabs, `: ` inside unquoted text."""
    if "\\t" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return 'put a value that contains `: ` in quotes: `text: "A: B"`'
    return "check the indentation, and quote values that contain `: `, ` #` or start with a quote"


@dataclass
class RejectedReport:
    """A report.yml that failed the schema: kept raw, so checks that need no valid model still run."""

    folder: Path
    data: dict[str, Any]
    lines: dict[tuple[Any, ...], int]


def load_report(folder: Path, problems: Problems, rejected: list[RejectedReport] | None = None) -> Report | None:
    """Load one report folder; every schema problem is reported with its line."""
    path = folder / REPORT_FILE
    slug = folder.name
    if not re.match(SLUG, slug):
        suggestion = slugify(slug)
        hint = f"rename the folder to `{suggestion}`" if suggestion else "use lowercase letters, digits and hyphens"
        problems.error(folder, None, f"report folder name `{slug}` is not a valid slug (its URL)",
                       f"{hint}: lowercase letters, digits and hyphens", code="bad-slug")
        return None
    try:
        text = safefs.read_text(path, folder.parent, problems.root)
    except FileNotFoundError:
        problems.error(path, None, "report folder has no report.yml", "run `report new <slug>` to scaffold one",
                       code="missing-file")
        return None
    except safefs.UnsafePath as exc:
        problems.error(path, None, exc.message, exc.hint, code="unsafe-path")
        return None
    except UnicodeDecodeError as exc:
        problems.error(path, None, f"report.yml is not UTF-8 text ({exc.reason} at byte {exc.start})",
                       "save it as UTF-8", code="yaml")
        return None
    except OSError as exc:
        problems.error(path, None, f"cannot read report.yml ({exc.strerror})", "", code="missing-file")
        return None
    return parse_report(text, folder, problems, rejected)


def parse_report(text: str, folder: Path, problems: Problems,
                 rejected: list[RejectedReport] | None = None) -> Report | None:
    """Validate report.yml text as if read from `folder`; every problem is reported with its line."""
    path = folder / REPORT_FILE
    slug = folder.name
    line: int | None
    try:
        node, data = load_yaml_data(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problems.error(path, line, f"invalid YAML: report.yml contains the control character U+{exc.character:04X}",
                       "delete it (it is invisible in most editors)", code="yaml")
        return None
    except TooDeep as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problems.error(path, line, hygiene.NESTING_MESSAGE, hygiene.YAML_NESTING_HINT, code="nested-too-deeply")
        return None
    except ForbiddenTag as exc:
        problems.error(path, exc.problem_mark.line + 1, f"invalid YAML: {exc.problem}",
                       "report.yml holds data only: remove the tag (quote the value if it is text)", code="yaml")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark else None
        quote_line = _unclosed_quote_line(text, line)
        if quote_line is not None:
            problems.error(path, quote_line, 'invalid YAML: the `"` opened on this line is never closed',
                           f'close it at the end of the value (YAML gave up on line {line}); write a `"` inside a '
                           'value as `\\"`', code="yaml")
        else:
            problems.error(path, line, f"invalid YAML: {problem}", _yaml_hint(problem), code="yaml")
        return None
    except RecursionError:
        problems.error(path, None, "invalid YAML: nested too deeply", "simplify the structure", code="yaml")
        return None
    lines: dict[tuple[Any, ...], int] = {}
    duplicates: list[tuple[str, int, int]] = []
    if node is not None:
        _node_lines(node, (), lines, duplicates)
    for name, line, first in duplicates:
        problems.error(path, line, f"field `{name}` is given twice (first on line {first})",
                       "YAML keeps only the last one: remove or merge the other", code="yaml")
    if not isinstance(data, dict):
        problems.error(path, lines.get((), 1), f"report.yml must be a mapping of fields, not {_describe(data)}",
                       "start from `report new <slug>`", code="schema")
        return None
    if not hygiene.check_report_data(data, lines, text, path, problems):
        return None
    data.pop("$schema", None)
    try:
        meta = ReportMeta.model_validate(data)
    except RecursionError:
        problems.error(path, None, "report.yml refers to itself (a recursive YAML alias)", "remove the alias",
                       code="schema")
        return None
    except ValidationError as exc:
        for error in exc.errors():
            message, hint = _pydantic_message(dict(error))
            loc = tuple(error["loc"])
            line = None
            while line is None:
                line = lines.get(loc)
                if not loc:
                    break
                loc = loc[:-1]
            problems.error(path, line, message, hint, code="schema")
        if rejected is not None:
            rejected.append(RejectedReport(folder, data, lines))
        return None
    if duplicates:
        return None
    report = Report(slug=slug, folder=folder, meta=meta, lines=lines)
    for index, section in enumerate(meta.sections):
        section_path = folder / section.file
        try:
            report.prose[section.file] = safefs.read_text(section_path, folder.parent, problems.root)
        except safefs.UnsafePath as exc:
            problems.error(section_path, None, exc.message, exc.hint, code="unsafe-path")
            report.prose[section.file] = ""
            continue
        except FileNotFoundError:
            problems.error(path, report.line_of("sections", index, "file"),
                           f"section file `{section.file}` does not exist",
                           f"create {problems.relative(section_path)} or fix the file name",
                           code="missing-file")
            report.prose[section.file] = ""
            continue
        except (UnicodeDecodeError, OSError) as exc:
            reason = f"not UTF-8 text ({exc.reason})" if isinstance(exc, UnicodeDecodeError) else exc.strerror
            problems.error(section_path, None, f"cannot read section file `{section.file}`: {reason}",
                           "save it as a UTF-8 text file", code="missing-file")
            report.prose[section.file] = ""
            continue
        hygiene.check_prose(report.prose[section.file], section_path, problems)
        if not report.prose[section.file].strip():
            problems.error(section_path, 1, f"section file `{section.file}` is empty",
                           "write the section or remove it from `sections`", code="empty-section")
    return report


def slugify(name: str) -> str:
    """The slug a folder name was probably meant to be (for hints)."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def report_folders(content_dir: Path) -> list[Path]:
    """The folders under content/ that hold a report (hidden and `_` folders are skipped)."""
    if not content_dir.is_dir():
        return []
    return sorted(p for p in content_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_reports(content_dir: Path, problems: Problems, rejected: list[RejectedReport] | None = None) -> list[Report]:
    """Every report under content/, sorted by slug; two folders may not claim the same URL."""
    reports: list[Report] = []
    if not content_dir.is_dir():
        problems.error(content_dir, None, "content folder does not exist", "create it, or run `report new <slug>`",
                       code="missing-file")
        return reports
    folders = report_folders(content_dir)
    slugs = {folder.name for folder in folders if re.match(SLUG, folder.name)}
    for folder in folders:
        slug = slugify(folder.name)
        if folder.name not in slugs and slug in slugs:
            where = folder / REPORT_FILE
            problems.error(where, 1 if where.is_file() else None,
                           f"duplicate slug: report folders `{folder.name}` and `{slug}` would both be published "
                           f"at `{slug}/`", "each report needs its own URL: rename or merge one of the folders",
                           code="duplicate-slug")
            continue
        if folder.name in RESERVED_SLUGS:  # the report is still checked: every problem is reported at once
            where = folder / REPORT_FILE
            problems.error(where, 1 if where.is_file() else None,
                           f"reserved slug `{folder.name}`: the report in {problems.relative(folder)}/ would be published "
                           f"at `{folder.name}/`, where the site publishes {RESERVED_SLUGS[folder.name]}",
                           f"rename the report folder (its URL), e.g. to `{folder.name}-report`; "
                           f"{', '.join(f'`{s}`' for s in RESERVED_SLUGS)} are the site's own addresses",
                           code="reserved-slug")
        report = load_report(folder, problems, rejected)
        if report is not None:
            reports.append(report)
    return reports


def check_slug_collisions(reports: list[Report], docs_dir: Path, problems: Problems) -> None:
    """A page in docs/ at a report's URL would be silently replaced by the report, and anything under `docs/<slug>/`
    would be published inside the report's own addresses (`<slug>/v9/` would pass for an archive): name both."""
    for report in reports:
        for candidate in (f"{report.slug}.md", f"{report.slug}.markdown", f"{report.slug}/index.md",
                          f"{report.slug}/README.md"):
            page = docs_dir / candidate
            if page.is_file():
                problems.error(page, 1,
                               f"duplicate slug `{report.slug}`: this page and the report in "
                               f"{problems.relative(report.folder)}/ would both be published at `{report.slug}/`",
                               "rename the page or the report folder", code="duplicate-slug")
        folder = docs_dir / report.slug
        if folder.is_dir() and not folder.is_symlink():
            for path in sorted(p for p in folder.rglob("*") if p.parent != folder or p.name not in ("index.md", "README.md")):
                if path.is_file():
                    problems.error(path, None, f"docs/ may not publish files inside report `{report.slug}`'s "
                                   f"addresses (`{report.slug}/…`): readers would take them for part of the report",
                                   "move the file out of the folder named after the report", code="duplicate-slug")
    check_reserved_docs(docs_dir, problems)


def check_reserved_docs(docs_dir: Path, problems: Problems) -> None:
    """`topics/` is where the site publishes its topic pages: a page of the desk's own there (`docs/topics.md`,
    anything under `docs/topics/`) would be replaced by a generated one, or mixed in with them. Reserved whether or
    not a report names a topic yet, so that the first topic does not break a build that passed the day before."""
    name = RESERVED_DOCS
    for candidate in (f"{name}.md", f"{name}.markdown"):
        page = docs_dir / candidate
        if page.is_file():
            problems.error(page, 1, f"reserved address `{name}/`: this page would be published where the site "
                           "publishes its topic pages", f"rename the page (`{name}/` is reserved for the topic pages, "
                           "even before a report names a topic)", code="reserved-path")
    folder = docs_dir / name
    if folder.is_dir() and not folder.is_symlink():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                problems.error(path, 1 if path.suffix.lower() in (".md", ".markdown") else None,
                               f"reserved address `{name}/`: docs/ may not publish files inside the topic pages' "
                               f"addresses (`{name}/…`), where they would replace or pass for generated pages",
                               f"move the file out of docs/{name}/ (`{name}/` is reserved for the topic pages, even "
                               "before a report names a topic)", code="reserved-path")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of report.yml (published in schema/report.schema.json)."""
    schema = ReportMeta.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "report-generator report.yml"
    return schema


def json_schema_text() -> str:
    """The JSON Schema as the file schema/report.schema.json holds it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_json_schema(path: Path) -> None:
    path.write_text(json_schema_text(), encoding="utf-8")
