"""The shape of a report is written once (model.CITED_TEXT_FIELDS, model.SOURCE_KEY_FIELDS). Everything that
walks a report by hand instead — the page, the "what changed" diff — must cover every field those tables name:
a text field the page forgot would vanish, one the diff forgot would hide edits from reviewers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.build import Project, build_project
from generator.history.diff import changes_page, compare_reports
from generator.reports.model import CITED_TEXT_FIELDS, SOURCE_KEY_FIELDS, cited_texts, source_keys, walk_fields

from .conftest import MINIMAL_REPORT


def _full_report() -> dict[str, Any]:
    """The minimal report with every optional part present (a narrative, two follow-up questions)."""
    data = yaml.safe_load(MINIMAL_REPORT)
    data["sections"].append({"kind": "narratives", "title": "Narratives", "file": "evidence.md"})
    data["narratives"] = [{"title": "A story", "summary": "It is told [@beta2024].", "sources": ["beta2024"]}]
    data["follow_up"].append("And then?")
    return data


def _set(data: Any, loc: tuple[Any, ...], value: str) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


def _marked(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
    """Every cited text field gets its own marker word; returns the data and marker → location."""
    markers = {}
    for n, (loc, text) in enumerate(list(cited_texts(data))):
        marker = f"Marker{n}word"
        _set(data, loc, f"{text.rstrip('.')} {marker}.")
        markers[marker] = loc
    return data, markers


def _build(make_project, data: dict[str, Any]):  # noqa: ANN202 - test helper
    root = make_project(**{"content/example/report.yml": yaml.safe_dump(data, sort_keys=False, allow_unicode=True)})
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    return result


def test_every_pattern_of_the_tables_finds_a_field_in_a_full_report() -> None:
    data = _full_report()
    for pattern in (*CITED_TEXT_FIELDS, *SOURCE_KEY_FIELDS):
        assert list(walk_fields(data, pattern)), pattern
    assert {key for _, key in source_keys(data)} == {"alpha2025", "gamma2025", "beta2024"}


def test_the_page_shows_every_cited_text_field(make_project) -> None:
    data, markers = _marked(_full_report())
    result = _build(make_project, data)
    body = result.renderer.page(result.rendered[0]).html
    missing = [loc for marker, loc in markers.items() if marker not in body]
    assert missing == []


@pytest.mark.parametrize("index", range(len(list(cited_texts(_full_report())))))
def test_the_diff_sees_an_edit_to_every_cited_text_field(make_project, tmp_path: Path, index: int) -> None:
    data, markers = _marked(_full_report())
    old = _build(make_project, data)
    marker, loc = list(markers.items())[index]
    edited, _ = _marked(_full_report())
    _set(edited, loc, str(_get(edited, loc)).replace(marker, "Edited"))
    new = _build(make_project, edited)
    diff = compare_reports(old.rendered[0], new.rendered[0])
    page = changes_page(new.renderer, diff, {"old": "../../v1/", "new": "../", "report": "../../"}, True).html
    assert "Edited" in page and marker in page, loc  # the reader sees what was replaced, and by what


def _get(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data
