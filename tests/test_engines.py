"""Both engines publish the same site: the example project and a three-version fixture are built with MkDocs and
with Zensical, and the report-level facts (citations, reference ids, tables of contents, archives, changes pages,
feed entries, PDFs, downloads, search) must be the same on both."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main

from .conftest import MINIMAL_MKDOCS, write_tree
from .gitrepo import make_history_repo

pytest.importorskip("zensical")

ENGINES = ("mkdocs", "zensical")


class Facts(HTMLParser):
    """What a reader of one report page can rely on, whatever the theme around it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.citations: list[tuple[str, str]] = []  # (href, number) of every citation link
        self.references: list[str] = []  # ids of the reference list entries, in order
        self.toc: list[str] = []  # hrefs in the theme's "On this page" navigation
        self._in_cite = 0
        self._cite_href: str | None = None
        self._in_toc = False
        self._nav_depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
            if str(a["id"]).startswith("ref-") and tag == "li":
                self.references.append(str(a["id"]))
        classes = str(a.get("class") or "").split()
        if tag == "span" and "rg-cite" in classes:
            self._in_cite += 1
        if tag == "nav":
            self._nav_depth += 1
            if "md-nav--secondary" in classes:
                self._in_toc = True
        if tag == "a" and self._in_toc and "md-nav__link" in classes:
            self.toc.append(str(a.get("href")))
        if tag == "a" and self._in_cite and str(a.get("href", "")).startswith("#ref-"):
            self._cite_href = str(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._nav_depth -= 1
            if self._in_toc:
                self._in_toc = False
        if tag == "a":
            self._cite_href = None

    def handle_data(self, data: str) -> None:
        if self._cite_href is not None:
            self.citations.append((self._cite_href, data.strip()))
        self.text.append(data)


def page_facts(path: Path) -> Facts:
    facts = Facts()
    facts.feed(path.read_text(encoding="utf-8"))
    return facts


def site_facts(site: Path) -> dict[str, Any]:
    """The engine-independent facts of a built site."""
    facts: dict[str, Any] = {}
    for page in sorted(site.rglob("index.html")):
        relative = page.relative_to(site).as_posix()
        if relative.startswith(("assets/", "search/")):
            continue
        parsed = page_facts(page)
        facts[relative] = {"citations": parsed.citations, "references": parsed.references,
                           "toc": [href for href in parsed.toc if href.startswith("#")],
                           "redirect": "http-equiv=\"refresh\"" in page.read_text(encoding="utf-8")}
    feed = ET.fromstring((site / "feed.xml").read_bytes())  # noqa: S314 - our own output
    ns = {"a": "http://www.w3.org/2005/Atom"}
    facts["feed"] = [(e.findtext("a:id", namespaces=ns), e.find("a:link", ns).get("href"))  # type: ignore[union-attr]
                     for e in feed.findall("a:entry", ns)]
    facts["downloads"] = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                                if p.suffix in (".pdf", ".bib", ".json") and not p.name.startswith("search"))
    return facts


@pytest.fixture(scope="module")
def history_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three-version fixture project (with a page of the desk's own), built by each engine."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    sites = {}
    try:
        source = tmp_path_factory.mktemp("engines") / "project"
        make_history_repo(source, MINIMAL_MKDOCS.replace("pdf: false", "pdf: true")
                          + "markdown_extensions:\n  - toc:\n      permalink: true\n")
        write_tree(source, {"docs/about.md": "# About us\n\nWe check claims [and cite](https://example.org).\n"})
        for engine in ENGINES:
            root = source.parent / engine
            subprocess.run(["git", "clone", "-q", str(source), str(root)], check=True)
            shutil.copy(source / "docs/about.md", root / "docs/about.md")
            assert main(["build", str(root), "--engine", engine]) == 0
            sites[engine] = root / "site"
    finally:
        monkeypatch.undo()
    return sites


def test_both_engines_publish_the_same_report_facts(history_sites: dict[str, Path]) -> None:
    mkdocs, zensical = (site_facts(history_sites[e]) for e in ENGINES)
    assert mkdocs == zensical
    assert {"example/index.html", "example/v1/index.html", "example/v2/index.html", "example/v2/changes/index.html",
            "example/v3/changes/index.html", "about/index.html", "index.html"} <= set(zensical)
    report = zensical["example/index.html"]
    assert report["citations"] and report["references"] and report["toc"]
    assert "example/example.pdf" in zensical["downloads"] and len(zensical["feed"]) == 3
    assert zensical["example/v3/index.html"]["redirect"]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_citation_resolves_and_the_toc_points_at_headings(history_sites: dict[str, Path], engine: str) -> None:
    for relative in ("example/index.html", "example/v1/index.html"):
        page = page_facts(history_sites[engine] / relative)
        assert page.citations, relative
        assert all(href[1:] in page.ids for href, _number in page.citations), relative
        assert all(re.fullmatch(r"\d+(, .+)?", number) for _href, number in page.citations)  # a locator after the number
        assert page.toc and all(href[1:] in page.ids for href in page.toc if href.startswith("#"))


def test_zensical_search_finds_report_text_and_skips_archives(history_sites: dict[str, Path]) -> None:
    index = json.loads((history_sites["zensical"] / "search.json").read_text(encoding="utf-8"))
    items = index.get("items") or index.get("docs") or []
    text = json.dumps(items)
    assert "Alpha claims a result in mice" in text
    locations = {str(item.get("location") or item.get("url") or "") for item in items}
    assert not any("/v1/" in location for location in locations)


def test_the_desks_own_page_is_published_by_both(history_sites: dict[str, Path]) -> None:
    for engine in ENGINES:
        page = (history_sites[engine] / "about/index.html").read_text(encoding="utf-8")
        assert "We check claims" in page and 'href="https://example.org"' in page


def test_plain_zensical_build_on_a_report_site_says_what_to_run(tmp_path: Path) -> None:
    """Zensical runs no third-party plugin: the project's zensical.toml stops a plain build with a clear message
    instead of an empty site."""
    from .conftest import REPO

    for name in ("mkdocs.yml", "zensical.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    done = subprocess.run(["zensical", "build"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "build it with `report build --engine zensical`" in done.stdout + done.stderr
    assert not (tmp_path / "site").exists()


def test_the_engine_setting_chooses_zensical(make_project, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      engine: zensical\n"})
    assert main(["build", str(root)]) == 0
    assert "site built with Zensical" in capsys.readouterr().err
    assert (root / "site/example/index.html").is_file() and (root / "site/search.json").is_file()


def test_zensical_build_stops_on_content_errors_and_keeps_the_old_site(make_project, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project()
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 0
    before = (root / "site/example/index.html").read_bytes()
    write_tree(root, {"content/example/summary.md": "Broken [@nope].\n"})
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert "content/example/summary.md:1: error: unknown citation key `nope`" in err
    assert (root / "site/example/index.html").read_bytes() == before


def test_the_example_report_is_the_same_on_both_engines(example_copy: Path, monkeypatch) -> None:
    """The Enteromix report, complete: every citation number, reference id and table-of-contents entry."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    facts = {}
    for engine in ENGINES:
        assert main(["build", str(example_copy), "--engine", engine, "--no-pdf"]) == 0
        facts[engine] = site_facts(example_copy / "site")
    assert facts["mkdocs"] == facts["zensical"]
    [slug] = [p.name for p in (example_copy / "content").iterdir() if (p / "report.yml").is_file()]
    report = facts["zensical"][f"{slug}/index.html"]
    assert len(report["references"]) >= 10 and len(report["toc"]) >= 10
    assert len({href for href, _ in report["citations"]}) == len(report["references"])
