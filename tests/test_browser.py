"""Browser: the built site in headless Debian Chromium (Playwright drives /usr/bin/chromium; no browser download)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module", params=["mkdocs", "zensical", "mkdocs-apa", "zensical-apa"])
def served_site(tmp_path_factory, request):
    """Build the minimal fixture project once per engine (and once in an author-date style) and serve site/ on
    127.0.0.1."""
    from .conftest import MINIMAL_MKDOCS, minimal_files, write_tree

    engine, _, style = request.param.partition("-")
    files = minimal_files()
    if style:
        files["mkdocs.yml"] = MINIMAL_MKDOCS + f"      csl_style: {style}\n"
    root = write_tree(tmp_path_factory.mktemp("browser") / "project", files)
    import os

    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    if engine == "zensical":
        pytest.importorskip("zensical")
    assert main(["build", str(root), "--engine", engine]) == 0
    handler = functools.partial(_QuietHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def page(served_site):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is required for browser tests (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page
        browser.close()


def _in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.top < window.innerHeight; }""",
        selector,
    )


def test_clicking_a_citation_scrolls_its_reference_into_view(served_site, page) -> None:
    _, base = served_site
    page.goto(f"{base}/example/")
    citation = page.locator("#s1-evidence ~ div a.rg-cite-ref").first
    href = citation.get_attribute("href")
    assert href == "#ref-beta2024"
    assert not _in_viewport(page, href)
    citation.click()
    page.wait_for_function("(h) => location.hash === h", arg=href)
    page.wait_for_timeout(300)
    assert _in_viewport(page, href)
    assert page.evaluate("(h) => getComputedStyle(document.querySelector(h)).backgroundColor", href) != "rgba(0, 0, 0, 0)"


def test_hover_shows_the_formatted_reference(served_site, page) -> None:
    root, base = served_site
    [rendered] = build_project(Project(root=root)).rendered
    expected = {f"#{e.anchor}": e.formatted.text for e in rendered.references}
    page.goto(f"{base}/example/")
    citation = page.locator(".rg-summary a.rg-cite-ref").nth(1)
    href = citation.get_attribute("href")
    citation.hover()
    tooltip = page.locator(".md-tooltip, [role=tooltip]").filter(has_text=expected[href]).first
    tooltip.wait_for(state="visible", timeout=5000)
    assert tooltip.inner_text().strip() == expected[href]


def test_a_back_link_returns_to_its_citation(served_site, page) -> None:
    _, base = served_site
    page.goto(f"{base}/example/#references")
    back = page.locator("#ref-beta2024 a.rg-backlink").last
    target = back.get_attribute("href")
    assert target and target.startswith("#cite-")
    back.click()
    page.wait_for_function("(h) => location.hash === h", arg=target)
    page.wait_for_timeout(300)
    assert _in_viewport(page, target)
    assert page.locator(f"{target} a.rg-cite-ref[href='#ref-beta2024']").count() >= 1
