"""Nothing outside the project is read: every file read from content, sources, docs, styles or the cache is a regular
file inside its expected folder after resolving symlinks, configured folders lie inside the project, and the same
holds for versions read from git history. Each attack comes with its exact message, and a marker planted outside
the project (or in .git/config, where a checkout keeps its token) appears nowhere: not in the output, not in site/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.build import Project, build_project
from generator.cli import main

from .conftest import MINIMAL_MKDOCS
from .gitrepo import DATES, commit, git

MARKER = "MARKER-OUTSIDE-7f3a"
TOKEN = "ghs_MARKERTOKEN0000000000000000000000"  # noqa: S105 - a fake token planted to prove it never leaks


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files an attacker would like to publish: one beside the project, and the checkout's own .git/config."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text(f"{MARKER}\n", encoding="utf-8")
    (folder / "secret.bib").write_text(f"@online{{leak2025, title = {{{MARKER}}}, date = {{2025}}, "
                                       f"url = {{https://example.org}}, kind = {{news}}}}\n", encoding="utf-8")
    (folder / "report.yml").write_text(f'question: "{MARKER}"\n', encoding="utf-8")
    (folder / "style.csl").write_text(f"<style>{MARKER}</style>\n", encoding="utf-8")
    (folder / "base.yml").write_text(f"site_name: {MARKER}\n", encoding="utf-8")
    return folder


def _git_config(root: Path) -> Path:
    (root / ".git").mkdir(exist_ok=True)
    config = root / ".git" / "config"
    config.write_text(f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {TOKEN}\n', encoding="utf-8")
    return config


def _check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", str(root)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert MARKER not in text and TOKEN not in text
    return code, text


def _link(path: Path, target: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)


@pytest.mark.parametrize(("make_link", "expected"), [
    pytest.param(lambda root, out: _link(root / "content/example/summary.md", Path("../../.git/config")),
                 "content/example/summary.md: error: is a symbolic link to a file outside content/",
                 id="section-to-git-config"),
    pytest.param(lambda root, out: _link(root / "content/example/evidence.md", out / "secret.md"),
                 "content/example/evidence.md: error: is a symbolic link to a file outside content/",
                 id="section-to-outside"),
    pytest.param(lambda root, out: _link(root / "content/example/report.yml", out / "report.yml"),
                 "content/example/report.yml: error: is a symbolic link to a file outside content/",
                 id="report-yml-to-outside"),
    pytest.param(lambda root, out: _link(root / "content/leak", out),
                 "content/leak/report.yml: error: is a symbolic link to a file outside content/",
                 id="report-folder-to-outside"),
    pytest.param(lambda root, out: _link(root / "bib/leak.bib", out / "secret.bib"),
                 "bib/leak.bib: error: is a symbolic link to a file outside bib/", id="bib-to-outside"),
    pytest.param(lambda root, out: _link(root / "bib/more", out),
                 "bib/more: error: is a symbolic link to a folder outside bib/", id="bib-folder-to-outside"),
    pytest.param(lambda root, out: _link(root / "docs/leak.md", out / "secret.md"),
                 "docs/leak.md: error: is a symbolic link to a file outside docs/", id="docs-to-outside"),
    pytest.param(lambda root, out: _link(root / "docs/token.txt", Path("../.git/config")),
                 "docs/token.txt: error: is a symbolic link to a file outside docs/", id="docs-to-git-config"),
    pytest.param(lambda root, out: _link(root / "docs/assets", out),
                 "docs/assets: error: is a symbolic link to a folder outside docs/", id="docs-folder-to-outside"),
    pytest.param(lambda root, out: os.mkfifo(root / "docs" / "pipe.md"),
                 "docs/pipe.md: error: is a named pipe, not a regular file", id="docs-fifo"),
    pytest.param(lambda root, out: _link(root / "docs/loop", Path(".")),
                 "docs/loop: error: is a symbolic link to a folder", id="docs-folder-loop"),
    pytest.param(lambda root, out: _link(root / "docs/sub/up", Path("..")),
                 "docs/sub/up: error: is a symbolic link to a folder", id="docs-folder-loop-below"),
])
def test_links_out_of_their_folder_are_errors_and_never_read(make_project, outside, capsys, make_link,
                                                               expected: str) -> None:
    root = make_project()
    _git_config(root)
    make_link(root, outside)
    code, text = _check(root, capsys)
    assert code == 1
    assert expected in text, text


@pytest.mark.parametrize("make_link", [
    pytest.param(lambda root, out: _link(root / "docs/loop", Path(".")), id="loop"),
    pytest.param(lambda root, out: os.mkfifo(root / "docs" / "pipe.md"), id="fifo"),
    pytest.param(lambda root, out: _link(root / "docs/leak.md", out / "secret.md"), id="outside"),
])
def test_build_and_serve_stop_before_the_engine_walks_unsafe_docs(make_project, outside, capsys, monkeypatch,
                                                                   make_link) -> None:
    """MkDocs walks docs/ following links (a link that points up never ends) and opens pipes (which block) before
    any plugin runs: `report build` and `report serve` check docs/ first."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project()
    make_link(root, outside)
    for command in (["build", str(root)], ["serve", str(root)]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "docs/" in err and "the site engine was not started" in err
    assert not (root / "site").exists()


def test_a_section_that_is_a_named_pipe_is_refused_without_blocking(make_project, capsys) -> None:
    root = make_project()
    (root / "content/example/evidence.md").unlink()
    os.mkfifo(root / "content/example/evidence.md")
    code, text = _check(root, capsys)
    assert code == 1
    assert "content/example/evidence.md: error: is a named pipe, not a regular file" in text


def test_links_that_stay_inside_their_folder_are_followed(make_project, capsys) -> None:
    root = make_project(**{"content/shared/notes.md": "Shared prose [@alpha2025].\n"})
    _link(root / "content/example/evidence.md", Path("../shared/notes.md"))
    result = build_project(Project(root=root))
    assert not [p for p in result.problems.errors if p.code == "unsafe-path"]
    assert "Shared prose" in result.reports[0].prose["evidence.md"]


@pytest.mark.parametrize(("setting", "expected"), [
    pytest.param("content_dir: ../outside", "content_dir `../outside` is outside the project", id="content-outside"),
    pytest.param("bib_dir: /etc", "bib_dir `/etc` is outside the project", id="bib-absolute"),
    pytest.param("bib_dir: .git", "bib_dir `.git` is inside .git/", id="bib-in-git"),
    pytest.param("cache_dir: content/.cache", "cache_dir `content/.cache` lies inside content_dir `content`",
                 id="cache-in-content"),
    pytest.param("cache_dir: bib/cache", "cache_dir `bib/cache` lies inside bib_dir `bib`", id="cache-in-bib"),
    pytest.param("cache_dir: docs/cache", "cache_dir `docs/cache` lies inside docs_dir `docs`", id="cache-published"),
    pytest.param("cache_dir: ../elsewhere", "cache_dir `../elsewhere` is outside the project", id="cache-outside"),
    pytest.param("csl_style: ../outside/style.csl", "CSL style `../outside/style.csl` lies outside the project folder",
                 id="csl-outside"),
    pytest.param("csl_style: /etc/hostname.csl", "CSL style `/etc/hostname.csl` lies outside the project folder",
                 id="csl-absolute"),
])
def test_configured_paths_must_lie_inside_the_project(make_project, outside, capsys, setting: str,
                                                       expected: str) -> None:
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + f"      {setting}\n"})
    code, text = _check(root, capsys)
    assert code == 1
    assert f"mkdocs.yml: error: {expected}" in text, text


def test_a_csl_style_linked_out_of_the_project_is_refused(make_project, outside, capsys) -> None:
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      csl_style: styles/house.csl\n"})
    _link(root / "styles/house.csl", outside / "style.csl")
    code, text = _check(root, capsys)
    assert code == 1
    assert ("mkdocs.yml: error: CSL style `styles/house.csl` is a symbolic link to a file outside the project folder"
            in text)


@pytest.mark.parametrize(("make_link", "expected"), [
    pytest.param(lambda root, out: _link(root / ".cache/report", out),
                 "cache_dir `.cache/report` is a symbolic link (or lies under one)", id="cache-folder"),
    pytest.param(lambda root, out: _link(root / ".cache", out),
                 "cache_dir `.cache/report` is a symbolic link (or lies under one)", id="cache-parent"),
    pytest.param(lambda root, out: (root / ".cache/report").mkdir(parents=True) or _link(root / ".cache/report/rendered", out),
                 "cache_dir `.cache/report`/rendered is a symbolic link", id="cache-subfolder"),
    pytest.param(lambda root, out: (root / ".cache/report").mkdir(parents=True)
                 or _link(root / ".cache/report/zensical-serve", out),
                 "cache_dir `.cache/report`/zensical-serve is a symbolic link", id="zensical-preview-stage"),
])
def test_a_symlinked_cache_folder_is_refused_and_nothing_is_written_through_it(make_project, outside, capsys,
                                                                                make_link, expected: str) -> None:
    root = make_project()
    before = sorted(p.name for p in outside.rglob("*"))
    make_link(root, outside)
    code, text = _check(root, capsys)
    assert code == 1
    assert f"mkdocs.yml: error: {expected}" in text, text
    assert sorted(p.name for p in outside.rglob("*")) == before


def test_mkdocs_yml_may_not_inherit_a_file_outside_the_project(make_project, outside, capsys) -> None:
    root = make_project(**{"mkdocs.yml": "INHERIT: ../outside/base.yml\n" + MINIMAL_MKDOCS})
    code, text = _check(root, capsys)
    assert code == 1
    assert "../outside/base.yml: error: lies outside the project folder" in text, text


def test_nothing_leaks_into_the_site_when_the_build_refuses(make_project, outside, capsys, monkeypatch) -> None:
    """Every attack at once: the build stops, the old site stays, and no marker is anywhere under site/."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project()
    _git_config(root)
    assert main(["build", str(root)]) == 0
    _link(root / "content/example/summary.md", Path("../../.git/config"))
    _link(root / "bib/leak.bib", outside / "secret.bib")
    _link(root / "docs/leak.md", outside / "secret.md")
    assert main(["build", str(root)]) == 1
    out = capsys.readouterr()
    assert MARKER not in out.out + out.err and TOKEN not in out.out + out.err
    for path in (root / "site").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert MARKER.encode() not in data and TOKEN.encode() not in data, path


def test_versions_from_git_history_follow_the_same_rules(tmp_path, outside, monkeypatch) -> None:
    """An old commit whose section file was a symlink to .git/config: git history holds the link, not the file, and
    the archive of that version is built without it (a warning), never with the token."""
    from .conftest import minimal_files, write_tree
    from .gitrepo import V2_REPORT

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = tmp_path / "project"
    write_tree(root, minimal_files())
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Desk")
    git(root, "config", "user.email", "desk@example.invalid")
    (root / ".gitignore").write_text("site/\n.cache/\n", encoding="utf-8")
    _link(root / "content/example/evidence.md", Path("../../.git/config"))
    commit(root, "v1 with a link", DATES["v1"])
    (root / "content/example/evidence.md").unlink()
    (root / "content/example/evidence.md").write_text("The study [@beta2024].\n", encoding="utf-8")
    write_tree(root, {"content/example/report.yml": V2_REPORT})
    commit(root, "v2", DATES["v2"])
    config = root / ".git" / "config"
    config.write_text(config.read_text(encoding="utf-8") + f"[http]\n\textraheader = AUTHORIZATION: basic {TOKEN}\n",
                      encoding="utf-8")
    assert main(["build", str(root)]) == 0
    for path in (root / "site").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_a_huge_file_in_an_old_commit_is_never_read(tmp_path, monkeypatch, capsys) -> None:
    """Sizes come from git before any blob is read: a pull request that adds a huge file to an old version (or a
    base commit) gets a warning for that archive, and the build never holds the file in memory."""
    from generator import safefs
    from generator.history import versions as history

    from .conftest import minimal_files, write_tree
    from .gitrepo import V2_REPORT

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    monkeypatch.setattr(safefs, "MAX_READ_BYTES", 4096)
    root = tmp_path / "project"
    write_tree(root, minimal_files(**{"content/example/evidence.md": "x" * 5000 + "\n"}))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Desk")
    git(root, "config", "user.email", "desk@example.invalid")
    (root / ".gitignore").write_text("site/\n.cache/\n", encoding="utf-8")
    v1 = commit(root, "v1 with a huge file", DATES["v1"])
    write_tree(root, {"content/example/report.yml": V2_REPORT, "content/example/evidence.md": "The study [@beta2024].\n"})
    commit(root, "v2", DATES["v2"])

    repo = history.Git.open(root)
    blob = repo.files(v1, ["content"])["content/example/evidence.md"]
    read: list[bytes] = []
    real_git = history._git

    def spy(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
        out = real_git(cwd, *args, stdin=stdin)
        read.append(out if args[:2] == ("cat-file", "--batch") else b"")
        return out

    monkeypatch.setattr(history, "_git", spy)
    assert repo.read([blob, f"{v1}:content/example/report.yml"])[0] is None
    assert all(b"x" * 5000 not in out for out in read)
    with pytest.raises(history.GitError, match=r"`content/example/evidence.md` at commit \w{12} is 4.9 KB, larger "):
        repo.materialise(v1, ["content"], tmp_path / "out")

    assert main(["build", str(root)]) == 0
    err = capsys.readouterr().err
    assert "version 1 of `example`" in err and "could not be read" in err and "larger than" in err
    assert not (root / "site/example/v1").exists()
    assert main(["check", str(root), "--base", v1]) == 1
    assert "cannot compare with" in capsys.readouterr().out


def test_files_larger_than_the_limit_are_errors_and_never_read(make_project, monkeypatch, capsys) -> None:
    from generator import safefs

    monkeypatch.setattr(safefs, "MAX_READ_BYTES", 4096)
    root = make_project(**{"content/example/evidence.md": "x" * 5000 + "\n", "bib/huge.bib": "%" * 5000 + "\n"})
    code, text = _check(root, capsys)
    assert code == 1
    assert "content/example/evidence.md: error: is 4.9 KB, larger than the 4.0 KB a text file may be" in text
    assert "bib/huge.bib: error: is 4.9 KB, larger than the 4.0 KB a text file may be" in text


def test_links_out_and_pipes_in_content_and_bib_are_errors_even_unread(make_project, outside, capsys) -> None:
    """Nothing reads `content/example/photo.png` or `bib/notes.txt` today; a link out or a pipe there is still an
    error, so no later reader (the PDF, a download) can be the first to meet it."""
    root = make_project()
    _link(root / "content/example/photo.png", outside / "secret.md")
    os.mkfifo(root / "bib" / "notes.txt")
    _link(root / "content/shared", Path("example"))  # a folder link inside content/ is fine
    code, text = _check(root, capsys)
    assert code == 1
    assert "content/example/photo.png: error: is a symbolic link to a file outside content/" in text
    assert "bib/notes.txt: error: is a named pipe, not a regular file" in text
    assert "content/shared" not in text
