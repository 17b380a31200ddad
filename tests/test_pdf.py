"""PDF export: text, layout, links, outline, metadata, fonts, tagging and byte-for-byte reproducibility.

Each PDF is rendered once per module (module-scoped fixtures) and many things are asserted on it.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from generator.build import BuildResult, Project, build_project
from generator.cli import main
from generator.publish import pdf as pdfmod
from generator.publish.pdf import (
    PdfCache,
    export_pdfs,
    human_size,
    keep_spaces_inside_inlines,
    make_job,
    pdf_identifier,
    render_jobs,
)
from generator.render.report import RenderedReport

from .conftest import MINIMAL_REPORT, REPO, minimal_files, write_tree

LETTER_MKDOCS = """\
site_name: Test reports
site_url: https://reports.example.org/
docs_dir: docs
theme:
  name: material
plugins:
  - search
  - report:
      page_size: Letter
"""

# The minimal report with a question that needs escaping, two authors and keywords.
EXAMPLE_REPORT = MINIMAL_REPORT.replace(
    'question: "Does the example hold up?"',
    "question: 'Does the \"example\" <hold> up & why?'",
).replace(
    'authors:\n  - name: "Test desk"\n',
    'authors:\n  - name: "Test desk"\n  - name: "Jane Roe"\nkeywords: [vaccines, "Alpha & Co"]\n',
)

SECOND_REPORT = """\
question: "Is the second example right?"
authors:
  - name: "Test desk"
checked_on: 2026-01-20
verdict:
  rating: accurate
  text: "Yes [@alpha2025]."
sections:
  - {kind: summary, title: "Summary", file: summary.md}
bottom_line:
  conclusion: "Right."
  would_change: "A retraction."
revisions:
  - {version: 1, date: 2026-01-10, kind: update, note: "First published."}
  - {version: 2, date: 2026-01-20, kind: update, note: "Re-checked."}
"""


@dataclass
class Exported:
    """One project, built once, with its PDFs."""

    root: Path
    result: BuildResult
    pdfs: dict[str, pdfmod.PdfOutput]

    def rendered(self, slug: str) -> RenderedReport:
        return next(r for r in self.result.rendered if r.report.slug == slug)

    def reader(self, slug: str) -> PdfReader:
        return PdfReader(io.BytesIO(self.pdfs[slug].data))


def _text(reader: PdfReader, page: int | None = None) -> str:
    pages = reader.pages if page is None else [reader.pages[page]]
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


def _plain(html: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", str(html)).replace("&amp;", "&").replace("&#39;", "'").split())


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The repository's example, copied, built and exported once (A4)."""
    root = tmp_path_factory.mktemp("example")
    for name in ("content", "bib", "docs"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    assert result.renderer is not None
    return Exported(root, result, export_pdfs(result.rendered, result.renderer, workers=1))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """Two small reports (US Letter), exported serially here and in parallel by `report build`."""
    root = write_tree(tmp_path_factory.mktemp("small") / "project", minimal_files(**{
        "mkdocs.yml": LETTER_MKDOCS,
        "content/example/report.yml": EXAMPLE_REPORT,
        "content/second/report.yml": SECOND_REPORT,
        "content/second/summary.md": "Alpha says so [@alpha2025].\n",
    }))
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    assert result.renderer is not None
    return Exported(root, result, export_pdfs(result.rendered, result.renderer, workers=1))


@pytest.fixture(scope="module")
def small_site(small: Exported) -> Path:
    """`report build` of the small project: PDFs are rendered in parallel, inside the MkDocs build."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_MKDOCS_2_WARNING", "1")
        assert main(["build", str(small.root)]) == 0
    return small.root / "site"


# -- contents -------------------------------------------------------------------------------------


def expected_outline(r: RenderedReport) -> list[str]:
    titles = [r.summary.title] if r.summary else []
    titles += [f"{s.number}. {s.title}" for s in r.sections]
    titles.append(f"{r.bottom_line.number}. Bottom line and what would change it")
    titles += ["Follow-up questions"] if r.follow_up else []
    titles += ["Disclaimer"] if r.disclaimer else []
    return [*titles, "How we rate", "Source mix", "References", "Revision history"]


def test_text_has_stamp_sections_claims_and_every_reference(example: Exported) -> None:
    r = example.rendered("enteromix")
    meta = r.report.meta
    reader = example.reader("enteromix")
    fmt = example.result.renderer.format_date  # type: ignore[union-attr]
    first_page = _text(reader, 0)
    assert " ".join(meta.question.split()) in first_page
    assert f"{r.stamp_label} {fmt(meta.checked_on)}" in first_page and f"Version {r.report.version}" in first_page
    assert "VERDICT" in first_page and r.verdict_rating.label in first_page
    text = _text(reader)
    for title in expected_outline(r):
        assert title in text, title
    for claim in r.claims:
        assert _plain(claim.text) in text
        assert claim.rating is not None and claim.rating.label in text
    assert _plain(r.bottom_line.would_change)[:60] in text
    for question in r.follow_up:
        assert _plain(question)[:50] in text
    assert _plain(r.disclaimer)[:50] in text
    references = text[text.rindex("References"):]
    for entry in r.references:
        assert f"[{entry.number}]" in references
        if entry.source.fields.get("urldate"):
            assert "Accessed" in references
    assert "Онковакцина" in references  # Cyrillic titles come through as text, not boxes
    for revision in meta.revisions:
        assert f"Version {revision.version} · {fmt(revision.date)}" in text


def test_page_layout_numbers_and_running_header(example: Exported, small: Exported) -> None:
    reader = example.reader("enteromix")
    pages = len(reader.pages)
    assert pages == example.pdfs["enteromix"].pages > 1
    r = example.rendered("enteromix")
    for index, page in enumerate(reader.pages):
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4
        text = _text(reader, index)
        assert f"{index + 1} / {pages}" in text
        if index:
            fmt = example.result.renderer.format_date  # type: ignore[union-attr]
            assert r.report.short_title in text and f"{r.stamp_label} {fmt(r.report.meta.checked_on)}" in text
    for page in small.reader("example").pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)  # US Letter


def test_outline_entries_are_the_section_titles_and_land_on_them(example: Exported) -> None:
    reader = example.reader("enteromix")
    outline = reader.outline
    assert all(not isinstance(item, list) for item in outline), "one level: the sections"
    assert [item.title for item in outline] == expected_outline(example.rendered("enteromix"))
    for item in outline:
        assert item.title in _text(reader, reader.get_destination_page_number(item))


def _annotations(reader: PdfReader) -> list[tuple[int, dict[str, Any]]]:
    return [(i, a.get_object()) for i, page in enumerate(reader.pages) for a in page.get("/Annots") or []]


def test_links_go_to_references_and_reference_urls(example: Exported) -> None:
    reader = example.reader("enteromix")
    r = example.rendered("enteromix")
    annotations = _annotations(reader)
    uris = {a["/A"]["/URI"]: page for page, a in annotations if "/A" in a and "/URI" in a["/A"]}
    internal = [str(a["/Dest"]) for _, a in annotations if "/Dest" in a]
    destinations = reader.named_destinations
    anchors = {entry.anchor for entry in r.references}
    assert anchors <= set(destinations)
    assert {d for d in internal if d.startswith("ref-")} == anchors  # every citation is a live internal link
    assert all(d in destinations for d in internal)
    for entry in r.references:
        source = entry.source
        doi = f"https://doi.org/{source.doi}" if source.doi else ""
        if doi:
            assert doi in uris
        link = source.url if source.url in uris else doi  # a numeric style may print the DOI instead of the URL
        assert link in uris, entry.anchor
        # No reference is split across pages: it starts and its link ends on the same page.
        assert reader.get_destination_page_number(destinations[entry.anchor]) == uris[link], entry.anchor


# -- metadata, fonts, tagging -----------------------------------------------------------------------


def test_document_metadata_comes_from_content(example: Exported, small: Exported) -> None:
    info = example.reader("enteromix").metadata
    meta = example.rendered("enteromix").report.meta
    assert info.title == meta.question
    assert info.author == ", ".join(a.name for a in meta.authors)
    assert info["/Subject"] == meta.description
    assert info["/CreationDate"] == "D:" + meta.revisions[0].date.strftime("%Y%m%d")  # never the clock
    assert info["/ModDate"] == "D:" + meta.checked_on.strftime("%Y%m%d")
    small_info = small.reader("example").metadata
    assert small_info.title == 'Does the "example" <hold> up & why?'
    assert small_info.author == "Test desk, Jane Roe"
    assert small_info["/Keywords"] == "vaccines, Alpha & Co"
    assert small_info["/Subject"] == small_info.title  # no description: the question
    second = small.reader("second").metadata
    assert (second["/CreationDate"], second["/ModDate"]) == ("D:20260110", "D:20260120")


def test_tagged_for_accessibility(example: Exported) -> None:
    reader = example.reader("enteromix")
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert "/StructTreeRoot" in catalog
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfuaid:part="1"' in xmp


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("slug", ["enteromix", "example"])
def test_every_font_is_embedded(example: Exported, small: Exported, tmp_path: Path, slug: str) -> None:
    exported = example if slug == "enteromix" else small
    path = tmp_path / f"{slug}.pdf"
    path.write_bytes(exported.pdfs[slug].data)
    rows = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert rows
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", row
        assert re.search(r"\+(Noto|DejaVu)", name), row  # the fonts of our CSS stack, resolved by fontconfig
    assert "Гамма: первая фаза" in _text(small.reader("example"))


# -- reproducibility, parallel export, wiring ---------------------------------------------------------


def test_two_exports_are_byte_identical(example: Exported, capsys: pytest.CaptureFixture[str]) -> None:
    """A second export, through `report pdf` in the same process, gives the same bytes."""
    assert main(["pdf", "enteromix", "--path", str(example.root)]) == 0
    written = (example.root / "site" / "enteromix" / "enteromix.pdf").read_bytes()
    assert written == example.pdfs["enteromix"].data
    out = capsys.readouterr().out
    assert f"enteromix: {example.pdfs['enteromix'].pages} pages, {human_size(len(written))}" in out
    file_id = PdfReader(io.BytesIO(written)).trailer["/ID"]
    assert str(file_id[0]) == pdf_identifier(example.rendered("enteromix"))  # fixed, not random


def test_build_renders_in_parallel_with_identical_bytes_and_links_the_pdf(small: Exported, small_site: Path) -> None:
    for slug, output in small.pdfs.items():
        assert (small_site / slug / f"{slug}.pdf").read_bytes() == output.data
        page = (small_site / slug / "index.html").read_text(encoding="utf-8")
        assert f'href="{slug}.pdf"' in page and "Download PDF" in page
        assert f"({human_size(len(output.data))})" in page
    assert (small.pdfs["example"].data != small.pdfs["second"].data)


def test_page_links_back_to_the_online_report(small: Exported) -> None:
    reader = small.reader("example")
    uris = {a["/A"]["/URI"] for _, a in _annotations(reader) if "/A" in a and "/URI" in a["/A"]}
    assert "https://reports.example.org/example/" in uris
    assert "https://example.org/alpha?x=1&y=2" in uris
    assert "https://doi.org/10.1234/example.5678" in uris


def test_cache_reuses_unchanged_pdfs_and_keys_on_every_input(small: Exported, monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = small.result.renderer
    assert renderer is not None
    jobs = [make_job(r, renderer) for r in small.result.rendered]
    cache = PdfCache()
    for job in jobs:
        cache.put(job, small.pdfs[job.slug])

    def must_not_render(job: pdfmod.PdfJob) -> pdfmod.PdfOutput:
        raise AssertionError(f"{job.slug} re-rendered although unchanged")

    monkeypatch.setattr(pdfmod, "render_job", must_not_render)
    outputs = render_jobs(jobs, cache)
    assert {slug: o.data for slug, o in outputs.items()} == {slug: o.data for slug, o in small.pdfs.items()}
    job = jobs[0]
    for changed in (dataclasses.replace(job, page_size="A4"), dataclasses.replace(job, css=job.css + "p{}"),
                    dataclasses.replace(job, html=job.html.replace("</body>", "<p>x</p></body>"))):
        assert changed.key != job.key and cache.get(changed) is None
    assert len(cache) == len(jobs)  # one entry per report: serve rebuilds do not grow it


def test_pdf_command_stops_on_content_errors(make_project, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(**{"content/example/evidence.md": "Unknown [@nosuchkey].\n"})
    assert main(["pdf", "--path", str(root)]) == 1
    assert not (root / "site").exists()
    assert "nosuchkey" in capsys.readouterr().err
    good = make_project(**{"content/example/evidence.md": "Fine [@alpha2025].\n"})
    assert main(["pdf", "exampel", "--path", str(good)]) == 2
    assert "did you mean `example`" in capsys.readouterr().err


# -- units ------------------------------------------------------------------------------------------


def test_spaces_move_inside_inline_elements_without_changing_the_text() -> None:
    html = ('<p>Approval <span class="rg-cite">[<a href="#r">3</a>]</span> and <em>this </em>word\n'
            '<a href="https://x">link</a> <span class="rg-rating">OK</span></p>')
    fixed = keep_spaces_inside_inlines(html)
    assert re.sub(r"<[^>]+>", "", fixed) == re.sub(r"<[^>]+>", "", html)
    assert re.search(r"\s<(span|a|em)\b", fixed.replace(' <span class="rg-rating">', "")) is None
    assert "Approval<span" in fixed and "this</em> word" in fixed and ' <span class="rg-rating">' in fixed


def test_scripts_are_covered_and_missing_glyphs_are_reported() -> None:
    """Cyrillic, Greek, Arabic and Devanagari resolve to installed fonts; a character no font has is reported."""
    html = "<html lang=en><title>t</title><p>Гамма ελληνικά العربية हिन्दी \U0010fffd</p></html>"
    job = pdfmod.PdfJob("glyphs", html, pdfmod.PRINT_CSS.read_text(encoding="utf-8"), REPO.as_uri() + "/", "A4", "0" * 32)
    output = pdfmod.render_job(job)
    assert output.missing_glyphs == ("\U0010fffd",)
    assert output.pages == 1 and output.data.startswith(b"%PDF-1.7")


def test_human_size() -> None:
    assert [human_size(n) for n in (512, 1000, 123_456, 2_345_678)] == ["512 B", "1 KB", "123 KB", "2.3 MB"]


def test_every_link_is_described_for_a_reader_not_by_its_anchor(example: Exported) -> None:
    """WeasyPrint describes a link annotation (/Contents) by its target; the finisher gives each a reader's words."""
    r = example.rendered("enteromix")
    described = [(str(a.get("/Dest", "")), str(a["/Contents"])) for _, a in _annotations(example.reader("enteromix"))]
    assert len(described) > 100
    anchors = {e.anchor: e for e in r.references}
    for target, text in described:
        assert not re.fullmatch(r"[a-z]+(-[\w-]+)*", text), (target, text)  # no anchor id such as ref-tass2025…
        if target in anchors:
            entry = anchors[target]
            assert text == f"Reference {entry.number}: {entry.formatted.text}"
    texts = {text for _, text in described}
    assert "Revision history" in texts and "The full correction note" in texts  # other internal links: their text
    first = r.references[0]
    assert first.source.url in texts  # an external link whose text is its address
