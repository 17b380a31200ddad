"""Accessibility in the browser: axe-core on every kind of page both engines build, at phone and desktop widths, in
the light and the dark palette; and no sideways scrolling on a 320 px screen.

axe-core comes from the npm registry (`scripts/axe-core.sh`, run by scripts/test.sh, installs it into
.cache/tools/axe); Playwright drives Debian's Chromium (no browser download). Each engine's site is built once (the
three-version history repository of tests/gitrepo.py, so there are archived versions and "what changed" pages) and
served on 127.0.0.1; one browser and one page serve every test of the module.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import os
import threading
from pathlib import Path

import pytest

from generator.cli import main

from .conftest import MINIMAL_MKDOCS, MINIMAL_REPORT, REPO
from .gitrepo import V3_REPORT, make_history_repo
from .test_browser import ARGS, CHROMIUM, _QuietHandler

pytestmark = pytest.mark.browser

AXE = REPO / ".cache" / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (320, 390, 1280)
SCHEMES = ("default", "slate")  # Material's light and dark palettes (`data-md-color-scheme` on <body>)
FAILING = ("critical", "serious")

# Every kind of page, by its address in the built site.
PAGES = {
    "report": "example/",
    "archived version": "example/v1/",
    "what changed": "example/v2/changes/",
    "home": "",
    "about": "about/",
    "topics": "topics/",
    "topic": "topics/vaccines/",
}

# Where our markup lives: the article (the page's content area, which holds everything our templates render) and
# the stylesheets we add apply only inside it. A violation counts as the theme's own only when every one of its
# nodes lies outside the article.
CONTENT = "article"

# Violations in the theme's own chrome (header, navigation, footer), which neither engine lets a site change without
# overriding the theme: excluded by rule and selector, and only for nodes outside the article.
THEME_EXCLUSIONS: dict[str, str] = {
    # Material's search overlay is a `role="dialog"` without an accessible name (mkdocs-material 9.x header).
    "aria-dialog-name": ".md-search",
    "color-contrast": ", ".join((
        ".md-copyright",  # Material's "Made with Material for MkDocs" footer: #7f7f7f on #171717 is 4.47:1, not 4.5
        ".md-nav__link .md-ellipsis",  # Zensical's active navigation entry: #526cfe on #eef0ff (3.75:1)
        ".md-search__button",  # Zensical's search button in the dark palette: #6f7073 on #1a1b1e (3.47:1)
    )),
}

# The example's theme settings (permalinks, tooltips, navigation) with Material's light/dark palette toggle: the
# palette stylesheet, and so the dark scheme, is only on pages of a site that configures a palette.
A11Y_MKDOCS = MINIMAL_MKDOCS.replace("""    - content.tooltips
""", """    - content.tooltips
    - navigation.top
    - search.highlight
    - toc.follow
  palette:
    - scheme: default
      primary: indigo
      toggle: {icon: material/brightness-7, name: Switch to dark mode}
    - scheme: slate
      primary: indigo
      toggle: {icon: material/brightness-4, name: Switch to light mode}
markdown_extensions:
  - attr_list
  - toc:
      permalink: true
""")

# A narrative in the newest version, so that report pages show every block the templates have.
V3_WITH_NARRATIVE = V3_REPORT.replace("bottom_line:", """narratives:
  - title: "Alpha cures everything"
    promoted_by: "Alpha's fans"
    summary: "A story that grew from one press release [@alpha2025]."
    sources: [alpha2025]
bottom_line:""").replace("\nchecked_on:", "\ntopics: [Vaccines, Oncology]\nchecked_on:", 1)

# A second report, so that the home page shows its filter (rating, topic, sort) and a topic lists two reports.
SECOND_REPORT = MINIMAL_REPORT.replace("\nchecked_on:", "\ntopics: [Vaccines]\nchecked_on:", 1).replace(
    "Does the example hold up?", "Does the second example hold up?")


@pytest.fixture(scope="module", params=["mkdocs", "zensical"])
def site(tmp_path_factory, request):
    """The history repository (v1 → correction v2 → update v3) built with one engine and served on 127.0.0.1."""
    if not AXE.exists():
        pytest.fail("axe-core is required for the accessibility tests: run `bash scripts/axe-core.sh`")
    engine = request.param
    if engine == "zensical":
        pytest.importorskip("zensical")
    root = tmp_path_factory.mktemp(f"a11y-{engine}") / "project"
    make_history_repo(root, A11Y_MKDOCS, v3_files={
        "content/example/report.yml": V3_WITH_NARRATIVE, "content/second/report.yml": SECOND_REPORT,
        "content/second/summary.md": "A second report [@alpha2025].\n",
        "content/second/evidence.md": "The study [@beta2024] and the agency [@gamma2025].\n"})
    mkdocs_log = logging.getLogger("mkdocs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_MKDOCS_2_WARNING", "1")
        mp.setattr(mkdocs_log, "handlers", list(mkdocs_log.handlers))  # the build's log handler, bound to this
        mp.setattr(mkdocs_log, "level", mkdocs_log.level)  # capture, goes when the site is built (capsys tests)
        assert main(["build", str(root), "--engine", engine]) == 0
    handler = functools.partial(_QuietHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield engine, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is required for browser tests (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    yield page
    page.close()


def _open(page, url: str, width: int, scheme: str) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(url)
    # the palette switch, like the page's own entrance, runs CSS transitions: colours are measured once they end
    page.evaluate("""async (s) => {
        document.body.setAttribute('data-md-color-scheme', s);
        await new Promise(requestAnimationFrame);
        const finite = document.getAnimations().filter(a => a.effect.getComputedTiming().endTime !== Infinity);
        await Promise.all(finite.map(a => a.finished.catch(() => null)));
    }""", scheme)
    dark = page.evaluate("() => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);"
                         " return r + g + b < 200; }")
    assert dark == (scheme == "slate"), f"the {scheme} palette is not applied to {url}"


def _axe(page) -> list[dict]:
    """axe-core's violations on the page as it is; each node marked `ours` unless it lies outside the article, and
    `excluded` when it is the theme's and THEME_EXCLUSIONS names it for its rule."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async ([content, exclusions]) => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => {
                const el = n.target.length === 1 ? document.querySelector(n.target[0]) : null;
                const ours = !el || !!el.closest(content);
                const excluded = !ours && !!exclusions[v.id] && !!el.closest(exclusions[v.id]);
                return {target: n.target.join(' '), html: n.html.slice(0, 200), ours, excluded,
                        summary: n.failureSummary};
              }),
            }));
        }""",
        [CONTENT, THEME_EXCLUSIONS],
    )


def scan(page, base: str, kind: str) -> dict[tuple[int, str], list[dict]]:
    """Every (width, scheme) of one page kind: its violations."""
    out = {}
    for width in WIDTHS:
        for scheme in SCHEMES:
            _open(page, f"{base}/{PAGES[kind]}", width, scheme)
            out[(width, scheme)] = _axe(page)
    return out


@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_no_serious_violation_on_any_page(site, page, kind: str) -> None:
    engine, base = site
    found = scan(page, base, kind)
    if os.environ.get("AXE_REPORT"):  # counts per impact, for a before/after comparison
        counts: dict[str, int] = {}
        rules: dict[str, set[str]] = {}
        for violations in found.values():
            for v in violations:
                counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
                for n in v["nodes"]:
                    where = "ours" if n["ours"] else "theme, excluded" if n["excluded"] else "theme"
                    rules.setdefault(v["id"], set()).add(f"{v['impact']} {where}: {n['target']}")
        with Path(os.environ["AXE_REPORT"]).open("a", encoding="utf-8") as out:
            out.write(json.dumps({"engine": engine, "kind": kind, "counts": counts,
                                  "rules": {k: sorted(v) for k, v in rules.items()}}) + "\n")
    failures = [
        f"{width}px {scheme}: {v['id']} ({v['impact']}) {v['help']}: {n['target']} {n['html']}\n    {n['summary']}"
        for (width, scheme), violations in found.items() for v in violations if v["impact"] in FAILING
        for n in v["nodes"] if not n["excluded"]
    ]
    assert not failures, "\n".join(failures)


def test_the_report_page_never_scrolls_sideways_on_a_320_px_screen(site, page) -> None:
    _, base = site
    for path in (PAGES["report"], PAGES["archived version"], PAGES["what changed"]):
        _open(page, f"{base}/{path}", 320, "default")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320, path


def test_each_back_link_is_named_for_the_place_it_leads_to(site, page) -> None:
    """The name a screen reader gives each back-link matches where its citation is on the page."""
    _, base = site
    _open(page, f"{base}/{PAGES['report']}", 1280, "default")
    checked = page.evaluate(
        """() => [...document.querySelectorAll('a.rg-backlink')].map(a => {
            const target = document.getElementById(a.getAttribute('href').slice(1));
            const headings = [...document.querySelectorAll('article h2')].filter(
                h => h.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_FOLLOWING);
            const section = headings.length ? headings[headings.length - 1].textContent.trim() : '';
            return {name: a.getAttribute('aria-label'), section, verdict: !!target.closest('.rg-verdict'),
                    claim: !!target.closest('.rg-claim'), text: a.textContent};
        })""")
    assert len(checked) >= 10
    for link in checked:
        name = link["name"]
        assert link["text"].startswith("↩") and len(link["text"]) <= 3
        if name.endswith("the verdict"):
            assert link["verdict"], link
        elif " in section " in name:
            number = name.split(" in section ")[1].split(",")[0]
            assert link["section"].startswith(f"{number}. "), link
            assert link["claim"] == (", claim " in name), link
        else:  # an unnumbered section, by its title
            assert f"“{link['section'].rstrip('¶').strip()}”" in name, link


def test_nothing_of_ours_is_said_only_in_a_tooltip(site, page) -> None:
    """Neither engine's tooltip (Material's `content.tooltips`, shown for `title`) closes on Escape, so nothing of
    ours may need one: a citation's title is the reference its link leads to, a rating's is the definition its
    aria-describedby reads out, and an unknown source shows its key."""
    _, base = site
    _open(page, f"{base}/{PAGES['report']}", 1280, "default")
    titled = page.evaluate(
        """() => [...document.querySelectorAll('article [title]')].filter(e => !e.classList.contains('headerlink'))
            .map(e => {
              const href = e.getAttribute('href') || '';
              const target = href.startsWith('#') ? document.getElementById(href.slice(1)) : null;
              const described = document.getElementById(e.getAttribute('aria-describedby') || '');
              return {cls: e.className, title: e.getAttribute('title'),
                      at: target ? target.querySelector('.rg-ref-text')?.textContent : null,
                      described: described ? described.textContent : null};
            })""")
    assert titled
    for element in titled:
        if "rg-cite-ref" in element["cls"]:
            assert element["at"] == element["title"], element
        elif "rg-rating" in element["cls"]:
            assert element["described"] is None or element["described"] == element["title"], element
            assert element["title"] in page.inner_text("#rating-scale ~ dl"), element
        else:
            pytest.fail(f"a title of ours that is not a citation or a rating: {element}")
