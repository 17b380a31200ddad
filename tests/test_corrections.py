"""Corrections where readers look, and dates as they are: the notice under the stamp of a corrected report, the
rating-change marker on each re-rated claim (page, PDF, ClaimReview), the stamp's two dates, reference dates, and
the bib fields a desk keeps private."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.history.versions import collect_history, corrections
from generator.publish.pdf import print_html
from generator.publish.site import build_site, site_files
from generator.render.report import Corrections, RatingChange, correction_notice

from .conftest import MINIMAL_BIB, MINIMAL_REPORT, pdf_text, write_tree
from .gitrepo import make_history_repo


@pytest.fixture(autouse=True)
def _quiet_mkdocs(monkeypatch):
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


@pytest.fixture(scope="module")
def history_repo(tmp_path_factory) -> Path:
    """v1 → correction v2 (a claim re-rated) → update v3 (the verdict re-rated), committed once for the module."""
    root = tmp_path_factory.mktemp("corrections") / "project"
    make_history_repo(root)
    return root


def _at(history_repo: Path, tmp_path: Path, tag: str) -> Path:
    """A clone of the history repository with `tag` checked out (its latest version is that tag's)."""
    clone = tmp_path / f"clone-{tag}"
    subprocess.run(["git", "clone", "-q", str(history_repo), str(clone)], check=True, capture_output=True)
    subprocess.run(["git", "checkout", "-q", tag], cwd=clone, check=True, capture_output=True)
    return clone


def _site(root: Path) -> dict[str, object]:
    project = Project(root=root)
    result = build_project(project)
    assert result.ok, [p.format() for p in result.problems.errors]
    return site_files(result, history=collect_history(project, result))


def _jsonld(html: str) -> list[dict]:
    match = re.search(r'<script type="application/ld\+json">\s*(.*?)\s*</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def test_every_rerated_claim_and_verdict_carries_its_marker_after_an_update(history_repo: Path) -> None:
    files = _site(history_repo)
    page = files["example/index.md"].html  # type: ignore[union-attr]
    claim = page.split('id="claim-first-claim"')[1].split("</article>")[0]
    assert ('Rating changed from <strong>Misleading</strong> to <strong>False</strong> on '
            '<time datetime="2026-02-03">February 3, 2026</time> (version 2) · <a href="v2/changes/">What changed</a>'
            in claim)
    verdict = page.split('<div class="rg-verdict">')[1].split("</div>")[0]
    assert ('Rating changed from <strong>Unproven</strong> to <strong>Misleading</strong> on '
            '<time datetime="2026-03-10">March 10, 2026</time> (version 3)' in verdict)
    # a claim added in version 3 has no history, and an update re-checks: no correction notice on the page
    second = page.split('id="claim-second-claim"')[1].split("</article>")[0]
    assert "Rating changed" not in second
    assert "rg-correction-notice" not in page
    assert page.index("rg-stamp") < page.index("rg-verdict")
    # archives show each version as it was, under their banner: no markers of later changes
    assert "Rating changed" not in files["example/v2/index.md"].html  # type: ignore[union-attr]


def test_claimreview_says_when_and_how_a_rating_was_corrected(history_repo: Path) -> None:
    files = _site(history_repo)
    reviews = {r["url"].rsplit("#", 1)[1]: r for r in _jsonld(files["example/index.md"].html)  # type: ignore[union-attr]
               if r["@type"] == "ClaimReview"}
    first = reviews["claim-first-claim"]
    assert first["dateModified"] == "2026-02-03"
    assert first["correction"] == [{"@type": "CorrectionComment", "datePublished": "2026-02-03",
                                    "text": "Rating changed from Misleading to False in version 2."}]
    assert first["reviewRating"]["alternateName"] == "False"
    assert "correction" not in reviews["claim-second-claim"] and "dateModified" not in reviews["claim-second-claim"]


def test_a_corrected_report_shows_the_notice_under_its_stamp_on_page_and_pdf(history_repo: Path, tmp_path: Path) -> None:
    root = _at(history_repo, tmp_path, "v2")
    project = Project(root=root)
    result = build_project(project)
    history = collect_history(project, result)
    found = corrections(history.reports["example"])
    assert [(c.version, c.old_id, c.new_id) for c in found.claims["first-claim"]] == [(2, "misleading", "false")]
    files = site_files(result, history=history)
    page = files["example/index.md"].html  # type: ignore[union-attr]
    notice = page.split('<div class="rg-correction-notice"')[1].split("</div>")[0]
    assert 'Corrected on <time datetime="2026-02-03">February 3, 2026</time></strong> (version 2): ' \
           "Version 1 said the result was in people; it was in mice." in notice
    assert ('<li>“<a href="#claim-first-claim">Alpha works.</a>” — rating changed from <strong>Misleading</strong> to '
            "<strong>False</strong></li>") in notice
    assert '<a href="v2/changes/">What changed in version 2</a> · <a href="#v2">The full correction note</a>' in notice
    stamp, rest = page.split('<div class="rg-correction-notice"')
    assert 'class="rg-stamp">Corrected on <time datetime="2026-02-03">' in stamp and "rg-verdict" in rest
    assert "Version 2, corrected on" in page  # the citation line says what the date is
    # the PDF says the same, from the same history
    rendered = result.rendered[0]
    printed = print_html(rendered, result.renderer, found)  # type: ignore[arg-type]
    text = " ".join(re.sub(r"<[^>]+>", " ", printed).split())
    assert "rg-correction-notice" in printed and "“ Alpha works. ” — rating changed from Misleading to False" in text
    assert "Rating changed from Misleading to False on February 3, 2026 (version 2)" in text
    assert 'data-running-stamp="Corrected on February 3, 2026 · Version 2"' in printed
    # archives of version 1 point to the correction, and say what their own date means
    v1 = files["example/v1/index.md"].html  # type: ignore[union-attr]
    assert "version 1 of 2</strong>, checked on" in v1 and "Corrected in version 2" in v1


def test_a_later_editorial_revision_keeps_the_notice_and_a_revision_summary_heads_it() -> None:
    from generator.reports.model import Revision

    class Rendered:  # the three things correction_notice reads
        claims: list = []
        language = "en"
        checked_revision = Revision(version=2, date="2026-02-03", kind="correction", note="Long note.",
                                    summary="One line.")

    notice = correction_notice(Rendered(), Corrections(changes_hrefs={2: "v2/changes/"}))  # type: ignore[arg-type]
    assert notice is not None and notice.revision.headline == "One line." and notice.changes_href == "v2/changes/"
    Rendered.checked_revision = Revision(version=3, date="2026-03-01", kind="update", note="Re-checked.")
    assert correction_notice(Rendered(), Corrections()) is None  # type: ignore[arg-type]


def test_markers_need_history_and_say_nothing_without_it(make_project) -> None:
    root = make_project(**{"content/example/report.yml": MINIMAL_REPORT.replace(
        "  - {version: 1, date: 2026-01-27, kind: update, note: \"First published.\"}\n",
        "  - {version: 1, date: 2026-01-20, kind: update, note: \"First published.\"}\n"
        "  - {version: 2, date: 2026-01-27, kind: correction, note: \"Fixed the claim.\", "
        "summary: \"We fixed the claim.\", sources_reaccessed: false}\n")})
    site = build_site(Project(root=root))  # not a git repository: no archives, no re-ratings to show
    assert site.ok
    page = site.pages["example/index.md"].html
    assert "Rating changed" not in page
    assert "(version 2): We fixed the claim.</p>" in page and "What changed in version 2" not in page
    assert "The sources were not accessed again for this revision." in page


def test_the_stamp_tells_when_the_sources_were_last_accessed(make_project) -> None:
    later = MINIMAL_REPORT.replace("checked_on: 2026-01-27", "checked_on: 2026-02-03").replace(
        "  - {version: 1, date: 2026-01-27", "  - {version: 1, date: 2026-02-03")
    site = build_site(Project(root=make_project(**{"content/example/report.yml": later})))
    stamp = site.pages["example/index.md"].html.split('<p class="rg-stamp">')[1].split("</p>")[0]
    assert stamp.startswith('Checked on <time datetime="2026-02-03">February 3, 2026</time> · '
                            '<span class="rg-stamp-accessed">Sources last accessed <time datetime="2026-01-27">'
                            "January 27, 2026</time></span> · Version 1")
    same = build_site(Project(root=make_project()))  # checked on the day the sources were read: one date
    stamp = same.pages["example/index.md"].html.split('<p class="rg-stamp">')[1].split("</p>")[0]
    assert "Sources last accessed" not in stamp and stamp.startswith("Checked on")


def test_a_year_only_in_the_url_is_not_a_date_the_reference_gives(make_project) -> None:
    bib = MINIMAL_BIB.replace("url = {https://example.org/alpha?x=1&y=2}",
                              "url = {https://example.org/2025/06/01/alpha}")
    site = build_site(Project(root=make_project(**{"bib/sources.bib": bib})))
    page = site.pages["example/index.md"].html
    alpha = page.split('id="ref-alpha2025"')[1].split("</li>")[0]
    assert "https://example.org/2025/06/01/alpha" in alpha and "· Published June 1, 2025" in alpha
    beta = page.split('id="ref-beta2024"')[1].split("</li>")[0]
    assert "2024" in beta.split('class="rg-ref-meta"')[0] and "Published" not in beta  # the style gives its year


def test_an_online_first_date_shows_beside_the_issue_year(make_project) -> None:
    bib = MINIMAL_BIB.replace("  date = {2024-03-05},\n", "  date = {2024},\n  onlinedate = {2023-08-24},\n")
    root = make_project(**{"bib/sources.bib": bib})
    site = build_site(Project(root=root))
    beta = site.pages["example/index.md"].html.split('id="ref-beta2024"')[1].split("</li>")[0]
    assert "· Published online August 24, 2023" in beta
    item = next(i for i in json.loads(site.files["example/sources.json"]) if i["id"] == "beta2024")
    assert item["available-date"] == {"date-parts": [[2023, 8, 24]]} and item["issued"] == {"date-parts": [[2024]]}
    bad = build_project(Project(root=make_project(**{"bib/sources.bib": bib.replace("2023-08-24", "2023-13-01")})))
    assert any("onlinedate `2023-13-01` is not a valid date" in p.message for p in bad.problems.errors)


PRIVATE = {"annotation": "Research code G7; title from URL slug",
           "owner": "desk-researcher-7", "abstract": "An abstract the desk keeps for itself",
           "comment": "Ask the desk about this one",
           "file": ":/home/researcher/private/alpha.pdf:PDF"}


def test_private_bib_fields_are_never_published(make_project) -> None:
    fields = "".join(f"  {name} = {{{value}}},\n" for name, value in PRIVATE.items())
    bib = MINIMAL_BIB.replace("  kind = {news},\n", "  kind = {news},\n  note = {What readers see.},\n"
                              "  x-desk-flag = {readers-only},\n" + fields)
    root = make_project(**{"bib/sources.bib": bib,
                           "mkdocs.yml": (Path(make_project()) / "mkdocs.yml").read_text().replace(
                               "pdf: false", "pdf: true")})
    project = Project(root=root)
    result = build_project(project)
    source = result.bib.sources["alpha2025"]
    assert source.private == PRIVATE and not set(PRIVATE) & set(source.fields)
    site = build_site(project)
    assert site.ok
    page = site.pages["example/index.md"]
    assert "What readers see." in page.html
    published = [page.html, page.search_html, *(data.decode("utf-8", "replace") for path, data in site.files.items()
                                                  if not path.endswith(".pdf")),
                 print_html(result.rendered[0], result.renderer)]  # type: ignore[arg-type]
    for text in published:
        for value in PRIVATE.values():
            assert value not in text and "G7" not in text
    download = site.files["example/sources.bib"].decode()
    assert "note = {What readers see.}" in download and "url = {https://example.org/alpha?x=1&y=2}" in download
    # the download carries bibliographic fields only: a field no reference list uses stays in the repository
    assert "readers-only" not in download
    text = pdf_text(site.files["example/example.pdf"])
    assert "What readers see." in text and "G7" not in text and "researcher" not in text


def test_a_methods_section_is_a_section_kind_of_its_own(make_project) -> None:
    report = MINIMAL_REPORT.replace(
        "  - {kind: evidence, title: \"The evidence\", file: evidence.md}\n",
        "  - {kind: methods, title: \"How we checked\", file: methods.md}\n"
        "  - {kind: evidence, title: \"The evidence\", file: evidence.md}\n")
    root = make_project(**{"content/example/report.yml": report,
                           "content/example/methods.md": "We searched the web in English on 27 January 2026.\n"})
    project = Project(root=root)
    site = build_site(project)
    assert site.ok
    page = site.pages["example/index.md"].html
    assert '<h2 id="s1-methods">1. How we checked' in page and '<div class="rg-prose rg-section-methods">' in page
    result = build_project(project)
    printed = print_html(result.rendered[0], result.renderer)  # type: ignore[arg-type]
    assert "1. How we checked</h2>" in printed and "We searched the web in English" in printed


def test_rating_changes_are_plain_values_a_page_cache_can_key_on() -> None:
    from generator.render.cache import page_context_key

    change = RatingChange(2, __import__("datetime").date(2026, 2, 3), "a", "A", "b", "B", "v2/changes/")
    one = page_context_key({"corrections": Corrections(claims={"x": [change]})}, None)
    assert one == page_context_key({"corrections": Corrections(claims={"x": [change]})}, None)
    assert one != page_context_key({"corrections": Corrections()}, None)


def test_report_pdf_command_shows_the_same_markers(history_repo: Path, tmp_path: Path, capsys) -> None:
    from generator.cli import main

    root = _at(history_repo, tmp_path, "v2")
    write_tree(root, {"mkdocs.yml": (root / "mkdocs.yml").read_text()})
    assert main(["pdf", "--path", str(root), "--out", str(tmp_path / "out")]) == 0
    text = pdf_text((tmp_path / "out" / "example.pdf").read_bytes())
    assert "Rating changed from Misleading to False on February 3, 2026 (version 2)" in text
    assert "Corrected on February 3, 2026 (version 2)" in text


@pytest.mark.parametrize(("revisions", "warned"), [
    ('  - {version: 2, date: 2026-02-03, kind: correction, note: "Fixed."}\n', True),
    ('  - {version: 2, date: 2026-02-03, kind: correction, note: "Fixed.", sources_reaccessed: false}\n', False),
    ('  - {version: 2, date: 2026-02-03, kind: update, note: "Re-checked."}\n', True),
    ('  - {version: 2, date: 2026-02-03, kind: editorial, note: "Typo."}\n', False),  # checked_on does not move
    ("", False),  # a first version written a few days after the sources were read
])
def test_moving_checked_on_past_the_access_date_must_be_explained(make_project, revisions: str, warned: bool) -> None:
    checked = "2026-01-27" if "editorial" in revisions else "2026-02-03"
    text = MINIMAL_REPORT.replace("checked_on: 2026-01-27", f"checked_on: {checked}") + revisions
    if not revisions:
        text = text.replace("{version: 1, date: 2026-01-27", "{version: 1, date: 2026-02-03")
    result = build_project(Project(root=make_project(**{"content/example/report.yml": text})))
    assert result.ok
    assert any(p.code == "sources-not-reaccessed" for p in result.problems.warnings) is warned
