"""Source lists as reference managers export them (Zotero with Better BibTeX, JabRef, Mendeley) load as they are:
kinds from `kind:` tags, BibTeX months, TeX quotes; and nothing private they carry reaches the site."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main

from .conftest import FIXTURES, MINIMAL_MKDOCS, pdf_text

EXPORTS = FIXTURES / "reference_managers"
KINDS = {"taylorVaccinesAreNot2014": "review", "whoMeaslesFactSheet2024": "official", "Smith2023": "peer-reviewed",
         "Agency2025": "official", "Doe2022": "preprint"}
PRIVATE = ("ZOTERO-ABSTRACT", "ZOTERO-NOTE", "/Users/desk", "Zotero/storage", "JABREF-COMMENT", "desk-researcher",
           "prio1", "MENDELEY-", "home/desk", "Mendeley/Doe2022.pdf")  # values only the private fields hold


@pytest.fixture(autouse=True)
def _quiet_mkdocs(monkeypatch):
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


@pytest.fixture
def desk(make_project) -> Path:
    evidence = "".join(f"Source [@{key}].\n\n" for key in KINDS)
    root = make_project(**{"bib/sources.bib": None, "content/example/evidence.md": evidence,
                           "content/example/summary.md": "See the sources [@Smith2023].\n",
                           "mkdocs.yml": MINIMAL_MKDOCS.replace("pdf: false", "pdf: true")})
    report = root / "content/example/report.yml"
    text = report.read_text(encoding="utf-8")
    for old in ("[@alpha2025]", "[@beta2024]"):
        text = text.replace(old, "[@Agency2025]")
    report.write_text(text.replace("[alpha2025, gamma2025]", "[Agency2025]").replace("source: alpha2025",
                                                                                    "source: Agency2025"),
                      encoding="utf-8")
    for export in EXPORTS.iterdir():
        (root / "bib").mkdir(exist_ok=True)
        (root / "bib" / export.name).write_bytes(export.read_bytes())
    return root


def test_exports_load_with_their_kinds_months_and_quotes(desk: Path) -> None:
    result = build_project(Project(root=desk))
    assert result.ok, [p.format() for p in result.problems.errors]
    assert {key: result.bib.sources[key].kind for key in KINDS} == KINDS
    assert not [p for p in result.problems.warnings if p.code != "unused-source"]
    references = {e.source.key: e for e in result.rendered[0].references}
    assert "Jul. 2023" in references["Smith2023"].formatted.text  # `month = jul`, a BibTeX macro
    # TeX quotes: typographic, and alternating inside the title's own quotes as the style asks
    assert "“Measles: ‘Key facts’ and ‘questions’.”" in references["whoMeaslesFactSheet2024"].formatted.text


def test_nothing_private_in_an_export_reaches_the_site(desk: Path) -> None:
    assert main(["build", str(desk)]) == 0
    site = desk / "site"
    checked = 0
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".bib", ".json", ".xml", ".txt"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for marker in PRIVATE:
                assert marker not in text, (path.relative_to(site), marker)
            checked += 1
    assert checked > 5 and (site / "example/sources.bib").is_file()
    pdf = pdf_text((site / "example/example.pdf").read_bytes())
    assert "A trial of examples" in pdf and not any(marker in pdf for marker in PRIVATE)


def test_a_missing_kind_is_an_error_with_a_hint_from_the_entry(desk: Path, capsys) -> None:
    bib = desk / "bib/zotero_bbt.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("keywords = {autism,kind:review,vaccines},",
                                                          "keywords = {autism,vaccines},"), encoding="utf-8")
    assert main(["check", str(desk)]) == 1
    out = capsys.readouterr().out
    assert ("bib/zotero_bbt.bib:1: error: `taylorVaccinesAreNot2014` has no `kind`: the source mix would count it "
            "as `other`") in out
    assert "add `kind = {peer-reviewed}` if that is what it is, or tag it `kind:peer-reviewed`" in out
