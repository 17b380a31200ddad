"""Render stage: numbering in reading order, compression, hover text, back-links, golden page output."""

from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.render.report import toc_tokens

from .conftest import MINIMAL_BIB, MINIMAL_REPORT

GOLDEN = Path(__file__).parent / "golden"


def _build(root: Path):
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    [rendered] = result.rendered
    return result, rendered


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cites: list[tuple[str, str, str]] = []
        self._in: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("class") == "rg-cite-ref":
            self._in = attrs

    def handle_data(self, data):
        if self._in is not None:
            self.cites.append((data, self._in["href"], self._in["title"]))
            self._in = None


def test_numbers_follow_first_appearance_in_reading_order(make_project) -> None:
    result, rendered = _build(make_project())
    # verdict cites alpha; the summary then meets gamma and beta; claims and bottom line reuse them.
    assert [(e.number, e.source.key) for e in rendered.references] == [(1, "alpha2025"), (2, "gamma2025"), (3, "beta2024")]
    assert "[2, 3]" in re.sub(r"<[^>]+>", "", str(rendered.summary.html))
    evidence = re.sub(r"<[^>]+>", "", str(rendered.sections[0].html))
    assert "[3, p. 12]" in evidence and "[1, 2]" in evidence


def test_ranges_are_compressed(make_project) -> None:
    root = make_project(**{"content/example/summary.md": "All three [@beta2024; @alpha2025; @gamma2025].\n"})
    _, rendered = _build(root)
    html = str(rendered.summary.html)
    shown = re.sub(r"<[^>]+>", "", re.sub(r'<span class="rg-cite-between">.*?</span>', "", html))
    assert "[1–3]" in shown  # as a sighted reader sees it
    # …and every number is a link of its own: 2 in the part shown on focus and read out, where the dash is not
    assert re.findall(r'href="#(ref-[^"]+)"', html) == ["ref-alpha2025", "ref-beta2024", "ref-gamma2025"]
    spoken = re.sub(r"<[^>]+>", "", re.sub(r'<span aria-hidden="true">.*?</span>', "", html))
    assert "[1, 2, 3]" in spoken


def test_hover_title_is_the_formatted_reference_and_backlinks_exist(make_project) -> None:
    result, rendered = _build(make_project())
    page = result.renderer.page_markdown(rendered)
    parser = _Links()
    parser.feed(page)
    refs = {f"#{e.anchor}": e for e in rendered.references}
    assert parser.cites, "no citation links rendered"
    for number, href, title in parser.cites:
        entry = refs[href]
        assert number.split(",")[0] == str(entry.number)  # `3` or, with a locator, `3, p. 12`
        assert title == entry.formatted.text
    beta = rendered.references[2]
    assert beta.formatted.text.startswith("J. Smith and H. Müller, “A DNA study of élève outcomes,”")
    for entry in rendered.references:
        assert entry.backlinks
        for backlink in entry.backlinks:
            assert f'id="{backlink}"' in page


def test_source_mix_always_shows_peer_reviewed(make_project) -> None:
    root = make_project(**{"content/example/report.yml": MINIMAL_REPORT.replace("Unproven [@beta2024].", "Unproven."),
                           "content/example/summary.md": "Alpha [@alpha2025; @gamma2025].\n",
                           "content/example/evidence.md": "Only agency [@alpha2025].\n"})
    result = build_project(Project(root=root))
    [rendered] = result.rendered
    assert {m.kind: m.count for m in rendered.source_mix} == {"peer-reviewed": 0, "state-media": 1, "news": 1}
    assert [p.message for p in result.problems.warnings] == ["source `beta2024` is not cited by any report"]


def test_golden_report_page(make_project) -> None:
    """The page body HTML for the minimal project. Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_render.py`."""
    result, rendered = _build(make_project())
    page = result.renderer.page(rendered, permalink="&para;")
    golden = GOLDEN / "minimal_report_page.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(page.html, encoding="utf-8")
    assert page.html == golden.read_text(encoding="utf-8")
    # Share data for the theme's <head>: the question, the verdict as plain text, dates from the revisions; no card
    # (the site layer draws it) and no address (the theme adds the page's own, canonical, address).
    share = {"type": "article", "title": "Does the example hold up?", "description": "Not yet.", "locale": "en_US",
             "published_time": "2026-01-27", "modified_time": "2026-01-27", "authors": ["Test desk"]}
    assert page.meta == {"title": "Example", "description": "Does the example hold up?", "report_share": share}
    assert page.front_matter().startswith('---\ntitle: "Example"\ndescription: "Does the example hold up?"\n'
                                          'report_share: {"type": "article", ')


def test_page_headings_become_the_table_of_contents_with_permalinks(make_project) -> None:
    """What Python-Markdown's toc extension gives a Markdown page, the HTML page gives the engine itself."""
    result, rendered = _build(make_project())
    page = result.renderer.page(rendered, permalink="&para;")
    [h1] = page.toc
    assert (h1["level"], h1["id"], h1["name"]) == (1, "does-the-example-hold-up", "Does the example hold up?")
    assert [(t["level"], t["id"], t["name"]) for t in h1["children"]][:3] == [
        (2, "summary", "Executive summary"), (2, "s1-evidence", "1. The evidence"), (2, "claims", "2. Claims checked")]
    assert all(f'<a class="headerlink" href="#{t["id"]}" title="Permanent link">&para;</a></h2>' in page.html
               for t in h1["children"])
    bare = result.renderer.page(rendered)
    assert "headerlink" not in bare.html and bare.toc == page.toc
    hostile = toc_tokens('<h2 id="x">A &lt;b&gt; &amp; <em>c</em><a class="headerlink" href="#x">¶</a></h2>')
    assert hostile == [{"level": 2, "id": "x", "name": "A &lt;b&gt; &amp; c", "children": []}]


def test_golden_home_page(make_project) -> None:
    """Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_render.py`."""
    result, _ = _build(make_project())
    home = result.renderer.home_page(result.rendered, "Test reports").html
    golden = GOLDEN / "minimal_home.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(home, encoding="utf-8")
    assert home == golden.read_text(encoding="utf-8")
    assert "rg-cite" not in home  # home-page verdicts carry no citation numbers that would point nowhere


def test_rating_definitions_are_text_the_badges_point_to(make_project) -> None:
    """The scale is on the page as text ("How we rate"), and each badge of the verdict and the claims is described
    by its rating's definition there (aria-describedby), not only by a hover title."""
    result, rendered = _build(make_project())
    page = result.renderer.page(rendered)
    html = page.html
    scale = html.split('<h2 id="rating-scale">', 1)[1].split("<h2", 1)[0]
    for rating in result.config.ratings:
        assert f'<dd id="rating-{rating.id}">{rating.description}</dd>' in scale
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert described == ["rating-unproven", "rating-misleading"]  # the verdict, then the one claim
    assert all(f'id="{target}"' in html for target in described)
    assert "rating-scale" in str(page.toc)  # in the table of contents, to jump to


def test_golden_example_report_page() -> None:
    """The Enteromix page body (narratives, claims, every part). Regenerate with
    `UPDATE_GOLDEN=1 pytest tests/test_render.py` after changing content/, bib/ or templates."""
    from .conftest import REPO

    project = Project(root=REPO)
    project.config = None
    result = build_project(project)
    assert result.ok
    [rendered] = result.rendered
    page = result.renderer.page(rendered, permalink="&para;").html
    golden = GOLDEN / "enteromix_page.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(page, encoding="utf-8")
    assert page == golden.read_text(encoding="utf-8")
    assert page.count('<li class="rg-ref"') == 16


def test_one_address_for_a_report_in_the_page_json_ld_pdf_and_feed(make_project) -> None:
    """`Cite this report` linked the site's root, the JSON-LD a relative path and the PDF nothing: all now use
    urls.report_url."""
    from generator.history.versions import SiteHistory
    from generator.publish.feed import atom_feed
    from generator.publish.pdf import page_url
    from generator.urls import report_url

    from .conftest import MINIMAL_MKDOCS

    assert report_url("", "example") == "example/"
    assert report_url("https://desk.example/reports/", "example", 2, "changes/") == \
        "https://desk.example/reports/example/v2/changes/"
    root = make_project(**{"mkdocs.yml": "site_url: https://desk.example/reports/\n" + MINIMAL_MKDOCS})
    result, _ = _build(root)
    [rendered] = result.rendered
    address = "https://desk.example/reports/example/"
    body = result.renderer.page(rendered).html
    cite = body[body.index('id="cite"'):]
    assert f'<a href="{address}">{address}</a>' in cite
    assert f"{address}#claim-" in body  # the ClaimReview's url
    assert page_url(rendered) == address
    assert f'href="{address}v1/"' in atom_feed(result, SiteHistory.current(result))


FORMS = ("Plain [@beta2024]. Two [@alpha2025; @beta2024]. Locator [@beta2024 p. 12]. "
         "Prefixed [see @beta2024, pp. 33-35; also @alpha2025, chap. 1]. @beta2024 says so; @beta2024 [p. 4] adds. "
         "Smith says [-@beta2024]. A handle \\@someone and mail me@example.org.\n")


def _style_project(make_project, style: str):
    from .conftest import MINIMAL_MKDOCS

    return _build(make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + f"      csl_style: {style}\n",
                                  "content/example/evidence.md": FORMS}))


def _text(markup: object) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(markup)))


def test_each_form_in_a_numeric_style(make_project) -> None:
    _, rendered = _style_project(make_project, "ieee")
    text = _text(rendered.sections[0].html)
    assert "Plain [3]. Two [1, 3]. Locator [3, p. 12]." in text
    assert "Prefixed see [3, pp. 33–35], also [1, Ch. 1]." in text
    assert "[3] says so; [3, p. 4] adds. Smith says [3]." in text
    assert "A handle @someone and mail me@example.org." in text


def test_each_form_in_an_author_date_style(make_project) -> None:
    result, rendered = _style_project(make_project, "apa")
    text = _text(rendered.sections[0].html)
    assert "Plain (Smith & Müller, 2024). Two (Example Agency Newsroom, 2025; Smith & Müller, 2024)." in text, text
    assert "Locator (Smith & Müller, 2024, p. 12)." in text
    assert "Prefixed (see Smith & Müller, 2024, pp. 33–35; also Example Agency Newsroom, 2025, Chapter 1)." in text
    assert "Smith & Müller (2024) says so; Smith & Müller (2024, p. 4) adds. Smith says (2024)." in text
    # the list: alphabetical, unnumbered, each title once
    assert [e.source.key for e in rendered.references] == sorted(
        (e.source.key for e in rendered.references), key=lambda k: rendered.references[[x.source.key for x in
                                                                                         rendered.references].index(k)].formatted.text)
    page = result.renderer.page_markdown(rendered)
    assert "rg-references-unnumbered" in page and "rg-ref-number" not in page
    for entry in rendered.references:
        title = entry.source.text("title")
        assert entry.formatted.text.count(title.split(":")[0]) == 1, entry.formatted.text
    # every link goes to a reference of the page, with the reference as its hover text; back-links return
    parser = _Links()
    parser.feed(page)
    refs = {f"#{e.anchor}": e for e in rendered.references}
    assert parser.cites and all(refs[href].formatted.text == title for _, href, title in parser.cites)
    for entry in rendered.references:
        assert all(f'id="{b}"' in page for b in entry.backlinks)


def test_year_suffixes_disambiguate_within_a_report(make_project) -> None:
    from .conftest import MINIMAL_BIB

    twin = MINIMAL_BIB.replace("@article{beta2024,", "@article{beta2024b,\n  title = {Another study},\n"
                               "  author = {Smith, Jane and M{\\\"u}ller, Hans},\n  journal = {J},\n  date = {2024},\n"
                               "  doi = {10.1000/b},\n  kind = {peer-reviewed},\n}\n\n@article{beta2024,")
    root = make_project(**{"bib/sources.bib": twin})
    from .conftest import MINIMAL_MKDOCS

    (root / "mkdocs.yml").write_text(MINIMAL_MKDOCS + "      csl_style: apa\n", encoding="utf-8")
    (root / "content/example/evidence.md").write_text("Both [@beta2024; @beta2024b].\n", encoding="utf-8")
    _, rendered = _build(root)
    assert "(Smith & Müller, 2024a, 2024b)" in _text(rendered.sections[0].html)


def test_unknown_style_names_get_the_closest_names(make_project, capsys) -> None:
    from generator.cli import main

    from .conftest import MINIMAL_MKDOCS

    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      csl_style: vancover\n"})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "mkdocs.yml: error: CSL style `vancover` is not a style name (did you mean `vancouver`" in out


def test_back_links_are_named_by_the_place_they_lead_to(make_project) -> None:
    """Each back-link's accessible name says where its citation is (section and paragraph, the verdict, a claim),
    so no name leads to two places; the visible text stays short."""
    result, rendered = _build(make_project(**{
        "content/example/evidence.md": "First paragraph [@beta2024, p. 12].\n\nSecond [@alpha2025] and again [@alpha2025].\n"}))
    page = result.renderer.page(rendered).html
    for entry in rendered.references:  # within a reference's list, each name leads to one place
        item = page.split(f'id="{entry.anchor}"')[1].split("</li>")[0]
        names = re.findall(r'<a href="#cite-\d+" class="rg-backlink" aria-label="\d+: ([^"]+)">↩\d+</a>', item)
        assert len(names) == len(set(names)) == len(entry.backlinks), entry.anchor
    alpha = page.split('id="ref-alpha2025"')[1].split("</li>")[0]
    assert re.findall(r'aria-label="\d+: ([^"]+)">(↩\d+)', alpha) == [
        ("Back to the citation in the verdict", "↩1"),
        ("Back to the citation in “Executive summary”, paragraph 1", "↩2"),
        ("Back to citation 1 in section 1, paragraph 2", "↩3"),
        ("Back to citation 2 in section 1, paragraph 2", "↩4"),
        ("Back to citation 1 in section 2, claim 1", "↩5"),
        ("Back to citation 2 in section 2, claim 1", "↩6"),
        ("Back to citation 3 in section 2, claim 1", "↩7"),
    ]
    beta = page.split('id="ref-beta2024"')[1].split("</li>")[0]
    assert "Back to the citation in section 1, paragraph 1" in beta
    assert "Back to the citation in section 3, paragraph 1" in beta  # the bottom line, section 3


def test_claims_and_narratives_are_headings_under_their_section(make_project) -> None:
    report = MINIMAL_REPORT.replace("bottom_line:", """narratives:
  - {title: "Alpha cures all", promoted_by: "Fans", summary: "A story [@alpha2025].", sources: [alpha2025]}
bottom_line:""")
    result, rendered = _build(make_project(**{"content/example/report.yml": report}))
    page = result.renderer.page(rendered).html
    headings = re.findall(r"<h([23])[^>]*>(.*?)</h\1>", page, re.S)
    levels = [(level, re.sub(r"<[^>]+>", "", text).strip()) for level, text in headings]
    claims = levels.index(("2", "2. Claims checked"))
    assert levels[claims + 1] == ("3", "Misleading Claim Alpha works.")
    assert levels[claims + 2] == ("2", "3. Competing narratives")
    assert levels[claims + 3] == ("3", "Alpha cures all")
    assert 'aria-labelledby="claim-first-claim-title"' in page
    assert [t["name"] for t in toc_tokens(page)][:4] == ["Does the example hold up?"]  # h3: not in the contents


@pytest.mark.parametrize(("field", "tag"), [
    ("langid = {russian},", "ru"), ("langid = {ngerman},", "de"), ("language = {French},", "fr"),
    ("language = {pt_br},", "pt-BR"), ("langid = {klingon},", ""), ("language = {qq},", ""), ("", ""),
])
def test_a_reference_in_another_language_says_so(make_project, field: str, tag: str) -> None:
    bib = MINIMAL_BIB.replace("  langid = {russian},\n", "")
    bib = bib.replace("  kind = {state-media},", f"  {field}\n  kind = {{state-media}},")
    result, rendered = _build(make_project(**{"bib/sources.bib": bib}))
    page = result.renderer.page(rendered).html
    gamma = page.split('id="ref-gamma2025"')[1].split("</li>")[0]
    assert ('<p class="rg-ref-text">' if not tag else f'<p class="rg-ref-text" lang="{tag}">') in gamma
    assert page.count(" lang=") == (1 if tag else 0)  # the other references give no language


def test_a_title_the_desk_describes_in_brackets_is_not_in_the_source_language(make_project) -> None:
    bib = MINIMAL_BIB.replace("title = {Гамма: первая фаза}", "title = {[Gamma announces its first phase]}")
    result, rendered = _build(make_project(**{"bib/sources.bib": bib}))
    assert " lang=" not in result.renderer.page(rendered).html
