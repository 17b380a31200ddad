"""Content stage: report.yml schema, line numbers for problems, the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

from generator.errors import Problems
from generator.reports.model import json_schema, load_report

from .conftest import MINIMAL_REPORT, REPO, write_tree


def _load(tmp_path: Path, report_yml: str, **files: str):
    folder = tmp_path / "content" / "example"
    write_tree(folder, {"report.yml": report_yml, "summary.md": "S.\n", "evidence.md": "E.\n", **files})
    problems = Problems(root=tmp_path)
    return load_report(folder, problems), problems


def test_minimal_report_loads(tmp_path: Path) -> None:
    report, problems = _load(tmp_path, MINIMAL_REPORT)
    assert not problems and report is not None
    assert report.slug == "example" and report.version == 1
    assert report.meta.claims[0].first_appeared.source == "alpha2025"
    assert report.prose["summary.md"] == "S.\n"
    assert report.line_of("claims", 0, "rating") == 17


def test_schema_problems_carry_lines(tmp_path: Path) -> None:
    text = MINIMAL_REPORT.replace("  rating: unproven\n", "  rating: unproven\n  colour: red\n")
    text = text.replace("checked_on: 2026-01-27", "checked_on: 2026-02-30")
    report, problems = _load(tmp_path, text)
    assert report is None
    assert [p.format().splitlines()[0] for p in problems.sorted()] == [
        "content/example/report.yml:5: error: `checked_on`: `2026-02-30` is not a valid date "
        "(day value is outside expected range)",
        "content/example/report.yml:8: error: unknown field `verdict.colour`",
    ]


def test_unknown_section_kind(tmp_path: Path) -> None:
    report, problems = _load(tmp_path, MINIMAL_REPORT.replace("kind: evidence", "kind: evidense"))
    [problem] = problems.items
    assert problem.line == 11
    assert "sections.1.kind" in problem.message and "evidense" in problem.message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    report, problems = _load(tmp_path, MINIMAL_REPORT.replace('short_title: "Example"', 'short_title: "Example'))
    [problem] = problems.items
    assert problem.message.startswith("invalid YAML") and problem.line is not None


def test_empty_section_file(tmp_path: Path) -> None:
    report, problems = _load(tmp_path, MINIMAL_REPORT, **{"evidence.md": "  \n"})
    assert [p.format().splitlines()[0] for p in problems.items] == [
        "content/example/evidence.md:1: error: section file `evidence.md` is empty"
    ]


def test_published_json_schema_is_current() -> None:
    """schema/report.schema.json is generated from the model; regenerate with the command in the README."""
    published = json.loads((REPO / "schema" / "report.schema.json").read_text(encoding="utf-8"))
    assert published == json_schema()
    example = (REPO / "content" / "enteromix" / "report.yml").read_text(encoding="utf-8")
    assert example.startswith("# yaml-language-server: $schema=../../schema/report.schema.json")
