"""`report init` starts a desk that builds as it is; `report new` scaffolds a report that passes its own check with
the site's own rating scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.reports.model import json_schema


@pytest.fixture(autouse=True)
def _quiet_mkdocs(monkeypatch):
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


def test_init_then_new_then_check_and_build(tmp_path: Path, capsys, monkeypatch) -> None:
    desk = tmp_path / "my desk"
    assert main(["init", str(desk), "--name", "Desk: Faktencheck “Ü”"]) == 0
    err = capsys.readouterr().err
    assert "mkdocs.yml" in err and "Next:" in err and "report new" in err
    for name in ("mkdocs.yml", ".gitignore", "README.md", "docs/about.md", "bib/sources.bib",
                 "schema/report.schema.json"):
        assert (desk / name).is_file(), name
    assert (desk / "content").is_dir()
    settings = yaml.safe_load((desk / "mkdocs.yml").read_text(encoding="utf-8"))
    assert settings["site_name"] == "Desk: Faktencheck “Ü”" and settings["theme"]["name"] == "material"
    assert json.loads((desk / "schema/report.schema.json").read_text(encoding="utf-8")) == json_schema()
    assert main(["check", str(desk), "--strict"]) == 0  # an empty desk is a valid desk

    monkeypatch.chdir(desk)
    assert main(["new", "first-report", "--question", 'Is "X" true?']) == 0
    err = capsys.readouterr().err
    assert "created content/first-report/" in err and "Next:" in err
    report = (desk / "content/first-report/report.yml").read_text(encoding="utf-8")
    assert report.startswith("# yaml-language-server: $schema=../../schema/report.schema.json\n")
    assert "[@key]" not in report.replace("cite sources as [@key]", "")  # no placeholder citation to trip the check
    assert yaml.safe_load(report)["question"] == 'Is "X" true?'
    for name in ("summary.md", "methods.md", "evidence.md"):
        assert "TODO" in (desk / "content/first-report" / name).read_text(encoding="utf-8")
    assert main(["check", ".", "--strict"]) == 0, capsys.readouterr()
    assert main(["build", ".", "--no-pdf"]) == 0
    page = (desk / "site/first-report/index.html").read_text(encoding="utf-8")
    assert "Is &#34;X&#34; true?" in page or "Is &quot;X&quot; true?" in page
    assert 'class="md-header' in page  # the Material theme, as configured
    assert (desk / "site/index.html").is_file()


def test_init_never_overwrites(tmp_path: Path, capsys) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: Mine\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/about.md").write_text("# Ours\n", encoding="utf-8")
    assert main(["init", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "kept as they were: mkdocs.yml, docs/about.md" in err
    assert (tmp_path / "mkdocs.yml").read_text(encoding="utf-8") == "site_name: Mine\n"
    assert (tmp_path / "docs/about.md").read_text(encoding="utf-8") == "# Ours\n"
    assert (tmp_path / "bib/sources.bib").is_file()
    assert main(["init", str(tmp_path)]) == 0
    assert "nothing written" in capsys.readouterr().err


def test_new_uses_the_sites_own_rating_scale(make_project, capsys) -> None:
    root = make_project(**{"content/example/report.yml": None, "content/example/summary.md": None,
                           "content/example/evidence.md": None, "mkdocs.yml": """\
site_name: Test reports
docs_dir: docs
theme: {name: material, font: false}
plugins:
  - search
  - report:
      pdf: false
      ratings:
        - {id: correct, label: Correct, description: "Supported by the evidence."}
        - {id: wrong, label: Wrong, description: "Contradicted by the evidence."}
"""})
    assert main(["new", "second", "--path", str(root)]) == 0
    report = yaml.safe_load((root / "content/second/report.yml").read_text(encoding="utf-8"))
    assert report["verdict"]["rating"] == "correct"
    capsys.readouterr()
    assert main(["check", str(root)]) == 0, capsys.readouterr().out


def test_a_misspelt_plugin_setting_names_its_line_and_the_setting_meant(make_project, capsys) -> None:
    from .conftest import MINIMAL_MKDOCS

    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS.replace("pdf: false", "pdf: false\n      csl-style: apa\n"
                                                                "      page_sise: A4")})
    assert main(["check", str(root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "mkdocs.yml:12: error: unknown report plugin setting `csl-style`", "  hint: did you mean `csl_style`?",
        "mkdocs.yml:13: error: unknown report plugin setting `page_sise`", "  hint: did you mean `page_size`?"]


def test_the_published_site_can_be_read_by_a_web_server(make_project) -> None:
    import os
    import stat

    root = make_project()
    old = os.umask(0o022)
    try:
        assert main(["build", str(root), "--no-pdf"]) == 0
    finally:
        os.umask(old)
    for folder in (root / "site", root / "site" / "example"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


def test_a_desk_may_publish_more_fields_but_never_a_private_one(make_project) -> None:
    from generator.build import Project
    from generator.publish.site import build_site

    from .conftest import MINIMAL_BIB, MINIMAL_MKDOCS

    bib = MINIMAL_BIB.replace("  kind = {news},\n", "  kind = {news},\n  eventnote = {Press conference},\n"
                              "  annotation = {Call the press office},\n")
    mkdocs = MINIMAL_MKDOCS.replace("pdf: false", "pdf: false\n      published_fields: [eventnote, annotation]")
    site = build_site(Project(root=make_project(**{"bib/sources.bib": bib, "mkdocs.yml": mkdocs})))
    download = site.files["example/sources.bib"].decode()
    assert "eventnote = {Press conference}" in download and "Call the press office" not in download


def test_building_without_site_url_says_what_readers_lose(make_project, capsys) -> None:
    from .conftest import MINIMAL_MKDOCS

    root = make_project()
    assert main(["build", str(root), "--no-pdf"]) == 0
    assert "warning: site_url is not set, so link previews" in capsys.readouterr().err
    root.joinpath("mkdocs.yml").write_text(MINIMAL_MKDOCS.replace("docs_dir: docs", "site_url: https://example.org/\n"
                                                                  "docs_dir: docs"), encoding="utf-8")
    assert main(["build", str(root), "--no-pdf"]) == 0
    assert "site_url is not set" not in capsys.readouterr().err


def test_serve_on_a_busy_port_says_so_in_one_line(make_project, capsys) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(make_project()), "--dev-addr", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"report: cannot serve on 127.0.0.1:{port}: the port is already in use; choose another with "
                   "--dev-addr, e.g. --dev-addr 127.0.0.1:8001")


def test_init_with_the_example_report_passes_its_check(tmp_path: Path, capsys) -> None:
    from .conftest import REPO

    assert main(["init", str(tmp_path / "desk"), "--example"]) == 0
    desk = tmp_path / "desk"
    for path in (REPO / "content/enteromix").iterdir():
        assert (desk / "content/enteromix" / path.name).read_bytes() == path.read_bytes()
    assert (desk / "bib/enteromix.bib").read_bytes() == (REPO / "bib/enteromix.bib").read_bytes()
    capsys.readouterr()
    assert main(["check", str(desk), "--strict"]) == 0
    assert "1 report(s), 16 source(s): 0 error(s), 0 warning(s)" in capsys.readouterr().err
