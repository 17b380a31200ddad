"""Sharing and search engines, on both engines: Open Graph and Twitter card tags, the share card, canonical links,
`noindex` on archived versions, ClaimReview and its Article, sitemap.xml, robots.txt, the home page's title and the
feed's ids, with and without `site_url`."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main
from generator.publish.card import CardText, card_text, find_font, missing_glyphs, render_card, report_card
from generator.publish.site import site_files
from generator.render.report import SHARE_META

from .conftest import MINIMAL_MKDOCS, REPO, minimal_files, write_tree
from .gitrepo import make_history_repo

pytest.importorskip("zensical")

ENGINES = ("mkdocs", "zensical")
GOLDEN = REPO / "tests" / "golden"
SITE_URL = "https://reports.example.org/desk/"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Head(HTMLParser):
    """A page's <title>, canonical links, share and robots tags (in order), and its JSON-LD blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.tags: list[tuple[str, str]] = []
        self.jsonld: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("rel") == "canonical":
            self.tags.append(("canonical", a["href"]))
        if tag == "meta":
            key = a.get("property") or a.get("name") or ""
            if key.startswith(("og:", "twitter:", "article:")) or key == "robots":
                self.tags.append((key, a.get("content", "")))
        if tag == "title" or (tag == "script" and a.get("type") == "application/ld+json"):
            self._in = tag
            if tag == "script":
                self.jsonld.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.jsonld[-1] += data

    def get(self, key: str) -> list[str]:
        return [value for name, value in self.tags if name == key]

    def data(self) -> list[dict]:
        return [item for block in self.jsonld for item in json.loads(block)]


def head(path: Path) -> Head:
    parser = Head()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _build(root: Path, engine: str) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("NO_MKDOCS_2_WARNING", "1")
    try:
        assert main(["build", str(root), "--engine", engine]) == 0
    finally:
        mp.undo()
    return root / "site"


@pytest.fixture(scope="module")
def example_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example project with a site_url, built by each engine (no git: no archives)."""
    sites = {}
    for engine in ENGINES:
        root = tmp_path_factory.mktemp(f"example-{engine}") / "example"
        root.mkdir()
        for name in ("content", "bib", "docs"):
            shutil.copytree(REPO / name, root / name)
        (root / "mkdocs.yml").write_text(f"site_url: {SITE_URL}\n" + (REPO / "mkdocs.yml").read_text(encoding="utf-8"),
                                         encoding="utf-8")
        sites[engine] = _build(root, engine)
    return sites


@pytest.fixture(scope="module", params=[f"{e}-{u}" for e in ENGINES for u in ("relative", "absolute")])
def history_site(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> tuple[Path, str]:
    """The three-version fixture (archives v1 and v2, a redirect at v3, changes pages) with a page of the desk's own,
    built by one engine, with or without site_url; (site folder, site_url or "")."""
    engine, _, mode = request.param.partition("-")
    site_url = SITE_URL if mode == "absolute" else ""
    root = tmp_path_factory.mktemp(f"history-{request.param}") / "project"
    make_history_repo(root, (f"site_url: {site_url}\n" if site_url else "") + MINIMAL_MKDOCS)
    write_tree(root, {"docs/about.md": "---\ndescription: Who we are.\n---\n# About us\n\nWe check claims.\n"})
    return _build(root, engine), site_url


# -- share tags -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_golden_share_tags_of_the_example_report(example_sites: dict[str, Path], engine: str) -> None:
    """Regenerate with `UPDATE_GOLDEN=1`."""
    page = head(example_sites[engine] / "enteromix" / "index.html")
    text = "".join(f"{name}\t{value}\n" for name, value in page.tags)
    golden = GOLDEN / "enteromix_share_tags.tsv"
    if os.environ.get("UPDATE_GOLDEN") and engine == "mkdocs":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    # each tag once; the image is the card beside the page
    assert len({name for name, _ in page.tags}) == len(page.tags)
    assert page.get("og:image") == [f"{SITE_URL}enteromix/card.png"]
    assert (example_sites[engine] / "enteromix" / "card.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_share_tags_give_the_question_the_verdict_and_content_dates(example_sites: dict[str, Path]) -> None:
    page = head(example_sites["mkdocs"] / "enteromix" / "index.html")
    assert page.get("og:title") == ["What independent, peer-reviewed data exist about Enteromix or Russia's cancer "
                                    "vaccine trials?"]
    assert page.get("og:description")[0].startswith("Claims that Enteromix works against cancer are unproven.")
    assert "[" not in page.get("og:description")[0]  # the verdict without its citations
    # first revision, newest revision: never the commit or build date
    assert page.get("article:published_time") == ["2026-01-27"]
    assert page.get("article:modified_time") == ["2026-11-28"]
    assert page.get("og:type") == ["article"] and page.get("twitter:card") == ["summary_large_image"]


@pytest.mark.parametrize("engine", ENGINES)
def test_other_pages_share_as_websites_and_the_home_title_names_the_site_once(example_sites: dict[str, Path],
                                                                              engine: str) -> None:
    home = head(example_sites[engine] / "index.html")
    assert home.title.strip() == "Evidence reports"
    assert home.get("og:type") == ["website"] and home.get("og:title") == ["Evidence reports"]
    assert home.get("og:description") == ["Cited, versioned evidence reviews, re-checked over time."]
    assert home.get("og:url") == home.get("canonical") == [SITE_URL]
    about = head(example_sites[engine] / "about" / "index.html")
    assert about.get("og:type") == ["website"] and about.get("og:title") == [about.title.split(" - ")[0].strip()]
    assert about.get("canonical") == [f"{SITE_URL}about/"] and about.get("twitter:card") == ["summary"]


def test_share_tags_are_the_same_on_both_engines_for_every_page(example_sites: dict[str, Path]) -> None:
    for relative in ("index.html", "enteromix/index.html", "about/index.html"):
        assert head(example_sites["mkdocs"] / relative).tags == head(example_sites["zensical"] / relative).tags


# -- canonical links, noindex, ClaimReview on every kind of page ----------------------------------------------

PAGES = {"home": "", "report": "example/", "archive": "example/v1/", "archive2": "example/v2/",
         "changes": "example/v2/changes/", "docs": "about/"}


@pytest.mark.parametrize("kind", PAGES)
def test_every_page_has_one_canonical_link_to_itself(history_site: tuple[Path, str], kind: str) -> None:
    site, site_url = history_site
    page = head(site / PAGES[kind] / "index.html")
    expected = f"{site_url}{PAGES[kind]}" if site_url else "./"
    assert page.get("canonical") == [expected]
    assert page.get("og:url") == [expected]
    assert page.get("robots") == (["noindex"] if kind.startswith("archive") else [])


def test_the_redirect_of_the_latest_version_points_to_the_report(history_site: tuple[Path, str]) -> None:
    site, _ = history_site
    page = head(site / "example" / "v3" / "index.html")
    assert page.get("canonical") == ["../"] and page.get("robots") == ["noindex"]


def test_archived_versions_publish_no_claimreview(history_site: tuple[Path, str]) -> None:
    site, site_url = history_site
    for version in ("v1", "v2"):
        assert head(site / "example" / version / "index.html").jsonld == []
    data = head(site / "example" / "index.html").data()
    page_url = f"{site_url}example/" if site_url else "./"
    assert [d["@type"] for d in data] == ["Article", "ClaimReview", "ClaimReview"]
    assert all(d["url"].startswith(page_url) for d in data)
    assert data[0]["url"] == page_url and data[1]["url"] == f"{page_url}#claim-first-claim"


def test_report_pages_link_their_card_and_archives_share_no_card(history_site: tuple[Path, str]) -> None:
    site, site_url = history_site
    page = head(site / "example" / "index.html")
    assert page.get("og:image") == [f"{site_url}example/card.png" if site_url else "card.png"]
    assert (site / "example" / "card.png").is_file()
    archive = head(site / "example" / "v1" / "index.html")
    assert archive.get("og:image") == [] and archive.get("og:title") == ["Example (version 1)"]


# -- ClaimReview -----------------------------------------------------------------------------------------------


def test_claimreview_names_where_the_claim_appeared_and_sits_in_an_article(example_sites: dict[str, Path]) -> None:
    data = head(example_sites["zensical"] / "enteromix" / "index.html").data()
    article, reviews = data[0], data[1:]
    page_url = f"{SITE_URL}enteromix/"
    assert article["@type"] == "Article" and article["url"] == page_url
    assert article["headline"].startswith("What independent, peer-reviewed data exist")
    assert (article["datePublished"], article["dateModified"], article["inLanguage"]) == ("2026-01-27", "2026-11-28", "en")
    assert article["author"] == [{"@type": "Organization", "name": "report-generator example desk"}]
    assert article["image"] == f"{page_url}card.png"
    assert [part["@id"] for part in article["hasPart"]] == [r["@id"] for r in reviews]
    assert len(reviews) == 5 and all(r["@type"] == "ClaimReview" for r in reviews)
    for review in reviews:
        assert review["url"].startswith(f"{page_url}#claim-") and review["isPartOf"] == {"@id": article["@id"]}
        first = review["itemReviewed"]["firstAppearance"]
        assert first["@type"] == "CreativeWork" and first["url"].startswith("https://") and first["name"]
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", first["datePublished"])
        assert review["itemReviewed"]["appearance"] == [first]
    efficacy = reviews[1]["itemReviewed"]
    assert efficacy["datePublished"] == "2025-09-09" == efficacy["firstAppearance"]["datePublished"]
    assert efficacy["firstAppearance"]["publisher"] == {"@type": "Organization", "name": "ETV Bharat"}


def test_claimreview_author_carries_the_authors_address(make_project) -> None:
    report = minimal_files()["content/example/report.yml"].replace(
        '  - name: "Test desk"', '  - {name: "Test desk", organization: true, url: "https://desk.example.org/"}')
    result = build_project(Project(root=make_project(**{"content/example/report.yml": report})))
    page = site_files(result)["example/index.md"]
    data = json.loads(page.html.split('<script type="application/ld+json">')[1].split("</script>")[0])  # type: ignore[union-attr]
    expected = [{"@type": "Organization", "name": "Test desk", "url": "https://desk.example.org/"}]
    assert data[0]["author"] == data[1]["author"] == expected


# -- sitemap.xml and robots.txt --------------------------------------------------------------------------------

# The sitemap protocol's schema (sitemaps.org/schemas/sitemap/0.9/sitemap.xsd), the parts a sitemap must meet.
SITEMAP_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.sitemaps.org/schemas/sitemap/0.9"
  xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" elementFormDefault="qualified">
  <xsd:element name="urlset">
    <xsd:complexType><xsd:sequence>
      <xsd:any namespace="##other" minOccurs="0" maxOccurs="unbounded" processContents="strict"/>
      <xsd:element name="url" type="tUrl" maxOccurs="unbounded"/>
    </xsd:sequence></xsd:complexType>
  </xsd:element>
  <xsd:complexType name="tUrl"><xsd:sequence>
    <xsd:element name="loc" type="tLoc"/>
    <xsd:element name="lastmod" type="tLastmod" minOccurs="0"/>
    <xsd:element name="changefreq" type="tChangeFreq" minOccurs="0"/>
    <xsd:element name="priority" type="tPriority" minOccurs="0"/>
    <xsd:any namespace="##other" minOccurs="0" maxOccurs="unbounded" processContents="strict"/>
  </xsd:sequence></xsd:complexType>
  <xsd:simpleType name="tLoc"><xsd:restriction base="xsd:anyURI">
    <xsd:minLength value="12"/><xsd:maxLength value="2048"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="tLastmod"><xsd:union>
    <xsd:simpleType><xsd:restriction base="xsd:date"/></xsd:simpleType>
    <xsd:simpleType><xsd:restriction base="xsd:dateTime"/></xsd:simpleType>
  </xsd:union></xsd:simpleType>
  <xsd:simpleType name="tChangeFreq"><xsd:restriction base="xsd:string">
    <xsd:enumeration value="always"/><xsd:enumeration value="hourly"/><xsd:enumeration value="daily"/>
    <xsd:enumeration value="weekly"/><xsd:enumeration value="monthly"/><xsd:enumeration value="yearly"/>
    <xsd:enumeration value="never"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="tPriority"><xsd:restriction base="xsd:decimal">
    <xsd:minInclusive value="0.0"/><xsd:maxInclusive value="1.0"/></xsd:restriction></xsd:simpleType>
</xsd:schema>
"""


def validate_sitemap(data: bytes) -> list[tuple[str, str | None]]:
    """The sitemap checked against the 0.9 schema; its (loc, lastmod) entries."""
    from lxml import etree

    schema = etree.XMLSchema(etree.fromstring(SITEMAP_XSD.encode()))
    document = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert schema.validate(document), schema.error_log
    entries = [(u.findtext(f"{SITEMAP}loc") or "", u.findtext(f"{SITEMAP}lastmod")) for u in document]
    assert all(re.match(r"https?://", loc) for loc, _ in entries)  # absolute (anyURI alone allows relative)
    return entries


def test_the_schema_check_fails_an_empty_or_relative_sitemap() -> None:
    from lxml import etree

    schema = etree.XMLSchema(etree.fromstring(SITEMAP_XSD.encode()))
    empty = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
    assert not schema.validate(etree.fromstring(empty))  # what the engines wrote without site_url
    dated = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/x</loc>' \
            b'<lastmod>28 Nov 2026</lastmod></url></urlset>'
    assert not schema.validate(etree.fromstring(dated))
    with pytest.raises(AssertionError):
        validate_sitemap(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>example/index.html'
                         b'</loc></url></urlset>')


def test_sitemap_lists_current_pages_dated_by_content(history_site: tuple[Path, str]) -> None:
    site, site_url = history_site
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert robots.startswith("User-agent: *\nAllow: /\n")
    if not site_url:  # no absolute address to list: no sitemap (an empty one is invalid), and robots.txt names none
        assert not (site / "sitemap.xml").exists() and not (site / "sitemap.xml.gz").exists()
        assert "Sitemap:" not in robots
        return
    assert f"\nSitemap: {site_url}sitemap.xml\n" in robots
    data = (site / "sitemap.xml").read_bytes()
    assert gzip.decompress((site / "sitemap.xml.gz").read_bytes()) == data
    # v3 was committed at noon on 2026-03-10 and is dated 2026-03-10: the date comes from report.yml
    assert validate_sitemap(data) == [(site_url, "2026-03-10"), (f"{site_url}about/", None),
                                      (f"{site_url}example/", "2026-03-10")]


def test_sitemap_dates_come_from_the_content_not_the_commit(make_project, tmp_path: Path) -> None:
    root = make_project(**{"mkdocs.yml": f"site_url: {SITE_URL}\n" + MINIMAL_MKDOCS})
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-05-05T12:00:00Z", "GIT_COMMITTER_DATE": "2026-05-05T12:00:00Z",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    for engine in ENGINES:
        site = _build(root, engine)
        assert validate_sitemap((site / "sitemap.xml").read_bytes()) == [
            (SITE_URL, "2026-01-27"), (f"{SITE_URL}about/", None), (f"{SITE_URL}example/", "2026-01-27")]


def test_a_desks_own_robots_txt_is_kept(make_project) -> None:
    root = make_project(**{"docs/robots.txt": "User-agent: *\nDisallow: /drafts/\n"})
    assert (_build(root, "mkdocs") / "robots.txt").read_text(encoding="utf-8") == "User-agent: *\nDisallow: /drafts/\n"


# -- the site_url warning ------------------------------------------------------------------------------------


def test_missing_site_url_is_one_warning_naming_what_it_breaks(make_project) -> None:
    result = build_project(Project(root=make_project()))
    from generator.publish.site import build_site

    site = build_site(Project(root=make_project()))
    warnings = [p for p in site.problems.items if p.code == "no-site-url"]
    assert len(warnings) == 1 and warnings[0].severity.value == "warning" and site.ok
    for broken in ("link previews", "canonical links", "ClaimReview", "the feed", "sitemap"):
        assert broken in warnings[0].message
    assert result.ok
    with_url = build_site(Project(root=make_project(**{"mkdocs.yml": f"site_url: {SITE_URL}\n" + MINIMAL_MKDOCS})))
    assert not [p for p in with_url.problems.items if p.code == "no-site-url"]


def test_a_desks_page_may_not_set_the_share_data(make_project, capsys) -> None:
    root = make_project(**{"docs/about.md": "---\nreport_share: {robots: noindex}\n---\n# About\n"})
    assert main(["check", str(root)]) == 1
    assert "may not set `report_share`" in capsys.readouterr().out


# -- the feed ----------------------------------------------------------------------------------------------------


def _feed(root: Path) -> ET.Element:
    return ET.fromstring(site_files(build_project(Project(root=root)))["feed.xml"])  # noqa: S314 - our own output


def check_atom(feed: ET.Element) -> None:
    """RFC 4287's required elements: the feed's and every entry's id (an absolute IRI), title and updated
    (RFC 3339); an author for the feed or every entry; an entry without content links to its page."""
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
    assert feed.tag == f"{ATOM}feed"
    for element in [feed, *feed.findall(f"{ATOM}entry")]:
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, (element.tag, name)
        assert re.match(r"[a-z][a-z0-9+.-]*:", element.findtext(f"{ATOM}id") or "")
        assert stamp.fullmatch(element.findtext(f"{ATOM}updated") or "")
    has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    for entry in feed.findall(f"{ATOM}entry"):
        assert has_author or entry.find(f"{ATOM}author/{ATOM}name") is not None
        if entry.find(f"{ATOM}content") is None:
            assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
            assert entry.find(f"{ATOM}summary") is not None


def test_feed_ids_are_tag_uris_that_setting_site_url_does_not_change(make_project) -> None:
    before = _feed(make_project())
    after = _feed(make_project(**{"mkdocs.yml": f"site_url: {SITE_URL}\n" + MINIMAL_MKDOCS}))
    for feed in (before, after):
        check_atom(feed)
    ids = [e.findtext(f"{ATOM}id") for e in [before, *before.findall(f"{ATOM}entry")]]
    assert ids == [e.findtext(f"{ATOM}id") for e in [after, *after.findall(f"{ATOM}entry")]]
    assert ids == ["tag:test-reports.evidence-desk.invalid,2026:feed.xml",
                   "tag:test-reports.evidence-desk.invalid,2026:example/v1"]
    # the links move with site_url: relative to the feed without it, absolute with it
    assert before.find(f"{ATOM}entry/{ATOM}link").get("href") == "example/v1/"  # type: ignore[union-attr]
    assert after.find(f"{ATOM}entry/{ATOM}link").get("href") == f"{SITE_URL}example/v1/"  # type: ignore[union-attr]


def test_feed_authority_is_a_setting(make_project) -> None:
    mkdocs = MINIMAL_MKDOCS + "      feed_authority: desk.example.org,2026-02\n"
    feed = _feed(make_project(**{"mkdocs.yml": mkdocs}))
    assert feed.findtext(f"{ATOM}entry/{ATOM}id") == "tag:desk.example.org,2026-02:example/v1"
    bad = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      feed_authority: https://desk.example.org/\n"})
    assert not build_project(Project(root=bad)).ok


# -- the share card ----------------------------------------------------------------------------------------------

LATIN = CardText("Evidence reports", "Do measles vaccines cause autism?", "False", 0, "Checked on January 27, 2026", "en")
CYRILLIC = CardText("Доказательные отчёты", "Вызывают ли вакцины от кори аутизм? Что говорят независимые исследования "
                    "и систематические обзоры последних двадцати лет о связи вакцинации с расстройствами аутистического "
                    "спектра у детей разного возраста в разных странах мира и что об этом пишут в соцсетях",
                    "Неверно", 0, "Проверено 27 января 2026 г.", "ru")
ARABIC = CardText("تقارير الأدلة", "هل تسبب لقاحات الحصبة التوحد؟", "خطأ", 0, "تم التحقق في 27 يناير 2026", "ar")


def _image(data: bytes):  # noqa: ANN202 - a Pillow image
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.verify()  # a valid PNG: chunks and checksums
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("text", [LATIN, CYRILLIC, ARABIC], ids=["latin", "cyrillic", "arabic"])
def test_the_card_is_a_deterministic_1200_by_630_png(text: CardText) -> None:
    data = render_card(text)
    image = _image(data)
    assert (image.format, image.size) == ("PNG", (1200, 630))
    assert render_card(text) == data
    assert render_card(CardText(**{**text.__dict__, "rating": text.rating + "!"})) != data


@pytest.mark.parametrize("text", [LATIN, CYRILLIC, ARABIC], ids=["latin", "cyrillic", "arabic"])
def test_the_cards_font_has_every_character_it_shows(text: CardText) -> None:
    """No box for a missing glyph: the font chosen for each text has a glyph for each of its characters (read from the
    font's own character map)."""
    from fontTools.ttLib import TTFont

    assert missing_glyphs(text) == ""
    for part, bold in ((text.site, True), (text.question, True), (text.rating, True), (text.stamp, False)):
        file, index, covered = find_font(part, bold, text.language)
        cmap = TTFont(file, fontNumber=index, lazy=True).getBestCmap()
        assert covered and all(ord(c) in cmap for c in part if not c.isspace()), (file, part)


def test_a_character_no_font_has_is_reported() -> None:
    text = CardText("Evidence reports", "Is \U0010fffd a claim?", "False", 0, "Checked on January 27, 2026", "en")
    assert missing_glyphs(text) == "Is \U0010fffd a claim?"
    assert _image(render_card(text)).size == (1200, 630)  # still drawn


def test_the_card_shows_the_verdict_in_the_badges_hue() -> None:
    """The badge is painted as the page paints it: hsl(hue, 55%, 30%); green for the best rating, red for the worst."""
    from generator.publish.card import MARGIN, badge_colour

    assert badge_colour(120) == (34, 119, 34) and badge_colour(0) == (119, 34, 34)
    image = _image(render_card(LATIN)).convert("RGB")
    assert image.getpixel((MARGIN + 30, 630 - MARGIN - 5)) == badge_colour(0)  # inside the badge, below its text
    assert image.getpixel((600, 5)) == badge_colour(0)  # the band along the top


def test_a_long_question_is_cut_with_an_ellipsis_on_the_card() -> None:
    from PIL import ImageFont  # noqa: F401 - Pillow is there

    from generator.publish.card import MARGIN, MAX_LINES, WIDTH, fit_question

    font, lines = fit_question(CYRILLIC, WIDTH - 2 * MARGIN)
    assert len(lines) == MAX_LINES and lines[-1].endswith("…")
    assert all(font.getlength(line) <= WIDTH - 2 * MARGIN for line in lines)
    _font, short = fit_question(LATIN, WIDTH - 2 * MARGIN)
    assert " ".join(short) == "Do measles vaccines cause autism?"  # whole, at the largest size


def test_the_card_speaks_the_reports_language(make_project) -> None:
    report = minimal_files()["content/example/report.yml"].replace('question: "Does the example hold up?"',
                                                                   'question: "Подтверждается ли пример?"\nlanguage: ru')
    result = build_project(Project(root=make_project(**{"content/example/report.yml": report})))
    [rendered] = result.rendered
    text = card_text(rendered, "Test reports")
    assert (text.question, text.rating, text.hue) == ("Подтверждается ли пример?", "Не доказано", 60)
    assert text.stamp.startswith("Проверено") and "2026" in text.stamp
    card = report_card(rendered, "Test reports")
    assert card.path == "example/card.png" and card.alt.startswith("Подтверждается ли пример? — Не доказано.")
    share = site_files(result)["example/index.md"].meta[SHARE_META]  # type: ignore[union-attr]
    assert share["image"] == {"url": "card.png", "width": 1200, "height": 630, "alt": card.alt, "type": "image/png"}
    assert share["locale"] == "ru_RU"
