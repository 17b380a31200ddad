"""Labels in the reader's language: the shipped catalogues are complete and consistent with the code, translations
stay text (never markup), a report's language selects its labels, dates and CSL terms, a German site shows no
English label on its pages or in its PDF, and a right-to-left report is laid out right to left."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from markupsafe import Markup

from generator import i18n
from generator.cli import main

from .conftest import REPO, pdf_text

LOCALES = REPO / "generator" / "locales"


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_the_template_lists_exactly_the_strings_the_code_prints(tmp_path: Path) -> None:
    """`scripts/i18n.sh extract` would not change report.pot: no label is printed without being translatable."""
    out = tmp_path / "report.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(REPO / "babel.cfg"), "-k", "N_", "--no-location",
                                "-o", str(out), str(REPO)])
    assert _ids(_read(out)) == _ids(_read(LOCALES / "report.pot")), "run scripts/i18n.sh update"


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_every_shipped_catalogue_is_complete_and_consistent(language: str) -> None:
    catalog = _read(LOCALES / language / "LC_MESSAGES" / "report.po")
    template = _read(LOCALES / "report.pot")
    assert str(catalog.locale) == language
    assert _ids(catalog) == _ids(template), "run scripts/i18n.sh update, then translate the new strings"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(form.strip() for form in forms), f"{language}: untranslated {message.id!r}"
        if isinstance(message.id, tuple):
            assert len(forms) == catalog.num_plurals, message.id
        names = set(re.findall(r"%\((\w+)\)s", message.id if isinstance(message.id, str) else message.id[0]))
        for form in forms:
            assert set(re.findall(r"%\((\w+)\)s", form)) <= names | {"n"}, (language, message.id, form)
            assert "<" not in form and "&" not in form, (language, form)  # text: the templates add the markup
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []


def test_a_catalogue_compiles_and_a_language_falls_back_by_tag() -> None:
    assert i18n.labels("de").text("Download PDF") == "PDF herunterladen"
    assert i18n.labels("de-AT").text("Download PDF") == "PDF herunterladen"  # nearest catalogue by tag
    assert i18n.labels("ru").plural("%(n)s source", "%(n)s sources", 3) == "3 источника"
    assert i18n.labels("ru").plural("%(n)s source", "%(n)s sources", 11) == "11 источников"
    assert i18n.labels("ar").plural("%(n)s source", "%(n)s sources", 2) == "مصدران"
    assert i18n.labels("zz").text("Download PDF") == "Download PDF"  # no catalogue: English
    assert i18n.locale_name("../../etc") == "en" and i18n.locale_name("de-XX") == "de"
    assert i18n.direction("ar") == "rtl" and i18n.direction("he-IL") == "rtl" and i18n.direction("de") == "ltr"


def test_a_translation_is_text_and_its_values_are_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalogue cannot put markup on a page: its text is escaped, then the values go in (escaped unless they are
    markup the template made, such as a `<time>` element)."""
    folder = tmp_path / "pt" / "LC_MESSAGES"  # a language Babel knows and we ship no catalogue for
    folder.mkdir(parents=True)
    (folder / "report.po").write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
                                      'msgid "Checked on %(date)s"\nmsgstr "<img src=x onerror=alert(1)> %(date)s"\n',
                                      encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        words = i18n.Labels("pt")
        html = words.markup("Checked on %(date)s", date=Markup("<time>1 May</time>"))
        assert html == "&lt;img src=x onerror=alert(1)&gt; <time>1 May</time>"
        assert words.markup("Checked on %(date)s", date="<b>") == "&lt;img src=x onerror=alert(1)&gt; &lt;b&gt;"
        assert words.text("Checked on %(date)s", date="1 May") == "<img src=x onerror=alert(1)> 1 May"  # plain text
    finally:
        i18n.catalogue.cache_clear()


def _german_example(root: Path) -> Path:
    for name in ("content", "bib", "docs"):
        shutil.copytree(REPO / name, root / name)
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(config.replace("  language: en", "  language: de"), encoding="utf-8")
    report = root / "content" / "enteromix" / "report.yml"
    report.write_text(report.read_text(encoding="utf-8").replace("\nlanguage: en\n", "\n"), encoding="utf-8")
    return root


def _english_labels() -> list[str]:
    """The fixed parts of every label (placeholders cut out) that a reader would notice in English."""
    parts = set()
    for message in _read(LOCALES / "report.pot"):
        if not message.id:
            continue
        text = message.id if isinstance(message.id, str) else message.id[0]
        for part in re.split(r"%\(\w+\)s", text):
            part = part.strip(" .,:;()—–“”")
            if len(part) >= 6 and " " in part or part in ("Verdict", "Claim", "Sources", "References", "Accessed"):
                parts.add(part)
    return sorted(parts)


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_a_german_site_shows_no_english_label_on_its_pages_or_in_its_pdf(tmp_path: Path, engine: str) -> None:
    """The example report on a site whose language is German (the report's text stays English): every label, date
    and CSL term is German, on the page and in the PDF; an English label is one of ours found in the output but in
    none of the report's own files. Both engines (the PDF is the same core's: built once)."""
    if engine == "zensical":
        pytest.importorskip("zensical")
    root = _german_example(tmp_path / "de")
    assert main(["build", str(root), "--engine", engine, *(["--no-pdf"] if engine == "zensical" else [])]) == 0
    source = " ".join(p.read_text(encoding="utf-8") for p in (root / "content" / "enteromix").iterdir())
    source += (root / "bib" / "enteromix.bib").read_text(encoding="utf-8")
    english = [label for label in _english_labels() if label not in source]
    page = _visible_text((root / "site" / "enteromix" / "index.html").read_text(encoding="utf-8"))
    outputs = [("page", page)]
    if engine == "mkdocs":
        outputs.append(("PDF", pdf_text(next((root / "site" / "enteromix").glob("*.pdf")).read_bytes())))
    for name, text in outputs:
        found = [label for label in english if label in text]
        assert found == [], f"English labels on the German {name}: {found}"
        assert re.search("Geprüft am|Korrigiert am", text) and "Versionsgeschichte" in text and "Literatur" in text, name
        assert re.search(r"\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|"
                         r"Dezember) \d{4}", text), name  # Babel's German dates
        assert "Available:" not in text and "Accessed:" not in text, name  # the style's CSL terms, from Pandoc's de-DE
    assert re.search(r"Verfügbar|Zugegriffen", page)
    assert "Diesen Bericht zitieren" in page and "Wie wir bewerten" in page
    assert "Dieser Bericht stützt sich auf" in page
    changes = _visible_text((root / "site" / "feed.xml").read_text(encoding="utf-8"))
    assert "Überarbeitungen der Berichte" in changes


RTL_REPORT = """\
question: "هل يعالج اللقاح السرطان؟"
authors: [{name: "فريق التحقق", organization: true}]
checked_on: 2026-05-04
language: ar
verdict: {rating: unproven, text: "لا توجد أدلة منشورة كافية [@alpha2025]."}
sections:
  - {file: summary.md, title: "الملخص", kind: summary}
  - {file: evidence.md, title: "الأدلة", kind: evidence}
claims:
  - id: cures
    claim: "اللقاح يشفي السرطان."
    claimant: "وسائل إعلام"
    rating: unproven
    sources: [alpha2025]
bottom_line:
  conclusion: "لم يثبت شيء بعد."
  would_change: "نشر نتائج تجربة سريرية."
revisions:
  - {version: 1, date: 2026-05-04, note: "النسخة الأولى."}
"""


def test_a_report_in_another_language_gets_its_own_labels_direction_and_csl_terms(make_project) -> None:
    """On an English site, a report whose report.yml says `language: ar` is labelled in Arabic and laid out right
    to left (its block carries lang and dir); the site's other pages stay English."""
    root = make_project(**{"content/example/report.yml": RTL_REPORT,
                           "content/example/summary.md": "ملخص [@alpha2025].\n",
                           "content/example/evidence.md": "الأدلة [@beta2024; @gamma2025].\n"})
    assert main(["build", str(root), "--no-pdf"]) == 0
    page = (root / "site" / "example" / "index.html").read_text(encoding="utf-8")
    assert '<div class="rg-lang" lang="ar" dir="rtl">' in page
    assert "تاريخ التحقق" in page and "سجل المراجعات" in page and "المراجع" in page
    assert "٤ مايو ٢٠٢٦" in page or "4 مايو 2026" in page  # Babel's Arabic date
    assert "Checked on" not in _visible_text(page.split('class="rg-lang"', 1)[1])
    home = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "Checked on" in _visible_text(home) or "تاريخ التحقق" in home


def test_a_language_that_is_no_tag_is_an_error_with_a_hint(make_project, capsys) -> None:
    root = make_project()
    report = root / "content" / "example" / "report.yml"
    report.write_text(report.read_text(encoding="utf-8").replace("checked_on:", 'language: "en; rm -rf"\nchecked_on:'),
                      encoding="utf-8")
    assert main(["check", str(root)]) == 1
    err = "".join(capsys.readouterr())
    assert "is not a language tag" in err and "BCP 47" in err and "report.yml:" in err


def test_the_wheel_build_compiles_every_catalogue(tmp_path: Path) -> None:
    import runpy

    compile_catalogues = runpy.run_path(str(REPO / "setup.py"), run_name="setup")["compile_catalogues"]
    build = tmp_path / "build"
    shutil.copytree(LOCALES, build / "generator" / "locales")
    compile_catalogues(build)
    for language in i18n.SHIPPED:
        mo = build / "generator" / "locales" / language / "LC_MESSAGES" / "report.mo"
        assert mo.is_file() and mo.stat().st_size > 1000, language


def test_a_right_to_left_report_reads_right_to_left_in_chromium(make_project) -> None:
    """The Arabic fixture report in headless Chromium at phone and desktop widths: its block is right to left, the
    verdict's rule is on the reading side (start = right), citations keep their order, nothing scrolls sideways."""
    import functools
    import http.server
    import threading

    from .test_browser import ARGS, CHROMIUM, _QuietHandler

    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is required for browser tests (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    root = make_project(**{"content/example/report.yml": RTL_REPORT,
                           "content/example/summary.md": "ملخص التقرير: لم نجد بيانات منشورة [@alpha2025].\n",
                           "content/example/evidence.md": "الأدلة المتاحة محدودة [@beta2024; @gamma2025].\n"})
    assert main(["build", str(root), "--no-pdf"]) == 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(root / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            for width in (320, 390, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/example/")
                found = page.evaluate("""() => {
                    const verdict = getComputedStyle(document.querySelector('.rg-verdict'));
                    const cite = document.querySelector('.rg-section-evidence .rg-cite');
                    return {dir: getComputedStyle(document.querySelector('.rg-lang')).direction,
                            right: parseFloat(verdict.borderRightWidth), left: parseFloat(verdict.borderLeftWidth),
                            citeDir: getComputedStyle(cite).direction, cite: cite.textContent,
                            scroll: document.documentElement.scrollWidth};
                }""")
                assert found["dir"] == "rtl" and found["right"] > 0 and found["left"] == 0, (width, found)
                assert found["citeDir"] == "ltr" and found["cite"].startswith("[2"), found
                assert found["scroll"] <= width, (width, found)
            browser.close()
    finally:
        server.shutdown()
