"""The example report as published: version 3 (a correction) over versions 1 and 2 from the repository's own git
history — the correction notice and rating-change markers (golden), the v2 archive's banner, `report diff` from v2
to v3, and reference notes free of the desk's private field."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.build import Project, build_project
from generator.cli import main
from generator.history.versions import collect_history
from generator.publish.site import site_files
from generator.render.report import PageOutput

from .conftest import REPO, pdf_text

GOLDEN = Path(__file__).parent / "golden"
SLUG = "enteromix"


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A clone of this repository (its history: versions 1 and 2) with the working tree's example on top (the
    latest version), built as `report build` builds it."""
    try:
        shallow = _git("rev-parse", "--is-shallow-repository") == "true"
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("the repository's git history is needed (this is not a git clone)")
    if shallow:
        pytest.skip("the repository's full git history is needed (this is a shallow clone)")
    clone = tmp_path_factory.mktemp("example") / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True, capture_output=True)
    for name in ("content", "bib", "docs"):
        shutil.rmtree(clone / name)
        shutil.copytree(REPO / name, clone / name)
    shutil.copy(REPO / "mkdocs.yml", clone / "mkdocs.yml")
    project = Project(root=clone)
    result = build_project(project)
    assert result.ok, [p.format() for p in result.problems.errors]
    history = collect_history(project, result)
    return {"root": clone, "result": result, "history": history, "files": site_files(result, history=history)}


def _html(example: dict[str, Any], path: str) -> str:
    page = example["files"][path]
    assert isinstance(page, PageOutput)
    return page.html


def test_every_version_of_the_example_is_published(example: dict[str, Any]) -> None:
    versions = example["history"].reports[SLUG].versions
    assert sorted(versions) == [1, 2, 3]
    assert versions[3].rendered.report.latest_revision.kind == "correction"


def test_correction_notice_and_markers_match_golden(example: dict[str, Any]) -> None:
    """The notice under the stamp and every rating-change marker of the example, as readers see them.
    Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_example.py`."""
    page = _html(example, f"{SLUG}/index.md")
    parts = re.findall(r'<p class="rg-stamp">.*?</p>|<div class="rg-correction-notice".*?</div>'
                       r'|<article class="rg-claim" id="[^"]+"[^>]*>\n<h3 class="rg-claim-title".*?</h3>\n'
                       r'(?:<ul class="rg-rating-changes">.*?</ul>\n)?', page, re.S)
    actual = re.sub(r'(<span class="rg-pdf-size">)\([^)]*\)', r"\1(size)", "\n\n".join(parts) + "\n")  # fonts vary
    golden = GOLDEN / "enteromix_v3_corrections.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")
    # what the golden file holds, said plainly
    assert page.index('class="rg-stamp"') < page.index("rg-correction-notice") < page.index('class="rg-verdict"')
    assert "Sources last accessed <time datetime=\"2026-01-27\">" in page
    for claim, old, new, version in (("efficacy-100", "Misleading", "False", 2),
                                     ("tumour-reduction-60-80", "Unproven", "Misleading", 2),
                                     ("phase1-cohort-48", "Mostly accurate", "Unproven", 3),
                                     ("no-peer-reviewed-data", "Accurate", "Mostly accurate", 3)):
        card = page.split(f'id="claim-{claim}"')[1].split("</article>")[0]
        assert (f"Rating changed from <strong>{old}</strong> to <strong>{new}</strong> on" in card
                and f"(version {version}) · <a href=\"v{version}/changes/\">What changed</a>" in card)
    assert "Rating changed" not in page.split('id="claim-ready-for-use"')[1].split("</article>")[0]


def test_the_version_2_archive_points_to_version_3(example: dict[str, Any]) -> None:
    v2 = _html(example, f"{SLUG}/v2/index.md")
    banner = v2.split('<div class="rg-archive-banner"')[1].split("</div>")[0]
    assert "You are reading <strong>version 2 of 3</strong>, corrected on" in banner
    assert '<a href="../">read the latest</a>' in banner
    assert '<span class="rg-revision-kind">Corrected in version 3</span>' in banner
    assert '<a href="../v3/changes/">See what changed</a>' in banner
    v1 = _html(example, f"{SLUG}/v1/index.md")
    assert "Corrected in version 2" in v1 and "Corrected in version 3" in v1


def test_report_diff_from_version_2_to_3_lists_the_re_ratings(example: dict[str, Any],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    v2 = example["history"].reports[SLUG].versions[2].commit
    assert main(["diff", v2, "--path", str(example["root"])]) == 0
    out = capsys.readouterr().out
    assert "version 2 → 3 (correction)" in out
    assert ("- Re-rated `phase1-cohort-48`: “A Phase I trial of Enteromix has begun, in which 48 volunteers will "
            "take part.” — *Mostly accurate* → *Unproven*") in out
    assert ("- Re-rated `no-peer-reviewed-data`: “There are no peer-reviewed publications of Enteromix trial data.” "
            "— *Accurate* → *Mostly accurate*") in out
    assert "**Verdict:** *Unproven* (rating unchanged)" in out


def test_no_published_reference_note_carries_the_private_field(example: dict[str, Any]) -> None:
    result = example["result"]
    private = {key: source.private["annotation"] for key, source in result.bib.sources.items()
               if "annotation" in source.private}
    assert len(private) == len(result.bib.sources) == 16  # every source keeps its research notes to itself
    rendered = result.rendered[0]
    for entry in rendered.references:
        note = entry.source.text("note")
        assert note and not re.search(r"\bG[1-6]\b|Title from URL|[Dd]ate not shown|inferred", note), entry.source.key
    files = example["files"]
    published = [files[f"{SLUG}/index.md"].html, files[f"{SLUG}/index.md"].search_html(), files["index.md"].html]
    published += [files[name] for name in (f"{SLUG}/sources.bib", f"{SLUG}/sources.json", f"{SLUG}/v3/sources.bib",
                                           "feed.xml")]
    published.append(pdf_text(files[f"{SLUG}/{SLUG}.pdf"]))
    for text in published:
        assert isinstance(text, str)
        for key, value in private.items():
            assert value not in text, key
        assert not re.search(r"\bG[1-6]\b", text)


def test_the_example_in_an_author_date_style(tmp_path: Path) -> None:
    """Switched to APA, the example cites by author and year and lists its sources alphabetically, without numbers
    and with each title once (no repository history needed: the working tree alone)."""
    root = tmp_path / "desk"
    for name in ("content", "bib", "docs"):
        shutil.copytree(REPO / name, root / name)
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "csl_style: ieee" in config
    (root / "mkdocs.yml").write_text(config.replace("csl_style: ieee", "csl_style: apa"), encoding="utf-8")
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    [rendered] = result.rendered
    assert not rendered.numeric
    body = re.sub(r"<[^>]+>", "", str(rendered.sections[2].html))
    assert re.search(r"\((?:[^()]*; )?(?:Medisite|Wikipedia|TASS), (?:n\.d\.|20\d\d)", body), body
    assert not re.search(r"\[\d+(?:[–,]\s?\d+)*\]", body)  # no numbers
    texts = [entry.formatted.text for entry in rendered.references]
    assert texts == sorted(texts, key=lambda t: re.sub(r"[^\w ]", "", t).casefold())  # alphabetical
    def folded(text: str) -> str:  # the style may change case and quotes
        return re.sub(r"[’‘'\"“”]", "", text).casefold()

    for entry in rendered.references:
        title = folded(entry.source.text("title").strip("[]").split(":")[0])[:24]
        outside_links = re.sub(r"https?://\S+", "", entry.formatted.text)  # a URL may spell the title too
        assert folded(outside_links).count(title) == 1, (entry.source.key, entry.formatted.text)
    page = result.renderer.page_markdown(rendered)
    assert 'class="rg-references rg-references-unnumbered"' in page and "rg-ref-number" not in page
