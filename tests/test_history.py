"""Every version at its own URL, read from git: archive pages, banners, changes pages, the feed, `check --base`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main
from generator.history.versions import Git, GitError, SiteHistory, collect_history, read_stamp, render_commit
from generator.publish.site import site_files

from .conftest import MINIMAL_MKDOCS, REPO
from .gitrepo import V2_REPORT, V3_EVIDENCE, V3_REPORT, commit, git, make_history_repo

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _quiet_mkdocs(monkeypatch):
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The three-version repository, built once with `report build` (read-only for the tests below)."""
    root = tmp_path_factory.mktemp("history") / "project"
    commits = make_history_repo(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_MKDOCS_2_WARNING", "1")
        assert main(["build", str(root)]) == 0
    return root, commits


def _page(root: Path, uri: str) -> str:
    return (root / "site" / uri).read_text(encoding="utf-8")


def test_each_version_is_found_at_the_newest_commit_where_it_was_current(built) -> None:
    root, commits = built
    project = Project(root=root)
    result = build_project(project)
    history = collect_history(project, result)
    example = history.reports["example"]
    assert history.git and example.latest == 3
    assert {n: v.commit for n, v in example.versions.items()} == {1: commits["v1"], 2: commits["v2"], 3: None}
    assert [v.checked_on.isoformat() for _, v in sorted(example.versions.items())] == [
        "2026-01-27", "2026-02-03", "2026-03-10"]
    assert not [p for p in result.problems.warnings if p.code == "archive-skipped"]


def test_archive_pages_show_each_version_as_it_was_under_a_banner(built) -> None:
    root, _ = built
    v1, v2, v3 = (_page(root, f"example/v{n}/index.html") for n in (1, 2, 3))
    assert "You are reading <strong>version 1 of 3</strong>, checked on " \
           '<time datetime="2026-01-27">January 27, 2026</time> — <a href="../">read the latest</a>.' in v1
    assert "You are reading <strong>version 2 of 3</strong>, corrected on " \
           '<time datetime="2026-02-03">February 3, 2026</time> — <a href="../">read the latest</a>.' in v2
    # the latest version's address sends readers to the report page (one page, not a copy of it)
    assert '<meta http-equiv="refresh" content="0; url=../">' in v3 and '<link rel="canonical" href="../">' in v3
    assert "Version 3 (checked on <time datetime=\"2026-03-10\">March 10, 2026</time>) is the latest version" in v3
    assert '<a href="changes/">What changed in version 3</a>' in v3
    v3 = _page(root, "example/index.html")
    # content as it was at each commit, not today's
    assert "Not yet" in v1 and "the only result is in mice" not in v1 and "Alpha claims a result <span" in v1
    assert "in mice, not people" in v2 and "Beta proves it." not in v2
    assert "Beta proves it." in v3 and "delta2026" in _page(root, "example/v3/sources.bib")
    assert "delta2026" not in _page(root, "example/v1/sources.bib")
    # a reader of version 1 is told it was corrected later, and where to see what changed
    assert "Corrected in version 2" in v1 and "Version 1 said the result was in people" in v1
    assert 'href="../v2/changes/"' in v1
    assert "Corrected in version" not in v3
    assert "<title>Example (version 1)" in v1


def test_report_page_links_every_version_and_what_changed(built) -> None:
    root, _ = built
    page = _page(root, "example/index.html")
    for n in (1, 2, 3):
        assert f'<a href="v{n}/">Version {n}</a>' in page
    assert 'href="v2/changes/">What changed</a>' in page and 'href="v3/changes/">What changed</a>' in page
    assert 'href="v1/changes/"' not in page
    assert 'class="rg-revision rg-revision-correction" id="v2"' in page
    archive = _page(root, "example/v2/index.html")
    assert '<a href="../v1/">Version 1</a>' in archive and 'href="../v2/changes/">What changed</a>' in archive


def test_changes_pages_exist_between_consecutive_versions(built) -> None:
    root, _ = built
    assert not (root / "site/example/v1/changes").exists()
    assert '<span class="rg-sr">[inserted: </span>' in _page(root, "example/v2/changes/index.html")  # said, not only shown
    v2 = re.sub(r'<span class="rg-sr">[^<]*</span>', "", _page(root, "example/v2/changes/index.html"))
    assert "What changed in version 2" in v2
    assert '<a href="../../v1/">version 1</a>' in v2 and '<a href="../">version 2</a>' in v2
    assert "Misleading</span> → <span" in v2 and "Re-rated" in v2  # the claim's rating
    assert "<ins>in mice, not people</ins>" in v2  # word-level, not "changed"
    v3 = re.sub(r'<span class="rg-sr">[^<]*</span>', "", _page(root, "example/v3/changes/index.html"))
    assert "New claim" in v3 and "<ins>Beta proves it.</ins>" in v3
    assert "Fact-check: Alpha’s claim" in v3 or "Fact-check: Alpha's claim" in v3 or "Alpha&#39;s" in v3
    assert "<del>“Гамма: первая фаза" in v3  # the removed source, by its formatted reference
    assert "see also <del>[2, 3]</del> <ins>[2]</ins>." in v3 and "[@" not in v3  # citations as printed
    assert 'Unproven</span> → <span class="rg-rating rg-rating-misleading"' in v3  # verdict re-rated


def test_feed_lists_every_revision_newest_first_with_links_to_version_pages(built) -> None:
    root, _ = built
    feed = ET.parse(root / "site" / "feed.xml").getroot()  # noqa: S314 - our own build output
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}updated") == "2026-03-10T00:00:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in entries] == [
        "example/v3/", "example/v2/", "example/v1/"]
    assert [e.findtext(f"{ATOM}updated") for e in entries] == [
        "2026-03-10T00:00:00Z", "2026-02-03T00:00:00Z", "2026-01-27T00:00:00Z"]
    assert entries[1].findtext(f"{ATOM}title") == "Example — version 2: correction"
    assert entries[1].findtext(f"{ATOM}summary").startswith("Correction: Version 1 said")
    assert entries[1].find(f"{ATOM}link[@rel='related']").get("href") == "example/v2/changes/"
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 3
    home = _page(root, "index.html")
    assert '<link rel="alternate" type="application/atom+xml" title="Test reports: report revisions" href="feed.xml">' \
        in home


def test_feed_uses_absolute_urls_when_site_url_is_set(make_project) -> None:
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS.replace("site_name: Test reports",
                                                                "site_name: Test reports\nsite_url: https://reports.example.org/")})
    result = build_project(Project(root=root))
    feed = ET.fromstring(site_files(result)["feed.xml"])  # noqa: S314 - our own output
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://reports.example.org/feed.xml"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == "https://reports.example.org/example/v1/"
    # ids are tag URIs, never addresses: the same with or without site_url (tests/test_share.py)
    assert entry.findtext(f"{ATOM}id") == "tag:test-reports.evidence-desk.invalid,2026:example/v1"


def test_latest_version_page_exists_without_git_and_old_versions_are_skipped_with_a_warning(built, tmp_path,
                                                                                             caplog, monkeypatch) -> None:
    source, _ = built
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # not inside any repository, like a tarball
    tarball = tmp_path / "tarball"
    tarball.mkdir()
    for name in ("mkdocs.yml", "content", "bib", "docs"):
        (shutil.copytree if (source / name).is_dir() else shutil.copy)(source / name, tarball / name)
    assert main(["build", str(tarball)]) == 0
    assert "earlier versions of the reports were not published: the project is not in a git repository" in caplog.text
    assert (tarball / "site/example/v3/index.html").exists()
    assert not (tarball / "site/example/v1").exists() and not (tarball / "site/example/v3/changes").exists()
    feed = (tarball / "site/feed.xml").read_text(encoding="utf-8")
    assert 'href="example/v3/"' in feed and 'href="example/#v2"' in feed


def test_shallow_clone_warns_and_says_how_to_fix(built, tmp_path) -> None:
    source, _ = built
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{source}", str(clone)], check=True,
                   capture_output=True)
    project = Project(root=clone)
    result = build_project(project)
    history = collect_history(project, result)
    assert sorted(history.reports["example"].versions) == [3]
    [warning] = [p for p in result.problems.warnings if p.code == "archive-skipped"]
    assert "versions 1, 2 of `example` not found in git history" in warning.message
    assert "shallow clone" in warning.hint and "fetch-depth: 0" in warning.hint


def test_archives_are_cached_by_commit_and_caching_never_changes_output(built) -> None:
    root, commits = built
    project = Project(root=root)
    first = build_project(project)
    files = site_files(first, history=collect_history(project, first))
    cached = render_commit(project, Git.open(root), commits["v1"], "example")
    assert render_commit(project, Git.open(root), commits["v1"], "example") is cached
    again = build_project(project)
    assert site_files(again, history=collect_history(project, again)) == files
    fresh_project = Project(root=root)
    fresh = build_project(fresh_project)
    assert site_files(fresh, history=collect_history(fresh_project, fresh)) == files


def test_uncommitted_edits_show_only_in_the_latest_version(built, tmp_path) -> None:
    source, _ = built
    root = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", f"file://{source}", str(root)], check=True, capture_output=True)
    (root / "content/example/evidence.md").write_text(V3_EVIDENCE + "\nA draft paragraph.\n", encoding="utf-8")
    project = Project(root=root)
    result = build_project(project)
    files = site_files(result, history=collect_history(project, result))
    assert "A draft paragraph." in files["example/index.md"].html and "example/v3/index.html" in files
    assert "A draft paragraph." not in files["example/v2/index.md"].html


def test_check_base_passes_with_a_revision_and_fails_without_one(built, tmp_path, capsys) -> None:
    source, _ = built
    root = tmp_path / "pr"
    subprocess.run(["git", "clone", "-q", f"file://{source}", str(root)], check=True, capture_output=True)
    assert main(["check", str(root), "--base", "v1"]) == 0  # v2 and v3 each recorded a revision
    capsys.readouterr()

    (root / "content/example/evidence.md").write_text(V3_EVIDENCE + "\nA new finding [@beta2024].\n",
                                                      encoding="utf-8")
    assert main(["check", str(root), "--base", "HEAD"]) == 1
    out = capsys.readouterr().out
    assert "content/example/report.yml:" in out and "error: report `example`: content changed since HEAD " \
        "(evidence.md) but no new revision was recorded (the newest is still version 3)" in out
    assert "version: 4" in out

    assert main(["check", str(root), "--base", "HEAD", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert "::error file=content/example/report.yml,line=" in out and "(evidence.md)" in out

    yml = root / "content/example/report.yml"
    yml.write_text(V3_REPORT + '  - {version: 4, date: 2026-03-10, kind: update, note: "Re-checked."}\n',
                   encoding="utf-8")
    assert main(["check", str(root), "--base", "HEAD"]) == 1  # an update must move checked_on forward
    assert "an `update` revision needs a newer checked_on than 2026-03-10" in capsys.readouterr().out

    yml.write_text(V3_REPORT + '  - {version: 4, date: 2026-03-12, kind: editorial, note: "Wording."}\n',
                   encoding="utf-8")
    assert main(["check", str(root), "--base", "HEAD"]) == 0
    capsys.readouterr()

    yml.write_text(V3_REPORT.replace("checked_on: 2026-03-10", "checked_on: 2026-03-12")
                   + '  - {version: 4, date: 2026-03-12, kind: update, note: "Re-checked."}\n', encoding="utf-8")
    assert main(["check", str(root), "--base", "HEAD"]) == 0


def test_check_base_reports_a_bad_ref_and_ignores_new_reports(built, tmp_path, capsys) -> None:
    source, _ = built
    root = tmp_path / "pr"
    subprocess.run(["git", "clone", "-q", f"file://{source}", str(root)], check=True, capture_output=True)
    assert main(["check", str(root), "--base", "no-such-ref"]) == 1
    assert "cannot compare with `no-such-ref`" in capsys.readouterr().out
    assert main(["check", str(root), "--base=--output=x"]) == 1
    assert "is not a valid git ref" in capsys.readouterr().out
    git(root, "config", "user.name", "Test Desk")
    git(root, "config", "user.email", "desk@example.invalid")
    git(root, "rm", "-q", "-r", "content/example")
    commit(root, "Remove the report", "2026-03-11T12:00:00+00:00")
    git(root, "checkout", "-q", "v3", "--", "content/example")  # back, as if new since the base
    assert main(["check", str(root), "--base", "HEAD"]) == 0


def test_a_version_that_no_longer_renders_is_skipped_with_a_warning(tmp_path) -> None:
    root = tmp_path / "project"
    make_history_repo(root)
    broken = V2_REPORT.replace('question: "Does the example hold up?"', 'question: ""')
    git(root, "checkout", "-q", "v2")
    (root / "content/example/report.yml").write_text(broken, encoding="utf-8")
    git(root, "switch", "-q", "-c", "broken")
    commit(root, "v2 that no longer loads", "2026-02-04T12:00:00+00:00")
    (root / "content/example/report.yml").write_text(V3_REPORT, encoding="utf-8")
    commit(root, "v3 again", "2026-03-10T12:00:00+00:00")
    project = Project(root=root)
    result = build_project(project)
    history = collect_history(project, result)
    assert sorted(history.reports["example"].versions) == [1, 3]
    [warning] = [p for p in result.problems.warnings if p.code == "archive-skipped"]
    assert warning.message.startswith("version 2 of `example` (commit ") and "could not be rendered" in warning.message


def test_read_stamp_is_lenient() -> None:
    assert read_stamp(V2_REPORT).version == 2  # type: ignore[union-attr]
    assert read_stamp("revisions: [{version: x}]") is None
    assert read_stamp(": not yaml") is None
    assert read_stamp("[]") is None


def test_git_refuses_option_like_refs_and_non_repositories(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(GitError):
        Git.open(tmp_path)
    repo = Git.open(REPO)
    with pytest.raises(GitError, match="not a valid git ref"):
        repo.resolve("--all")


def test_site_history_without_git_has_the_latest_version_only(make_project) -> None:
    result = build_project(Project(root=make_project()))
    history = SiteHistory.current(result)
    assert sorted(history.reports["example"].versions) == [1] and not history.git
    files = site_files(result)
    assert "example/v1/index.html" in files and "example/v1/changes/index.md" not in files
    assert 'content="0; url=../"' in files["example/v1/index.html"]


def test_core_history_modules_do_not_import_mkdocs() -> None:
    """SPEC §9: history, diff and feed are core modules."""
    code = ("import sys, generator.history.versions, generator.history.diff, generator.publish.feed;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mkdocs'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_feed_link_respects_a_users_custom_dir(make_project) -> None:
    """Our main.html sits after the user's custom_dir: their templates win, ours fills in when they have none."""
    mkdocs_yml = MINIMAL_MKDOCS.replace("  name: material\n", "  name: material\n  custom_dir: overrides\n")
    root = make_project(**{"mkdocs.yml": mkdocs_yml, "overrides/partials/copyright.html": "<p>Our desk</p>\n"})
    assert main(["build", str(root)]) == 0
    home = (root / "site/index.html").read_text(encoding="utf-8")
    assert 'type="application/atom+xml"' in home and "<p>Our desk</p>" in home
    (root / "overrides/main.html").write_text('{% extends "base.html" %}\n{% block extrahead %}'
                                              '<meta name="x-user" content="1">{% endblock %}\n', encoding="utf-8")
    assert main(["build", str(root)]) == 0
    home = (root / "site/index.html").read_text(encoding="utf-8")
    assert '<meta name="x-user" content="1">' in home and 'type="application/atom+xml"' not in home
