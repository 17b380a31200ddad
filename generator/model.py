"""The content model (Report, Section, Claim, Narrative, Revision), loaded from `content/<slug>/` with line numbers."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problems

SECTION_KINDS = ("summary", "claims", "evidence", "assessment", "gaps", "narratives", "bottom-line", "free")
REVISION_KINDS = ("update", "correction", "editorial")
SLUG = r"^[a-z0-9][a-z0-9-]*$"
REPORT_FILE = "report.yml"


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
    date: dt.date | None = None
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
    version: int = Field(ge=1)
    date: dt.date
    kind: Literal[REVISION_KINDS] = "update"  # type: ignore[valid-type]
    note: str = Field(min_length=1, description="What changed and why; for a correction, what was wrong.")


class ReportMeta(_Model):
    """Everything in report.yml; published as JSON Schema for editors."""

    question: str = Field(min_length=1, description="The question the report answers; its title.")
    short_title: str = ""
    description: str = ""
    authors: list[Author] = Field(min_length=1)
    checked_on: dt.date
    language: str = ""
    keywords: list[str] = Field(default_factory=list)
    verdict: Verdict
    sections: list[Section] = Field(min_length=1)
    claims: list[Claim] = Field(default_factory=list)
    narratives: list[Narrative] = Field(default_factory=list)
    bottom_line: BottomLine
    follow_up: list[str] = Field(default_factory=list)
    disclaimer: str = ""
    revisions: list[Revision] = Field(min_length=1)


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
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

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


def _node_lines(node: yaml.Node, loc: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*loc, key)] = key_node.start_mark.line + 1
            _node_lines(value_node, (*loc, key), out)
            out[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*loc, index), out)


def _pydantic_message(error: dict[str, Any]) -> tuple[str, str]:
    loc = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown field `{loc}`", "remove it or check its spelling against the schema"
    if kind == "missing":
        return f"missing required field `{loc}`", "add it to report.yml"
    if kind == "literal_error":
        return f"`{loc}`: {error['msg'].lower()}, not `{error.get('input')}`", ""
    if kind.startswith("date"):
        return f"`{loc}`: `{error.get('input')}` is not a valid date ({error['msg'].split(',')[-1].strip()})", \
            "write dates as YYYY-MM-DD"
    return f"`{loc}`: {error['msg']}", ""


def load_report(folder: Path, problems: Problems) -> Report | None:
    """Load one report folder; every schema problem is reported with its line."""
    path = folder / REPORT_FILE
    slug = folder.name
    if not re.match(SLUG, slug):
        problems.error(folder, None, f"report folder name `{slug}` is not a valid slug",
                       "use lowercase letters, digits and hyphens, e.g. `enteromix-2026`", code="bad-slug")
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.error(path, None, "report folder has no report.yml", "run `report new <slug>` to scaffold one",
                       code="missing-file")
        return None
    except UnicodeDecodeError:
        problems.error(path, None, "report.yml is not UTF-8 text", "save it as UTF-8", code="yaml")
        return None
    try:
        node = yaml.compose(text, Loader=_StringDateLoader)
        data = yaml.load(text, Loader=_StringDateLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        problems.error(path, mark.line + 1 if mark else None, f"invalid YAML: {problem}",
                       "check indentation and quote values that contain `:` or `#`", code="yaml")
        return None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _node_lines(node, (), lines)
    if not isinstance(data, dict):
        problems.error(path, 1, "report.yml must be a mapping of fields", "start from `report new <slug>`",
                       code="schema")
        return None
    data.pop("$schema", None)
    try:
        meta = ReportMeta.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            message, hint = _pydantic_message(error)
            loc = tuple(error["loc"])
            line = None
            while line is None:
                line = lines.get(loc)
                if not loc:
                    break
                loc = loc[:-1]
            problems.error(path, line, message, hint, code="schema")
        return None
    report = Report(slug=slug, folder=folder, meta=meta, lines=lines)
    for index, section in enumerate(meta.sections):
        section_path = folder / section.file
        try:
            report.prose[section.file] = section_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.error(path, report.line_of("sections", index, "file"),
                           f"section file `{section.file}` does not exist", f"create {slug}/{section.file}",
                           code="missing-file")
            report.prose[section.file] = ""
            continue
        if not report.prose[section.file].strip():
            problems.error(section_path, 1, f"section file `{section.file}` is empty",
                           "write the section or remove it from `sections`", code="empty-section")
    return report


def load_reports(content_dir: Path, problems: Problems) -> list[Report]:
    """Every report under content/, sorted by slug."""
    reports = []
    if not content_dir.is_dir():
        problems.error(content_dir, None, "content folder does not exist", "create it, or run `report new <slug>`",
                       code="missing-file")
        return reports
    for folder in sorted(p for p in content_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        report = load_report(folder, problems)
        if report is not None:
            reports.append(report)
    return reports


def json_schema() -> dict[str, Any]:
    """The JSON Schema of report.yml (published in schema/report.schema.json)."""
    schema = ReportMeta.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "report-generator report.yml"
    return schema


def write_json_schema(path: Path) -> None:
    path.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
