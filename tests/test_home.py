"""The home page for hundreds of reports: newest first, a plain list without JavaScript, a filter by rating, topic
and language with a sort whose state lives in the address, topic pages, and a sidebar of topics (both engines)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.home import write_home_project
from generator.cli import main
from generator.render.report import topic_names
from generator.urls import topic_slug

from .conftest import MINIMAL_REPORT, minimal_files
from .test_browser import ARGS, CHROMIUM, _QuietHandler


def test_a_topic_has_one_folder_whatever_its_script_and_case() -> None:
    assert topic_slug("Public health") == "public-health"
    assert topic_slug("Онкология") == "онкология"
    assert topic_slug("COVID-19 / vaccines") == "covid-19-vaccines"
    assert topic_slug(" — ") == ""


def test_topics_are_checked_with_file_and_line(make_project, capsys) -> None:
    root = make_project()
    report = root / "content" / "example" / "report.yml"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("checked_on:", "topics: [Vaccines, vaccines, '—']\nchecked_on:"), encoding="utf-8")
    assert main(["check", str(root)]) == 1
    out = "".join(capsys.readouterr())
    line = text[:text.index("checked_on:")].count("\n") + 1
    assert f"report.yml:{line}: error: topic `vaccines` is listed twice (as `Vaccines`)" in out
    assert "topic `—` has no letter or digit" in out


def _with_topics(topics: str, question: str = "Does the example hold up?") -> str:
    """MINIMAL_REPORT with `topics: <topics>` (a YAML flow list) before `checked_on`, and its own question."""
    return MINIMAL_REPORT.replace("checked_on:", f"topics: {topics}\nchecked_on:").replace(
        "Does the example hold up?", question)


def _reports(**topics: str) -> dict[str, str]:
    """Files for one report per keyword (its folder), each naming the given topics; the example's sections."""
    files = minimal_files()
    sections = {name: files[f"content/example/{name}"] for name in ("summary.md", "evidence.md")}
    out: dict[str, str | None] = {"content/example/report.yml": None, "content/example/summary.md": None,
                                  "content/example/evidence.md": None}
    for folder, listed in topics.items():
        out[f"content/{folder}/report.yml"] = _with_topics(listed, f"Does {folder} hold up?")
        out.update({f"content/{folder}/{name}": text for name, text in sections.items()})
    return out  # type: ignore[return-value]


def _topic_line() -> int:
    return MINIMAL_REPORT[:MINIMAL_REPORT.index("checked_on:")].count("\n") + 1


@pytest.mark.parametrize("name", ["topics", "assets", "search"])
def test_a_report_folder_at_the_sites_own_addresses_is_an_error(name, make_project, capsys) -> None:
    """`topics/` holds the topic pages, `assets/` the home page's script and the theme's files, `search/` the
    engines' search index: a report there would be published among them."""
    root = make_project(**{f"content/{name}/{path.rsplit('/', 1)[1]}": text for path, text in minimal_files().items()
                           if path.startswith("content/example/")})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert (f"content/{name}/report.yml:1: error: reserved slug `{name}`: the report in content/{name}/ would be "
            f"published at `{name}/`, where the site publishes ") in out
    assert f"  hint: rename the report folder (its URL), e.g. to `{name}-report`" in out
    assert out.count(": error: ") == 1  # the report itself is still checked, and is fine
    assert main(["new", name, "--path", str(root / "elsewhere")]) == 2  # `report new` refuses it up front
    assert f"report: `{name}` is reserved" in capsys.readouterr().err and not (root / "elsewhere").exists()


def test_a_desk_page_at_the_topic_pages_addresses_is_an_error(make_project, capsys) -> None:
    """docs/topics.md and anything under docs/topics/ would replace or pass for generated topic pages; reserved
    even while no report names a topic (the minimal project names none)."""
    root = make_project(**{"docs/topics.md": "# Our topics\n", "docs/topics/health.md": "# Health\n",
                           "docs/topics/chart.png": "not really a PNG"})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert ("docs/topics.md:1: error: reserved address `topics/`: this page would be published where the site "
            "publishes its topic pages") in out
    assert "docs/topics/health.md:1: error: reserved address `topics/`: docs/ may not publish files inside" in out
    assert "docs/topics/chart.png: error: reserved address `topics/`" in out
    assert out.count("even before a report names a topic") == 3
    assert out.count(": error: ") == 3


def test_different_topics_sharing_an_address_are_an_error_naming_both(make_project, capsys) -> None:
    root = make_project(**_reports(a="[C++, Vaccines]", b="[C]", c="['vaccines!']", d="[C, Oncology]",
                                   e="['Health', 'health!']"))
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    line = _topic_line()
    assert (f"content/b/report.yml:{line}: error: topic `C` and topic `C++` (in content/a/report.yml) would share "
            "one page, `topics/c/` (1 more report spells it so too)") in out
    assert (f"content/c/report.yml:{line}: error: topic `vaccines!` and topic `Vaccines` (in content/a/report.yml) "
            "would share one page, `topics/vaccines/`") in out
    assert (f"content/e/report.yml:{line}: error: topics `Health` and `health!` would share one page, "
            "`topics/health/`") in out
    assert out.count("  hint: a topic's page address keeps only its letters and digits") == 3
    assert out.count(": error: ") == 3  # d, which spells `C` as b does, is counted in b's error


def test_one_topic_in_different_case_or_spacing_is_shown_in_the_majority_spelling(make_project, capsys) -> None:
    root = make_project(**_reports(a="[vaccines, public  health]", b="[Vaccines, Public health]",
                                   c="[' Vaccines', 'PUBLIC HEALTH']"))
    assert main(["build", str(root), "--no-pdf"]) == 0
    assert ": error: " not in capsys.readouterr().out
    site = root / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert '<option value="vaccines">Vaccines (3)</option>' in home
    assert '<option value="public-health">public health (3)</option>' in home  # a tie of three: the first report's
    links = re.findall(r'<a class="rg-topic" href="topics/([^/]+)/">([^<]*)</a>', home)
    assert sorted(set(links)) == [("public-health", "public health"), ("vaccines", "Vaccines")] and len(links) == 6
    page = (site / "topics" / "vaccines" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<h1[^>]*>Vaccines", page) and ">vaccines<" not in page and "> Vaccines<" not in page
    assert set(re.findall(r'<a class="rg-topic" href="\.\./\.\./topics/vaccines/">([^<]*)</a>', page)) == {"Vaccines"}
    index = (site / "topics" / "index.html").read_text(encoding="utf-8")
    assert '<a href="vaccines/">Vaccines</a>' in index and '<a href="public-health/">public health</a>' in index
    assert not (site / "topics" / "Vaccines").exists()


def test_the_majority_spelling_of_a_topic_breaks_ties_by_report_order() -> None:
    def rendered(slug: str, *topics: str) -> SimpleNamespace:
        return SimpleNamespace(report=SimpleNamespace(slug=slug, meta=SimpleNamespace(topics=list(topics))))

    reports = [rendered("c", "VACCINES"), rendered("b", "vaccines"), rendered("a", "Vaccines", "Oncology")]
    assert topic_names(reports) == {"vaccines": "Vaccines", "oncology": "Oncology"}  # type: ignore[arg-type]
    reports.append(rendered("d", "VACCINES"))
    assert topic_names(reports)["vaccines"] == "VACCINES"  # type: ignore[arg-type]


def test_a_topic_longer_than_60_characters_is_an_error_at_its_line(make_project, capsys) -> None:
    long = "The long-term effects of a vaccine on public health in rural areas"
    assert len(long) > 60
    root = make_project(**{"content/example/report.yml": _with_topics(f"[Vaccines, '{long}']")})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert (f"content/example/report.yml:{_topic_line()}: error: topic `{long[:40]}…` is {len(long)} characters "
            "long; a topic may have at most 60") in out
    assert "  hint: name the topic with a word or two, such as `vaccines` or `public health`" in out
    assert out.count(": error: ") == 1
    root = make_project(**{"content/example/report.yml": _with_topics(f"['{long[:60]}']")})
    assert main(["check", str(root)]) == 0


def _cards(html: str) -> list[str]:
    return re.findall(r'<article class="rg-home-report" data-rating="([^"]*)"', html)


def _dates(html: str) -> list[str]:
    section = html[html.index('<div class="rg-home">'):]
    return re.findall(r'class="rg-home-stamp">[^<]*<time datetime="([\d-]+)"', section)


@pytest.fixture(scope="module", params=["mkdocs", "zensical"])
def desk(tmp_path_factory, request):
    """Twelve reports (ratings, topics, languages and dates spread over them), built with each engine."""
    if request.param == "zensical":
        pytest.importorskip("zensical")
    root = write_home_project(tmp_path_factory.mktemp("home") / "desk", 12)
    assert main(["build", str(root), "--engine", request.param]) == 0
    return root, request.param


def test_the_home_page_is_a_complete_list_newest_first_without_javascript(desk) -> None:
    root, _ = desk
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert len(_cards(html)) == 12
    dates = _dates(html)
    assert len(dates) == 12 and dates == sorted(dates, reverse=True)
    assert '<form class="rg-home-filter" hidden' in html  # shown by the script only: without it, the plain list
    assert '<script src="assets/report/home.js" defer></script>' in html
    assert (root / "site" / "assets" / "report" / "home.js").is_file()
    assert "12 reports, newest first" in html


def test_each_topic_has_its_page_and_the_sidebar_lists_topics_not_reports(desk) -> None:
    root, engine = desk
    home = (root / "site" / "index.html").read_text(encoding="utf-8")
    topics = set(re.findall(r'href="topics/([^/"]+)/"', home))
    assert topics and all((root / "site" / "topics" / slug / "index.html").is_file() for slug in topics)
    index = (root / "site" / "topics" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{slug}/"' in index for slug in topics)
    vaccines = (root / "site" / "topics" / "vaccines" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<a href="\.\./\.\./(report-\d+)/">', vaccines)
    expected = [p.parent.name for p in sorted((root / "content").glob("*/report.yml"))
                if "Vaccines" in p.read_text(encoding="utf-8").split("topics:")[1].split("\n")[0]]
    assert sorted(listed) == sorted(expected) and listed
    dates = _dates(vaccines)
    assert dates == sorted(dates, reverse=True)
    nav = re.search(r'<nav class="md-nav md-nav--primary".*?</nav>', home, re.S)
    assert nav is not None, engine
    assert "topics/vaccines/" in nav.group(0) and "report-0001/" not in nav.group(0)


@contextlib.contextmanager
def _home_in_chromium(root: Path) -> Iterator[tuple[Any, str]]:
    """The built site on 127.0.0.1, its home page open in headless Chromium (1280 px) once the filter shows; the
    page and the site's address."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is required for browser tests (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(root / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base)
            page.wait_for_selector("form.rg-home-filter:not([hidden])")
            yield page, base
            browser.close()
    finally:
        server.shutdown()


def test_the_filter_in_chromium_keeps_its_state_in_the_address(desk) -> None:
    """Choose a rating and a topic: only matching cards stay, the address says so and a reload restores it; the
    back button undoes a step; "Show all" clears the filter; the title sort orders the cards; no sideways scroll at
    320 px."""
    visible = """() => [...document.querySelectorAll('.rg-home-report')].filter(c => !c.hidden)
        .map(c => [c.dataset.rating, c.dataset.topics, c.dataset.title])"""
    with _home_in_chromium(desk[0]) as (page, base):
        assert len(page.evaluate(visible)) == 12
        rating = page.eval_on_selector("select[name=rating]", "s => s.options[1].value")
        page.select_option("select[name=rating]", rating)
        page.select_option("select[name=topic]", "vaccines")
        shown = page.evaluate(visible)
        assert shown and all(r == rating and "vaccines" in t.split() for r, t, _ in shown)
        assert page.url == f"{base}?rating={rating}&topic=vaccines"
        status = page.text_content(".rg-home-count")
        assert status == f"Reports shown: {len(shown)} of 12"
        assert page.get_attribute(".rg-home-count", "aria-live") == "polite"
        page.reload()
        page.wait_for_selector("form.rg-home-filter:not([hidden])")
        assert page.evaluate(visible) == shown
        assert page.input_value("select[name=topic]") == "vaccines"
        page.go_back()
        assert page.url == f"{base}?rating={rating}"
        assert all(r == rating for r, _, _ in page.evaluate(visible))
        page.click("form.rg-home-filter button[type=reset]")
        page.wait_for_function("() => !location.search")
        assert len(page.evaluate(visible)) == 12
        page.select_option("select[name=sort]", "title")
        titles = [t for _, _, t in page.evaluate(visible)]
        assert titles != [t for _, _, t in shown] and len(titles) == 12
        assert page.evaluate("(t) => t.every((x, i) => !i || new Intl.Collator('en', {sensitivity: 'base'})"
                             ".compare(t[i - 1], x) <= 0)", titles)
        assert page.url == f"{base}?sort=title"
        page.goto(base + "?topic=no-such-topic&rating=<b>")
        page.wait_for_selector("form.rg-home-filter:not([hidden])")
        assert len(page.evaluate(visible)) == 12  # an unknown value in the address is no filter
        page.set_viewport_size({"width": 320, "height": 800})
        page.goto(base + "?topic=vaccines")
        page.wait_for_selector("form.rg-home-filter:not([hidden])")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_filtering_in_chromium_touches_only_the_cards_that_change_and_moves_none(desk) -> None:
    """A filter change sets `hidden` only on cards whose visibility changes and moves no card (no childList
    mutation of the list); only a change of sort moves them, once; the visible cards and their order are as before."""
    watch = """() => {
        window.seen = {moved: 0, hidden: 0};
        const list = document.querySelector('.rg-home');
        new MutationObserver(records => records.forEach(r => {
            if (r.type === 'childList') { window.seen.moved += r.addedNodes.length + r.removedNodes.length; }
            else if (r.target.parentNode === list) { window.seen.hidden += 1; }
        })).observe(list, {childList: true, subtree: true, attributes: true, attributeFilter: ['hidden']});
    }"""
    flush = "() => new Promise(done => setTimeout(() => done(window.seen), 0))"  # observers run before timers
    state = "() => [...document.querySelectorAll('.rg-home-report')].map(c => [c.dataset.title, c.hidden])"

    def changed(before: list[list[object]], after: list[list[object]]) -> int:
        assert [title for title, _ in before] == [title for title, _ in after]
        return sum(was[1] != now[1] for was, now in zip(before, after, strict=True))

    with _home_in_chromium(desk[0]) as (page, base):
        page.evaluate(watch)
        order = [title for title, _ in page.evaluate(state)]
        rating = page.eval_on_selector("select[name=rating]", "s => s.options[1].value")
        expected = 0
        for name, value in (("rating", rating), ("topic", "vaccines"), ("rating", ""), ("topic", "oncology")):
            before = page.evaluate(state)
            page.select_option(f"select[name={name}]", value)
            after = page.evaluate(state)
            expected += changed(before, after)
            assert expected > 0 and page.evaluate(flush) == {"moved": 0, "hidden": expected}, (name, value)
            assert [title for title, _ in after] == order
        page.select_option("select[name=sort]", "title")
        moved = page.evaluate(flush)["moved"]
        assert moved > 0 and [title for title, _ in page.evaluate(state)] != order
        by_title = [title for title, _ in page.evaluate(state)]
        page.select_option("select[name=topic]", "")
        assert page.evaluate(flush)["moved"] == moved  # a filter after a sort moves nothing either
        assert [title for title, _ in page.evaluate(state)] == by_title
        page.select_option("select[name=sort]", "date")
        assert page.evaluate(flush)["moved"] > moved and [title for title, _ in page.evaluate(state)] == order


def test_an_empty_site_has_a_home_page_without_a_filter(make_project, tmp_path: Path) -> None:
    root = make_project()
    for path in sorted((root / "content").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "bib" / "sources.bib").write_text("", encoding="utf-8")
    assert main(["build", str(root), "--no-pdf"]) == 0
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "rg-home-filter" not in html and "home.js" not in html and not (root / "site" / "topics").exists()


def test_the_list_pages_are_left_out_of_the_search_index(desk) -> None:
    """The home page and the topic pages only list reports by title: search finds each report's own page. (Indexed,
    the home page of a desk of 2 000 reports exceeds Zensical's search index limit and the build fails.)"""
    root, engine = desk
    index = root / "site" / ("search/search_index.json" if engine == "mkdocs" else "search.json")
    text = index.read_text(encoding="utf-8")
    import json

    data = json.loads(text)
    items = data.get("docs") or data.get("items") or []
    locations = {str(item.get("location", "")).split("#")[0] for item in items}
    assert locations, "the search index lists the reports"
    assert not {loc for loc in locations if loc in ("", "index.html") or loc.startswith("topics/")}, locations
    assert any(loc.startswith("report-") for loc in locations)
