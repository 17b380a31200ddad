"""Nothing from content runs: no YAML tag from content (report.yml, today's or an old commit's) is ever constructed,
and mkdocs.yml — which MkDocs loads with PyYAML's unsafe loader — is refused before MkDocs reads it when it holds a
tag that constructs or calls objects. The proof is a marker file that a tag would create."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from generator.errors import Problems
from generator.history.versions import read_stamp
from generator.reports.model import parse_report

from .conftest import MINIMAL_MKDOCS, MINIMAL_REPORT


def _touch(marker: Path) -> str:
    return f'!!python/object/apply:os.system ["touch {marker}"]'


@pytest.mark.parametrize("tag", [
    pytest.param("{touch}", id="object-apply"),
    pytest.param('!!python/object/new:subprocess.Popen [["touch", "{marker}"]]', id="object-new"),
    pytest.param("!!python/name:os.system", id="name"),
    pytest.param("!!binary aGVsbG8=", id="binary"),
    pytest.param("!!set {{a, b}}", id="set"),
    pytest.param("!custom value", id="local-tag"),
])
def test_a_tag_in_report_yml_is_an_error_and_nothing_is_constructed(tmp_path, tag: str) -> None:
    marker = tmp_path / "MARKER"
    value = tag.format(touch=_touch(marker), marker=marker)
    text = MINIMAL_REPORT.replace('short_title: "Example"', f"short_title: {value}")
    problems = Problems(root=tmp_path)
    assert parse_report(text, tmp_path / "content" / "example", problems) is None
    [problem] = problems.errors
    shown = value.split(" ")[0]
    assert problem.line == 2 and problem.message == f"invalid YAML: the YAML tag `{shown}` is not allowed", problem
    assert not marker.exists()


def test_a_tag_hidden_behind_an_alias_or_deep_inside_is_found(tmp_path) -> None:
    marker = tmp_path / "MARKER"
    text = MINIMAL_REPORT.replace('follow_up:\n  - "When will data appear?"',
                                  f"follow_up:\n  - [[[[{_touch(marker)}]]]]")
    problems = Problems(root=tmp_path)
    assert parse_report(text, tmp_path / "content" / "example", problems) is None
    assert [p.message for p in problems.errors] == ["invalid YAML: the YAML tag `!!python/object/apply:os.system` "
                                                    "is not allowed"]
    assert not marker.exists()


def test_an_old_commits_report_yml_is_read_as_data_only(tmp_path) -> None:
    marker = tmp_path / "MARKER"
    text = MINIMAL_REPORT.replace('short_title: "Example"', f"short_title: {_touch(marker)}")
    assert read_stamp(text) is None
    assert not marker.exists()


@pytest.mark.parametrize("command", ["build", "check", "serve"])
def test_mkdocs_yml_that_would_run_code_is_refused_before_mkdocs_reads_it(make_project, tmp_path, capsys,
                                                                         monkeypatch, command: str) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    marker = tmp_path / "MARKER"
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + f"extra:\n  x: {_touch(marker)}\n"})
    assert main([command, str(root)]) == 1
    out = capsys.readouterr()
    assert command == "check" or "the site engine was not started" in out.err
    assert ("mkdocs.yml:13: error: the YAML tag `!!python/object/apply:os.system` is not allowed: it would run code "
            "when MkDocs reads this file") in out.out + out.err
    assert not marker.exists()


def test_an_inherited_file_is_checked_too(make_project, tmp_path, capsys) -> None:
    marker = tmp_path / "MARKER"
    root = make_project(**{"mkdocs.yml": "INHERIT: base.yml\n" + MINIMAL_MKDOCS,
                           "base.yml": f"extra:\n  x: {_touch(marker)}\n"})
    assert main(["check", str(root)]) == 1
    assert "base.yml:2: error: the YAML tag `!!python/object/apply:os.system` is not allowed" in capsys.readouterr().out
    assert not marker.exists()


def test_materials_documented_python_name_tags_still_build(make_project, monkeypatch) -> None:
    """`!!python/name:` names a function (Material's emoji and superfences settings use it); it calls nothing."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + """\
markdown_extensions:
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
"""})
    assert main(["build", str(root), "--no-pdf"]) == 0
