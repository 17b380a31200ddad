"""The home page at scale: `python -m bench.home [N] [--keep DIR]` (default 1000 reports).

N short synthetic reports (ratings, topics, languages and dates spread over them, a few citations each) built with
`report build`: the home page's HTML size and number of cards, and in headless Chromium the time from page load to
the filtered list, and the median time of one filter change (a rating, a topic, the sort), read by the page's own
`performance.now()`. Prints numbers; asserts nothing about time. `--keep DIR` leaves the built project in DIR (for
screenshots)."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.server
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

RATINGS = ("accurate", "mostly-accurate", "unproven", "misleading", "false")
TOPICS = ("Vaccines", "Oncology", "Elections", "Climate", "Public health", "Russia", "Ukraine", "Migration",
          "Energy", "Artificial intelligence", "Nutrition", "Economy")
LANGUAGES = ("en", "en", "en", "de", "fr", "ru", "uk", "es")
SUBJECTS = ("a new cancer vaccine", "a vaccine trial", "a ballot count", "a heatwave record", "a hospital report",
            "a ministry statement", "a viral video", "an energy price cap", "a chatbot study", "a diet claim",
            "an inflation figure", "a border statistic")

BIB = """@article{alpha2025,
  author = {Alpha, Ann and Beta, Ben},
  title = {A peer-reviewed study},
  journal = {Journal of Examples},
  year = {2025},
  volume = {3},
  pages = {1--9},
  doi = {10.5555/alpha},
  kind = {peer-reviewed}
}

@online{gamma2025,
  author = {{Example News}},
  title = {An announcement reported},
  url = {https://news.example.org/a},
  urldate = {2025-06-01},
  date = {2025-05-30},
  kind = {news}
}

@report{delta2024,
  author = {{Example Agency}},
  title = {An official statement},
  institution = {Example Agency},
  year = {2024},
  url = {https://agency.example.org/statement},
  kind = {official}
}
"""


def write_home_project(root: Path, n: int, seed: int = 1, site_name: str = "Evidence desk") -> Path:
    """A project of `n` small reports whose ratings, topics, languages and dates vary (deterministic for a seed)."""
    rng = random.Random(seed)
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "about.md").write_text("# About\n\nA synthetic desk.\n", encoding="utf-8")
    (root / "bib").mkdir(exist_ok=True)
    (root / "bib" / "sources.bib").write_text(BIB, encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        f"site_name: {site_name}\ndocs_dir: docs\ntheme:\n  name: material\n  language: en\n"
        "plugins:\n  - search\n  - report:\n      csl_style: ieee\n      pdf: false\n", encoding="utf-8")
    start = dt.date(2024, 1, 1)
    for i in range(n):
        subject = SUBJECTS[i % len(SUBJECTS)]
        rating = RATINGS[rng.randrange(len(RATINGS))]
        topics = rng.sample(TOPICS, rng.randint(1, 3))
        checked = start + dt.timedelta(days=rng.randrange(900))
        folder = root / "content" / f"report-{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.yml").write_text("\n".join([
            f'question: "Is it true what was said about {subject} (case {i})?"',
            f'short_title: "Case {i}"',
            "authors:", '  - {name: "Evidence desk", organization: true}',
            f"checked_on: {checked.isoformat()}",
            f"language: {LANGUAGES[i % len(LANGUAGES)]}",
            f"topics: [{', '.join(topics)}]",
            f'verdict: {{rating: "{rating}", text: "What we found about {subject} [@alpha2025; @gamma2025]."}}',
            "sections:", '  - {kind: evidence, title: "Evidence", file: evidence.md}',
            "bottom_line:", '  conclusion: "As the evidence stands [@delta2024]."',
            '  would_change: "New data."',
            "revisions:", f'  - {{version: 1, date: {checked.isoformat()}, note: "First published."}}', ""]),
            encoding="utf-8")
        (folder / "evidence.md").write_text("The study [@alpha2025] and the agency [@delta2024].\n", encoding="utf-8")
    return root


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def measure(site: Path, repeats: int = 5) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"]
    found: dict[str, float] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            loads = []
            for _ in range(repeats):
                page.goto(base + "?rating=false&topic=vaccines")
                page.wait_for_selector("form.rg-home-filter:not([hidden])")
                loads.append(page.evaluate("performance.now()"))
            found["load to filtered list (ms)"] = statistics.median(loads)
            changes = []
            for value in ["unproven", "accurate", "misleading", ""] * repeats:
                changes.append(page.evaluate("""(value) => {
                    const select = document.querySelector('select[name=rating]');
                    const start = performance.now();
                    select.value = value;
                    select.dispatchEvent(new Event('change', {bubbles: true}));
                    document.body.offsetHeight;  // the layout the change causes
                    return performance.now() - start;
                }""", value))
            found["one filter change (ms, median)"] = statistics.median(changes)
            sorts = []
            for value in ["title", "date"] * repeats:
                sorts.append(page.evaluate("""(value) => {
                    const select = document.querySelector('select[name=sort]');
                    const start = performance.now();
                    select.value = value;
                    select.dispatchEvent(new Event('change', {bubbles: true}));
                    document.body.offsetHeight;
                    return performance.now() - start;
                }""", value))
            found["one sort change (ms, median)"] = statistics.median(sorts)
            browser.close()
    finally:
        server.shutdown()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="build the project in this folder and leave it there")
    args = parser.parse_args()
    from generator.cli import main as report

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-home-"))
    if root.exists():
        shutil.rmtree(root)
    write_home_project(root, args.n)
    start = time.perf_counter()
    assert report(["build", str(root), "--no-pdf"]) == 0
    built = time.perf_counter() - start
    home = (root / "site" / "index.html").read_bytes()
    cards = home.count(b'class="rg-home-report"')
    print(f"{args.n} reports: report build {built:.1f} s; home page {len(home) / 1000:.0f} KB "
          f"({len(home) / max(cards, 1):.0f} bytes a card), {cards} cards")
    for name, value in measure(root / "site").items():
        print(f"  {name}: {value:.1f}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
