"""Every page kind is escaped like the report page: report, archive (an earlier version), redirect (the latest
version's address), changes, home, a desk's own docs page and 404 — titles, descriptions, meta tags and bodies.
Content ids never collide with the theme's (`__config`) or the report's own (`ref-…`), and the search index, feed
and sitemap stay well-formed and inert."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.cli import main
from generator.sanitize import clean_page, clean_prose

from .conftest import MINIMAL_REPORT, minimal_files, write_tree
from .gitrepo import DATES, commit, git
from .test_hostile import P, scan, theme_script, yq

TITLE = "T</title><script>alert('title')</script><img src=x onerror=alert(1)>\"'"


def _report(version: int) -> str:
    text = (MINIMAL_REPORT
            .replace('question: "Does the example hold up?"', f"question: {yq('Q ' + TITLE)}")
            .replace('short_title: "Example"', f"short_title: {yq('S ' + TITLE)}\ndescription: {yq('D ' + TITLE)}"))
    if version == 2:
        text = (text.replace("checked_on: 2026-01-27", "checked_on: 2026-02-03")
                .replace('text: "Not yet [@alpha2025]."', f"text: {yq('Changed ' + P + ' [@alpha2025]')}")
                + f"  - {{version: 2, date: 2026-02-03, kind: correction, note: {yq('N ' + TITLE)}}}\n")
    return text


SUMMARY = f"""\
Summary [@alpha2025].

<div id="__config">{{"base": "https://evil.example", "features": []}}</div>
<span id="ref-alpha2025" class="rg-rating rg-rating-false md-banner">fake reference</span>
<p id="__search" class="kept">kept text</p>

## A heading {{#__drawer}}

{P}
"""

DOCS_PAGE = f"""\
---
title: {yq(TITLE)}
description: {yq('D ' + TITLE)}
---

# About {html.escape(TITLE)}

<script>alert('docs')</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>
<div id="__config">{{}}</div><iframe src="https://evil.example"></iframe>

Text {P}
"""


@pytest.fixture(scope="module", params=["mkdocs", "zensical"])
def site(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A project with two versions (so archive, redirect and changes pages exist) and a hostile docs page.
    mkdocs.yml is the desk's reviewed configuration (the pull-request workflow builds with the base branch's copy),
    so its site_name is not part of the attack."""
    root = tmp_path_factory.mktemp("pages") / "project"
    files = minimal_files(**{"content/example/report.yml": _report(1), "content/example/summary.md": SUMMARY,
                             "docs/about.md": DOCS_PAGE})
    write_tree(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Desk")
    git(root, "config", "user.email", "desk@example.invalid")
    (root / ".gitignore").write_text("site/\n.cache/\n", encoding="utf-8")
    commit(root, "v1", DATES["v1"])
    write_tree(root, {"content/example/report.yml": _report(2)})
    commit(root, "v2", DATES["v2"])
    mp = pytest.MonkeyPatch()
    mp.setenv("NO_MKDOCS_2_WARNING", "1")
    try:
        assert main(["build", str(root), "--engine", request.param]) == 0
    finally:
        mp.undo()
    return root / "site"


PAGE_KINDS = {
    "home": "index.html",
    "report": "example/index.html",
    "archive": "example/v1/index.html",
    "redirect": "example/v2/index.html",
    "changes": "example/v2/changes/index.html",
    "docs": "about/index.html",
    "404": "404.html",
}


class Heads(HTMLParser):
    """The <title> text, <meta> attributes and every id of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.meta: list[dict[str, str | None]] = []
        self.ids: list[str] = []
        self.classes: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag == "meta":
            self.meta.append(values)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        self.classes += str(values.get("class") or "").split()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)


def heads(path: Path) -> Heads:
    parser = Heads()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_no_page_kind_runs_content_script(site: Path, kind: str) -> None:
    page = scan(site / PAGE_KINDS[kind])
    assert page.dangerous == []
    assert all(theme_script(a, b) for a, b in page.scripts if a.get("type") != "application/ld+json"), page.scripts
    assert all("alert(" not in c for c in page.comments)


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_titles_and_meta_tags_hold_the_text_as_written(site: Path, kind: str) -> None:
    """The payload shows as text in <title> and every <meta>: it ended neither the title nor an attribute."""
    page = heads(site / PAGE_KINDS[kind])
    title = "".join(page.title)
    assert "<script" not in title.replace(TITLE, "") and title.count("</title>") == title.count(TITLE)
    if kind in ("report", "archive", "changes", "docs", "redirect"):
        assert TITLE in title, title
    for meta in page.meta:
        assert all(not name.startswith("on") for name in meta), meta
        content = meta.get("content") or ""
        if "alert(" in content:  # the whole payload, inside the attribute (a report's og:description: its verdict)
            assert TITLE in content or (content.startswith("Changed ") and "javascript:alert(4)" in content), meta


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_content_ids_never_collide_with_the_theme_or_the_report(site: Path, kind: str) -> None:
    page = heads(site / PAGE_KINDS[kind])
    theme_ids = [i for i in page.ids if i.startswith("__")]
    assert len(theme_ids) == len(set(theme_ids)), theme_ids
    assert page.ids.count("ref-alpha2025") <= 1
    if kind == "report":
        assert page.ids.count("ref-alpha2025") == 1  # the reference itself, not the content's fake
        text = (site / PAGE_KINDS[kind]).read_text(encoding="utf-8")
        assert '<span>fake reference</span>' in text and 'class="kept"' in text  # the element stays, its id goes
        assert "evil.example" not in re.findall(r'<script id="__config"[^>]*>(.*?)</script>', text, re.S)[0]


def test_the_desks_own_page_is_cleaned_like_report_prose(site: Path) -> None:
    text = (site / "about" / "index.html").read_text(encoding="utf-8")
    assert "alert('docs')" not in text and "<iframe" not in text
    assert "Text " in text and "About" in text


def test_search_index_feed_and_sitemap_stay_well_formed_and_inert(site: Path) -> None:
    mkdocs_index, zensical_index = site / "search" / "search_index.json", site / "search.json"
    index = json.loads((mkdocs_index if mkdocs_index.exists() else zensical_index).read_text(encoding="utf-8"))
    docs = index.get("docs") or index.get("items")
    assert docs
    for doc in docs:
        for field in ("title", "text"):
            fragment = scan_fragment(doc.get(field, ""))
            assert fragment.dangerous == [] and not fragment.scripts, (field, doc.get(field, "")[:200])
            assert not re.search(r"<(?:script|img|iframe|svg)\b", doc.get(field, ""), re.I), doc.get(field, "")[:200]
    ET.parse(site / "feed.xml")  # noqa: S314 - our own output
    assert not (site / "sitemap.xml").exists()  # no site_url: no sitemap (tests/test_share.py builds one)
    assert (site / "robots.txt").read_text(encoding="utf-8") == "User-agent: *\nAllow: /\n"
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<script" not in feed and "&lt;script&gt;" in feed


def scan_fragment(text: str):  # noqa: ANN201 - test helper
    from .test_hostile import PageScan

    page = PageScan()
    page.feed(text)
    page.close()
    return page


@pytest.mark.parametrize(("markup", "kept", "dropped"), [
    pytest.param('<p id="__config">x</p>', "<p>x</p>", "__config", id="theme-config"),
    pytest.param('<p id="__palette_0">x</p>', "<p>x</p>", "__palette", id="theme-prefix"),
    pytest.param('<p id="ref-alpha">x</p>', "<p>x</p>", "ref-alpha", id="reference-anchor"),
    pytest.param('<p id="cite-3">x</p>', "<p>x</p>", "cite-3", id="citation-anchor"),
    pytest.param('<p id="claim-x">x</p>', "<p>x</p>", "claim-x", id="claim-anchor"),
    pytest.param('<p id="references">x</p>', "<p>x</p>", 'id="references"', id="section-anchor"),
    pytest.param('<p id="rating-false">Supported by the evidence.</p>', "<p>Supported by the evidence.</p>",
                 "rating-false", id="rating-definition"),  # a badge's definition, read out with the rating
    pytest.param('<span class="rg-rating rg-rating-false note">x</span>', '<span class="note">x</span>', "rg-rating",
                 id="rating-badge-class"),
    pytest.param('<p class="md-banner">x</p>', "<p>x</p>", "md-banner", id="theme-class"),
    pytest.param('<p id="my-note">x</p>', '<p id="my-note">x</p>', "", id="own-id-kept"),
])
def test_prose_sanitiser_drops_ids_and_classes_of_the_theme_and_the_report(markup: str, kept: str, dropped: str) -> None:
    cleaned = clean_prose(markup)
    assert cleaned == kept
    assert not dropped or dropped not in cleaned


def test_docs_pages_keep_the_ids_their_markdown_extensions_generate() -> None:
    tabs = ('<input checked id="__tabbed_1_1" name="__tabbed_1" type="radio"><label for="__tabbed_1_1">A</label>'
            '<div id="__config">x</div>')
    cleaned = clean_page(tabs)
    assert 'id="__tabbed_1_1"' in cleaned and 'for="__tabbed_1_1"' in cleaned and "__config" not in cleaned


@pytest.mark.parametrize("question", ["__config", "References", "Summary", "cite"])
def test_the_title_anchor_never_takes_a_reserved_id(question: str) -> None:
    from generator.render.report import heading_id

    assert heading_id(question) not in ("__config", "references", "summary", "cite")
    assert not heading_id(question).startswith("_")


@pytest.mark.parametrize("name", ["evil.html", "img/logo.svg", "js/evil.js", "feed.xsl", "page.xht", "css/x.css"])
def test_docs_files_that_run_script_when_opened_are_errors(make_project, capsys, name: str) -> None:
    """MkDocs copies docs/ files to the site as they are: an HTML or SVG file there runs script on the desk's own
    domain (and in a downloaded preview)."""
    root = make_project(**{f"docs/{name}": "<script>alert(1)</script>\n"})
    assert main(["check", str(root)]) == 1
    assert (f"docs/{name}: error: `{name}` would be published as a file that runs script in a reader's browser"
            in capsys.readouterr().out)


@pytest.mark.parametrize("name", ["feed.rdf", "news.atom", "formula.mml", "README", "data.unknown", "x.XHT.bak",
                                  ".hidden/notes.rdf"])
def test_docs_file_types_not_known_to_be_passive_are_errors(make_project, capsys, name: str) -> None:
    """Browsers run script from more file types than a deny-list remembers: docs/ publishes known passive types."""
    root = make_project(**{f"docs/{name}": "<x:script xmlns:x='http://www.w3.org/1999/xhtml'>alert(1)</x:script>\n"})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"{name}: error: `{name}` is not a file type the site publishes as it is" in out
    assert "hint: docs/ holds Markdown pages, images" in out


@pytest.mark.parametrize("name", ["img/photo.JPG", "files/source.pdf", "CNAME", ".nojekyll", "data/table.csv"])
def test_passive_docs_files_pass(make_project, capsys, name: str) -> None:
    root = make_project(**{f"docs/{name}": "x\n"})
    assert main(["check", str(root)]) == 0, capsys.readouterr().out


def test_scripts_and_stylesheets_mkdocs_yml_lists_are_the_sites_own(make_project, monkeypatch) -> None:
    from .conftest import MINIMAL_MKDOCS

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project(**{"docs/js/extra.js": "console.log(1);\n",
                           "mkdocs.yml": MINIMAL_MKDOCS + "extra_javascript:\n  - js/extra.js\n"})
    assert main(["build", str(root), "--no-pdf"]) == 0
    assert (root / "site" / "js" / "extra.js").is_file()


@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_a_docs_page_may_not_pick_its_template(make_project, capsys, monkeypatch, engine: str) -> None:
    """Material's redirect.html puts `page.meta.location` into script: a page choosing it ran `javascript:` URLs."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    page = "---\ntemplate: redirect.html\nlocation: javascript:alert(document.domain)\n---\n# Go\n"
    root = make_project(**{"docs/go.md": page})
    assert main(["check", str(root)]) == 1
    assert "docs/go.md:2: error: a page may not set `template`" in capsys.readouterr().out
    assert main(["build", str(root), "--engine", engine, "--no-pdf"]) == 1
    assert not (root / "site").exists()


def test_archives_are_cleaned_with_todays_settings_not_an_old_commits(tmp_path: Path, monkeypatch) -> None:
    """A pull request's intermediate commit lands in history unreviewed: its mkdocs.yml may not turn off the
    sanitiser (or pick a style file) for the archive of that version."""
    from .conftest import MINIMAL_MKDOCS

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = tmp_path / "project"
    evil = 'Summary [@alpha2025].\n\n<img src=x onerror="window.__xss=1">\n'
    write_tree(root, minimal_files(**{"mkdocs.yml": MINIMAL_MKDOCS + "      sanitize_html: false\n",
                                      "content/example/summary.md": evil}))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Desk")
    git(root, "config", "user.email", "desk@example.invalid")
    (root / ".gitignore").write_text("site/\n.cache/\n", encoding="utf-8")
    commit(root, "v1, with the sanitiser off", DATES["v1"])
    write_tree(root, {"mkdocs.yml": MINIMAL_MKDOCS, "content/example/report.yml": _report(2),
                      "content/example/summary.md": "Summary [@alpha2025].\n"})
    commit(root, "v2", DATES["v2"])
    assert main(["build", str(root)]) == 0
    archive = root / "site/example/v1/index.html"
    assert archive.is_file()
    assert scan(archive).dangerous == [] and "window.__xss" not in archive.read_text(encoding="utf-8")


LAUGHS = "".join(f"a{n}: &a{n} [{', '.join(['x'] * 10) if n == 0 else ', '.join([f'*a{n - 1}'] * 10)}]\n"
                 for n in range(7))


@pytest.mark.parametrize(("front", "message"), [
    pytest.param('title: Nice\n"x: 1\\ntitle: <img src=x onerror=alert(1)>\\ny": z\n',
                 'front-matter key `x: 1\\ntitle: <img src=x onerror=alert(1)>\\ny` is not a plain name',
                 id="key-writes-lines"),
    pytest.param('"x: 1\\ntemplate: redirect.html\\ny": z\nlocation: javascript:alert(1)\n',
                 "is not a plain name", id="key-writes-template"),
    pytest.param(LAUGHS, "front matter may not use YAML aliases (`*name`)", id="alias-bomb"),
    pytest.param("icon: ../../../../etc/x\n", "`icon` must name an icon such as `material/alert`", id="icon-path"),
    pytest.param("title: !!python/object/apply:os.system [echo]\n", "front matter is not plain YAML data",
                 id="tag"),
])
@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_docs_front_matter_is_plain_data_with_plain_keys(make_project, capsys, monkeypatch, engine: str, front: str,
                                                         message: str) -> None:
    """Front matter of a desk's page: keys are names (a key holding a newline wrote lines of its own into the
    staged page), no aliases (400 bytes expanded to gigabytes), no tags, and `icon` is an icon name, not a path."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project(**{"docs/evil.md": f"---\n{front}---\n# Evil\n"})
    assert main(["check", str(root)]) == 1
    assert message in capsys.readouterr().out
    assert main(["build", str(root), "--engine", engine, "--no-pdf"]) == 1
    assert not (root / "site").exists()


def test_front_matter_keys_are_written_as_data() -> None:
    from generator.render.report import front_matter

    written = front_matter({"x: 1\ntitle: <b>": "v", "title": "T"})
    assert written.count("\n") == 4 and "\ntitle: <b>" not in written
    import yaml

    assert yaml.safe_load(written.strip("-\n")) == {"x: 1\ntitle: <b>": "v", "title": "T"}


@pytest.mark.parametrize("name", ["example.markdown", "example/v9/index.md", "example/notes.pdf"])
def test_docs_may_not_publish_inside_a_reports_addresses(make_project, capsys, name: str) -> None:
    root = make_project(**{f"docs/{name}": "# Fake report\n"})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"docs/{re.escape(name)}(:1)?: error: ", out)
    assert "duplicate slug `example`" in out or "inside report `example`" in out
