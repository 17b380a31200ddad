"""End-to-end: `report build` / `report check` on small fixture projects and on the example project."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.cli import main

from .conftest import MINIMAL_BIB, REPO


class _Page(HTMLParser):
    """Collects element ids and citation hrefs of a built page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.cite_hrefs: list[str] = []
        self.references: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("class") == "rg-cite-ref":
            self.cite_hrefs.append(attrs["href"])
        if tag == "li" and attrs.get("class") == "rg-ref":
            self.references.append(attrs["id"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(autouse=True)
def _quiet_mkdocs(monkeypatch):
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


def test_minimal_project_builds(make_project, capsys) -> None:
    root = make_project()
    assert main(["build", str(root)]) == 0
    page = _parse(root / "site" / "example" / "index.html")
    assert page.cite_hrefs and all(h[1:] in page.ids for h in page.cite_hrefs)
    assert page.references == ["ref-alpha2025", "ref-gamma2025", "ref-beta2024"]
    home = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="example/"' in home and "Does the example hold up?" in home
    assert (root / "site" / "example" / "sources.bib").read_text(encoding="utf-8").count("@") == 3
    assert (root / "site" / "assets" / "report" / "report.css").exists()


def test_bib_error_fixture_reports_file_and_line(make_project, capsys) -> None:
    broken = MINIMAL_BIB + "\n@online{delta2025,\n  title = {Unclosed,\n  url = {https://example.org/d},\n"
    root = make_project(**{"bib/sources.bib": broken})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "bib/sources.bib:36: error: malformed BibTeX: unclosed `{` in field `title` of `delta2025`"
    assert out.splitlines()[1] == "  hint: add the missing `}`: every `{` in a value needs a matching `}`"


def test_unknown_key_fixture_names_the_line_and_suggests(make_project, capsys) -> None:
    root = make_project(**{"content/example/evidence.md": "Intro.\n\nThe study [@beta2042] says so.\n"})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        "content/example/evidence.md:3: error: unknown citation key `beta2042`",
        "  hint: did you mean `beta2024`?",
    ]
    site = root / "site"
    assert main(["build", str(root)]) == 1
    assert not site.exists()


def test_every_citation_on_the_example_page_resolves(example_copy, capsys) -> None:
    text = (example_copy / "mkdocs.yml").read_text(encoding="utf-8")
    (example_copy / "mkdocs.yml").write_text(text.replace("      page_size: A4", "      page_size: A4\n      pdf: false"))
    assert main(["build", str(example_copy)]) == 0
    page = _parse(example_copy / "site" / "enteromix" / "index.html")
    assert len(page.references) >= 12
    unresolved = [h for h in page.cite_hrefs if h[1:] not in page.references]
    assert unresolved == []


def test_check_passes_on_the_example(capsys) -> None:
    assert main(["check", str(REPO)]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().err


def test_core_does_not_import_mkdocs() -> None:
    """SPEC §9: only generator.adapters.mkdocs_plugin and generator.cli may touch MkDocs."""
    code = (
        "import sys, generator.build, generator.publish.site, generator.render.report, generator.sources.bib,"
        " generator.reports.model, generator.sources.references;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mkdocs'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_a_schema_error_does_not_hide_other_problems(make_project, capsys) -> None:
    """One impossible date used to stop every other check of the report; now all are reported at once."""
    from .conftest import MINIMAL_REPORT

    report = (MINIMAL_REPORT.replace("first_appeared: {date: 2025-06-01", "first_appeared: {date: 2025-06-31")
              .replace("rating: misleading", "rating: misleadng")
              .replace("Only a press release [@alpha2025].", "Only a press release [@alpha2052]."))
    root = make_project(**{"content/example/report.yml": report,
                           "content/example/evidence.md": "The study [@beta2042].\n"})
    assert main(["check", str(root)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("  hint")]
    assert lines == [
        "content/example/evidence.md:1: error: unknown citation key `beta2042`",
        "content/example/report.yml:16: error: `claims.0.first_appeared.date`: `2025-06-31` is not a valid date "
        "(day value is outside expected range)",
        "content/example/report.yml:17: error: unknown rating `misleadng`",
        "content/example/report.yml:19: error: unknown citation key `alpha2052`",
    ]


def test_built_report_page_has_its_toc_and_search_sees_text_not_citation_numbers(make_project) -> None:
    """The core hands MkDocs finished HTML: the theme still gets the table of contents (with the permalinks the
    user's `toc` settings ask for), and the search index gets the text without `[1]` or `Cited at ↩1`."""
    import json

    root = make_project()
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "markdown_extensions:\n  - toc:\n      permalink: true\n",
                      encoding="utf-8")
    assert main(["build", "--no-pdf", str(root)]) == 0
    html = (root / "site" / "example" / "index.html").read_text(encoding="utf-8")
    assert '<a class="headerlink" href="#references" title="Permanent link">&para;</a>' in html
    toc = html[html.index('<nav class="md-nav md-nav--secondary"'):]
    toc = toc[:toc.index("</nav>")]
    for anchor in ("summary", "s1-evidence", "bottom-line", "source-mix", "references", "revision-history"):
        assert f'href="#{anchor}"' in toc
    assert "<title>Example - " in html and 'class="rg-cite"' in html and "Cited at" in html
    index = json.loads((root / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = {d["location"]: d["text"] for d in index["docs"]}
    assert "Alpha claims a result; see also." in docs["example/#summary"]
    references = docs["example/#references"]
    assert "A DNA study of élève outcomes" in references and "Cited at" not in references and "↩" not in references
    assert not any(d.startswith("example/v1/") for d in docs)  # the latest version's address is a redirect


def test_plugin_options_are_generated_from_site_config() -> None:
    """One schema: every SiteConfig setting (except MkDocs' own site_name, site_url, docs_dir) is a plugin option."""
    from generator.adapters.mkdocs_plugin import ReportPluginConfig
    from generator.config import SiteConfig

    options = {name for name, _ in ReportPluginConfig._schema}
    assert options == set(SiteConfig.model_fields) - {"site_name", "site_url", "docs_dir"}
    assert "engine" in options


def test_an_unknown_engine_setting_is_a_located_error(make_project, capsys) -> None:
    from .conftest import MINIMAL_MKDOCS

    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      engine: hugo\n"})
    assert main(["check", str(root)]) == 1
    assert "mkdocs.yml:12: error: report plugin setting `engine`: Input should be 'mkdocs' or 'zensical'" \
        in capsys.readouterr().out
