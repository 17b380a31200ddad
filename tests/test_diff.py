"""What changed: word-level text diff, the structured comparison, the changes page, and `report diff` Markdown.

The `report diff` output is compared with golden files in tests/golden/. After an intended change to
the Markdown, regenerate them with `UPDATE_GOLDEN=1 python3 -m pytest tests/test_diff.py` and review
the diff of tests/golden/ before committing.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main
from generator.history.diff import (
    MARKDOWN_LIMIT,
    PARAGRAPH,
    compare_reports,
    markdown_summary,
    markdown_text,
    text_diff,
    tokenize,
)
from generator.history.versions import changes_page_output, collect_history, diff_project

from .conftest import MINIMAL_REPORT
from .gitrepo import git, make_history_repo

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 regenerates it"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("diff") / "project"
    make_history_repo(root)
    return root


# -- word-level diff ---------------------------------------------------------------------------------


def test_tokens_keep_citations_whole_and_mark_paragraphs() -> None:
    tokens = tokenize("A claim [@a; @b, p. 4], again.\n\n- item one\n- item two")
    assert [t.text for t in tokens] == ["A", "claim", "[@a; @b, p. 4]", ",", "again", ".", PARAGRAPH, "-", "item",
                                        "one", PARAGRAPH, "-", "item", "two"]
    assert [t.space for t in tokens[:5]] == [False, True, True, False, True]


def test_insertions_and_deletions_are_marked_word_by_word() -> None:
    diff = text_diff("Summary", "The vaccine cured 48 patients.", "The vaccine was given to 48 volunteers.")
    assert diff is not None and diff.status == "changed"
    [hunk] = diff.hunks(10)
    assert [(p.op, p.body) for p in hunk.pieces] == [
        ("equal", "The vaccine"), ("delete", "cured"), ("insert", "was given to"), ("equal", "48"),
        ("delete", "patients"), ("insert", "volunteers"), ("equal", ".")]
    assert (diff.inserted_words, diff.deleted_words) == (4, 2)
    assert markdown_text(diff) == ["> The vaccine ~~cured~~ **was given to** 48 ~~patients~~ **volunteers** ."]


def test_slight_unchanged_words_between_changes_are_folded_into_one_change() -> None:
    diff = text_diff("x", "Red cars of the city are fast.", "Blue bikes of the town are fast.")
    assert diff is not None
    [hunk] = diff.hunks(10)
    assert [(p.op, p.body) for p in hunk.pieces] == [
        ("delete", "Red cars of the city"), ("insert", "Blue bikes of the town"), ("equal", "are fast.")]


def test_long_unchanged_text_is_left_out_around_changes() -> None:
    words = " ".join(f"w{i}" for i in range(60))
    diff = text_diff("x", f"start {words} middle {words} end", f"begin {words} middle {words} finish")
    assert diff is not None
    hunks = diff.hunks(3)
    assert len(hunks) == 2
    assert not hunks[0].before and hunks[0].after and hunks[1].before and not hunks[1].after
    assert markdown_text(diff, context=3) == ["> ~~start~~ **begin** w0 w1 w2 …", "> … w57 w58 w59 ~~end~~ **finish**"]


def test_same_text_with_other_line_breaks_is_no_change() -> None:
    assert text_diff("x", "one two\nthree", "one  two three\n") is None
    added = text_diff("x", None, "new text")
    assert added is not None and added.status == "added"


def test_markdown_escapes_text_and_never_mentions_anyone() -> None:
    diff = text_diff("x", "Plain.", "Plain *bold* <script>x</script> by @someone [@key].")
    assert diff is not None
    [line] = markdown_text(diff)
    assert r"\*bold\*" in line and r"\<script\>" in line
    assert "`@someone`" in line and "`[@key]`" in line
    assert " @" not in line.replace("`@", "")


# -- structured comparison -----------------------------------------------------------------------------


def test_compare_reports_lists_claims_sources_verdict_and_sections(repo) -> None:
    project = Project(root=repo)
    result = build_project(project)
    history = collect_history(project, result).reports["example"]
    d13 = compare_reports(history.versions[1].rendered, history.versions[3].rendered)
    assert (d13.old_version, d13.new_version) == (1, 3)
    assert [r.version for r in d13.revisions] == [2, 3] and [r.kind for r in d13.revisions] == ["correction", "update"]
    assert d13.verdict_rerated and (d13.old_rating.label, d13.new_rating.label) == ("Unproven", "Misleading")
    assert [c.id for c in d13.claims_added] == ["second-claim"] and not d13.claims_removed
    [rerated] = d13.claims_rerated
    assert (rerated.id, rerated.old_rating.label, rerated.new_rating.label) == ("first-claim", "Misleading", "False")
    assert [f.label for f in rerated.fields] == ["Sources", "Explanation"]
    assert [s.key for s in d13.sources_added] == ["delta2026"] and [s.key for s in d13.sources_removed] == ["gamma2025"]
    assert [t.label for t in d13.texts] == ["Executive summary", "The evidence"]
    page = changes_page_output(history, 3, result.renderer).html
    # readers see the text as each version's page printed it: citations as their numbers, never `[@key]`
    assert '<del><span class="rg-sr">[deleted: </span>[2, 3]<span class="rg-sr">]</span></del>' in page
    shown = re.sub(r'<span class="rg-sr">[^<]*</span>', "", page)
    assert "see also <del>[2, 3]</del> <ins>[2]</ins>." in shown and "@alpha2025" not in page
    assert "<ins>[1]. A fact-check found the claim misleading [3].</ins>" in shown
    source = compare_reports(history.versions[1].rendered, history.versions[3].rendered)  # `report diff`: the source
    assert any("[@alpha2025; @gamma2025]" in p.body for t in source.texts for h in t.hunks() for p in h.pieces)


def test_renamed_sections_and_removed_claims_are_named(make_project) -> None:
    old = build_project(Project(root=make_project()))
    report = (MINIMAL_REPORT.replace('title: "The evidence"', 'title: "What the evidence shows"')
              .replace("claims:\n  - id: first-claim", "claims: []\nold_claims:\n  - id: first-claim"))
    report = report.split("old_claims:")[0] + "bottom_line:" + report.split("bottom_line:")[1]
    new_root = make_project(**{"content/example/report.yml": report})
    new = build_project(Project(root=new_root))
    diff = compare_reports(old.rendered[0], new.rendered[0])
    assert [c.id for c in diff.claims_removed] == ["first-claim"]
    renamed = [t for t in diff.texts if t.old_label]
    assert [(t.old_label, t.label, t.hunks()) for t in renamed] == [("The evidence", "What the evidence shows", [])]


def test_changes_page_escapes_content(make_project) -> None:
    old = build_project(Project(root=make_project()))
    evil = "The study [@beta2024, p. 12] <script>alert(1)</script> and the agency [@alpha2025; @gamma2025].\n"
    new = build_project(Project(root=make_project(**{"content/example/evidence.md": evil})))
    diff = compare_reports(old.rendered[0], new.rendered[0])
    from generator.history.diff import changes_page

    page = changes_page(new.renderer, diff, {"old": "../../v1/", "new": "../", "report": "../../"}, True).html
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- `report diff` -------------------------------------------------------------------------------------


def test_report_diff_between_commits_matches_golden(repo, capsys) -> None:
    assert main(["diff", "v1", "v2", "--path", str(repo)]) == 0
    _golden("report_diff_v1_v2.md", capsys.readouterr().out)


def test_report_diff_against_the_working_tree_matches_golden(repo, capsys) -> None:
    assert main(["diff", "v1", "--path", str(repo)]) == 0
    _golden("report_diff_v1_worktree.md", capsys.readouterr().out)


def test_report_diff_with_nothing_changed_and_bad_refs(repo, capsys, tmp_path) -> None:
    assert main(["diff", "v3", "--path", str(repo)]) == 0
    assert capsys.readouterr().out == "## Report changes: `v3` → `working tree`\n\nNo report changed.\n"
    assert main(["diff", "nope", "--path", str(repo)]) == 2
    assert "`nope` does not name a commit" in capsys.readouterr().err
    out = tmp_path / "diff.md"
    assert main(["diff", "v2", "v3", "--path", str(repo), "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("## Report changes: `v2` → `v3`")


def test_report_diff_names_new_and_removed_reports(repo, tmp_path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{repo}", str(clone)], check=True, capture_output=True)
    git(clone, "mv", "content/example", "content/renamed")
    result = diff_project(clone, "v3")
    assert [(d.slug, d.status) for d in result.reports] == [("example", "removed"), ("renamed", "added")]
    text = markdown_summary(result.reports, result.base, result.head)
    assert "**New report**, version 3, checked on 2026-03-10" in text and "**Report removed** (was version 3" in text


def test_report_diff_stays_short_enough_for_a_pr_comment(repo) -> None:
    result = diff_project(repo, "v1")
    [report] = result.reports
    report.texts = report.texts * 2000
    text = markdown_summary([report], "a", "b")
    assert len(text) < MARKDOWN_LIMIT and "Left out to keep this comment short" in text


# -- rendered text, block by block (the "what changed" page) --------------------------------------


def test_a_reader_sees_text_not_markdown_and_citations_as_their_numbers() -> None:
    from generator.history.diff import block_diff, html_blocks

    old = '<p>The trial <em>started</em> <span class="rg-cite">[<a href="#ref-a">1</a>]</span> in 2025.</p>'
    new = ('<p>The trial <em>began</em> <span class="rg-cite">[<a href="#ref-a">2</a><span class="rg-cite-between">, '
           '<a href="#ref-b">3</a>, </span><span aria-hidden="true">–</span><a href="#ref-c">4</a>]</span> in 2025.</p>')
    assert [b.cells for b in html_blocks(new)] == [("The trial began [2–4] in 2025.",)]  # as printed
    diff = block_diff("Text", old, new)
    assert diff is not None
    [change] = diff.changes
    [hunk] = change.hunks(0)
    marked = [(p.op, p.body) for p in hunk.pieces if p.op != "equal"]
    assert marked == [("delete", "started [1]"), ("insert", "began [2–4]")]
    assert "*" not in str(diff.changes) and "@" not in str(diff.changes)


def test_lists_and_tables_are_compared_item_by_item_and_cell_by_cell() -> None:
    from generator.history.diff import block_diff

    table = "<table><tr><th>Trial</th><th>Phase</th></tr><tr><td>A</td><td>{}</td></tr><tr><td>B</td><td>II</td></tr>{}</table>"
    old = "<p>Intro.</p><ul><li>one</li><li>two</li></ul>" + table.format("I", "")
    new = "<p>Intro.</p><ul><li>one</li><li>two</li><li>three</li></ul>" + table.format("I/II", "<tr><td>C</td><td>I</td></tr>")
    diff = block_diff("Text", old, new)
    assert diff is not None
    ops = [(c.kind, c.op, c.cells) for c in diff.changes]
    assert ("li", "insert", ("three",)) in ops and ("li", "equal", ("two",)) in ops
    assert ("row", "insert", ("C", "I")) in ops
    [row] = [c for c in diff.changes if c.kind == "row" and c.op == "changed"]
    assert row.cells == ("A", "I/II") and row.diffs[0] is None and row.diffs[1] is not None
    assert [r.kind for r in diff.runs] == ["li", "row"]  # one list, one table; the intro left out as unchanged
    assert (diff.inserted_words, diff.deleted_words) == (4, 1)  # three, C, I, I/II; I


def test_a_changes_page_shows_a_changed_table_as_a_table(tmp_path) -> None:
    """The page renders the runs: table rows in a table with their cells, inserted and deleted text with words a
    screen reader says ("[inserted: …]"), never only colour or strike-through."""
    from generator.config import SiteConfig
    from generator.history.diff import RatingRef, ReportDiff, block_diff, changes_page
    from generator.render.report import Renderer

    text = block_diff("Evidence", "<table><tr><td>A</td><td>1</td></tr></table>",
                      "<table><tr><td>A</td><td>2</td></tr><tr><td>B</td><td>3</td></tr></table>", "text-x")
    assert text is not None
    diff = ReportDiff("x", "X", "changed", 1, 2, texts=[text], scale=SiteConfig().ratings)
    diff.old_checked_on = diff.new_checked_on = __import__("datetime").date(2026, 1, 1)
    diff.old_rating = diff.new_rating = RatingRef("unproven", "Unproven", SiteConfig().rating("unproven"))
    renderer = Renderer(SiteConfig(), None, None)  # type: ignore[arg-type]
    html = changes_page(renderer, diff, {"old": "../", "new": "./", "report": "../../"}, True).html
    start = html.index('<table class="rg-diff-table">')
    table = html[start:html.index("</table>", start)]
    assert '<tr class="rg-diff-changed"><td>A</td><td><del><span class="rg-sr">[deleted: </span>1' in table
    assert '<tr class="rg-diff-insert"><td><ins><span class="rg-sr">[inserted: </span>B' in table
