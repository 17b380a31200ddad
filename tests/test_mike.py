"""Site-wide versions with mike: `mike deploy` builds through our plugin into the gh-pages branch of a git repo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import MINIMAL_MKDOCS
from .gitrepo import V3_REPORT, commit, git, make_history_repo

MIKE_MKDOCS = MINIMAL_MKDOCS + "extra:\n  version:\n    provider: mike\n"


def _mike(root: Path, *args: str) -> None:
    """Run the `mike` command (it has no `python -m` entry point) with a fixed identity and no global config."""
    executable = shutil.which("mike")
    if executable is None:
        pytest.skip("mike is not installed (pip install -e '.[test]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_COMMITTER_DATE": "2026-03-20T12:00:00+00:00", "GIT_AUTHOR_DATE": "2026-03-20T12:00:00+00:00"}
    done = subprocess.run([executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr


def _show(root: Path, path: str) -> str:
    return git(root, "show", f"gh-pages:{path}")


def test_mike_deploys_site_versions_built_by_our_plugin(tmp_path) -> None:
    root = tmp_path / "project"
    make_history_repo(root, mkdocs_yml=MIKE_MKDOCS)
    _mike(root, "deploy", "2026.03", "latest")
    _mike(root, "set-default", "latest")

    # a later site version: the report gets an editorial revision 4
    (root / "content/example/report.yml").write_text(
        V3_REPORT + '  - {version: 4, date: 2026-03-20, kind: editorial, note: "Wording."}\n', encoding="utf-8")
    commit(root, "Example v4: editorial", "2026-03-20T12:00:00+00:00")
    _mike(root, "deploy", "--update-aliases", "2026.04", "latest")

    versions = json.loads(_show(root, "versions.json"))
    assert [(v["version"], v["aliases"]) for v in versions] == [("2026.04", ["latest"]), ("2026.03", [])]
    files = set(git(root, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    for site in ("2026.03", "2026.04"):
        assert {f"{site}/index.html", f"{site}/feed.xml", f"{site}/example/index.html", f"{site}/example/v1/index.html",
                f"{site}/example/v3/changes/index.html"} <= files
    assert "2026.03/example/v4/index.html" not in files and "2026.04/example/v4/index.html" in files
    # the frozen site version keeps what it said then; the newer one has the new revision and its feed entry
    assert "Version 4" not in _show(root, "2026.03/example/index.html")
    assert '<a href="v4/">Version 4</a>' in _show(root, "2026.04/example/index.html")
    assert "version 4: editorial" in _show(root, "2026.04/feed.xml")
    # Material's version selector is configured for mike, and the feed is linked from each version's home page
    home = _show(root, "2026.04/index.html")
    assert '"provider": "mike"' in home
    assert 'type="application/atom+xml"' in home and 'href="feed.xml"' in home
    assert 'href="latest/"' in _show(root, "index.html")  # set-default: the site root redirects to the alias,
    assert _show(root, "latest") == "2026.04"  # a symlink that --update-aliases moved to the new version
    # mike only wrote to gh-pages: the working branch and its content are untouched
    assert git(root, "status", "--porcelain") == "" and git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
