"""Nothing lost, nothing random: the build never writes under content/ or bib/, a failed build keeps the old
site/, and two builds of the same input give byte-identical sites dated by the commit or the content."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.cli import main
from generator.reproducible import ENV, build_epoch, content_epoch, source_date_epoch

from .conftest import MINIMAL_REPORT

EXAMPLE_DATE = dt.date(2026, 11, 28)  # the newest checked_on / revision date in content/enteromix/report.yml


@pytest.fixture(autouse=True)
def _no_caller_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test as a user would: no SOURCE_DATE_EPOCH in the environment."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def with_site_url(root: Path) -> Path:
    """Give the project a site_url, so the build writes sitemap.xml (dated <lastmod> entries)."""
    config = root / "mkdocs.yml"
    config.write_text("site_url: https://reports.example.org/\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def lastmods(site: Path) -> set[str]:
    return set(re.findall(r"<lastmod>([^<]+)</lastmod>", (site / "sitemap.xml").read_text(encoding="utf-8")))


def gzip_mtime(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[4:8], "little")


def midnight(date: dt.date) -> int:
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp())


def test_two_builds_of_the_example_are_byte_identical(example_copy: Path, capsys) -> None:
    root = with_site_url(example_copy)
    assert main(["build", str(root)]) == 0
    first = hashes(root / "site")
    assert main(["build", str(root)]) == 0
    second = hashes(root / "site")
    assert first == second
    assert any(name.endswith(".pdf") for name in first)  # PDFs are part of the comparison
    # Dated from the content (no git here), not the clock; the environment is left as it was.
    assert lastmods(root / "site") == {EXAMPLE_DATE.isoformat()}
    assert gzip_mtime(root / "site" / "sitemap.xml.gz") == midnight(EXAMPLE_DATE)
    assert ENV not in os.environ


def test_builds_in_different_folders_are_identical(make_project, tmp_path: Path, capsys) -> None:
    """No temporary or absolute path leaks into the output (the site is built in a staging folder)."""
    one = with_site_url(make_project())
    other = tmp_path / "elsewhere" / "copy"
    other.parent.mkdir()
    subprocess.run(["cp", "-r", str(one), str(other)], check=True)
    assert main(["build", str(one)]) == 0
    assert main(["build", str(other)]) == 0
    assert hashes(one / "site") == hashes(other / "site")


def _git(root: Path, *args: str, date: str = "") -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True, text=True).stdout


def test_build_date_is_the_last_commit(make_project, capsys) -> None:
    root = with_site_url(make_project())
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Reports", date="2026-03-04T12:00:00+00:00")
    commit = int(dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC).timestamp())
    assert source_date_epoch(root) == commit
    assert main(["build", str(root)]) == 0
    assert lastmods(root / "site") == {"2026-01-27"}  # the sitemap dates pages by their content, not the commit


def test_caller_source_date_epoch_wins(make_project, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = with_site_url(make_project())
    monkeypatch.setenv(ENV, str(midnight(dt.date(2001, 2, 3))))
    assert main(["build", str(root)]) == 0
    assert lastmods(root / "site") == {"2026-01-27"}  # content dates, whatever the build's date
    assert os.environ[ENV] == str(midnight(dt.date(2001, 2, 3)))


def test_epoch_never_comes_from_the_clock(tmp_path: Path) -> None:
    """Content dates when there is no commit; 1970 when there is nothing at all."""
    report = MINIMAL_REPORT.replace("  - {version: 1, date: 2026-01-27",
                                    "  - {version: 1, date: 2025-12-01, kind: update, note: \"Draft.\"}\n"
                                    "  - {version: 2, date: 2026-01-27")
    (tmp_path / "content" / "a").mkdir(parents=True)
    (tmp_path / "content" / "a" / "report.yml").write_text(report, encoding="utf-8")
    assert content_epoch(tmp_path / "content") == midnight(dt.date(2026, 1, 27))
    assert source_date_epoch(tmp_path) == midnight(dt.date(2026, 1, 27))
    assert source_date_epoch(tmp_path / "empty") == 0
    with build_epoch(tmp_path) as epoch:
        assert os.environ[ENV] == str(epoch) == str(midnight(dt.date(2026, 1, 27)))
    assert ENV not in os.environ


def test_build_never_writes_under_content_or_bib(example_copy: Path, capsys) -> None:
    watched = {name: hashes(example_copy / name) for name in ("content", "bib")}
    assert main(["check", str(example_copy)]) == 0
    assert main(["build", str(example_copy)]) == 0
    assert main(["build", str(example_copy)]) == 0  # a rebuild, with caches warm
    assert {name: hashes(example_copy / name) for name in ("content", "bib")} == watched


def test_failed_build_leaves_the_previous_site_intact(make_project, capsys) -> None:
    root = make_project()
    assert main(["build", str(root)]) == 0
    before = hashes(root / "site")
    report = root / "content" / "example" / "report.yml"
    report.write_text(report.read_text(encoding="utf-8").replace("rating: misleading", "rating: wrong"), encoding="utf-8")
    assert main(["build", str(root)]) == 1
    assert "site/ left as it was" in capsys.readouterr().err
    assert hashes(root / "site") == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".site")) == []  # no staging folder left behind


def test_crashed_build_leaves_the_previous_site_intact(make_project, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = make_project()
    assert main(["build", str(root)]) == 0
    before = hashes(root / "site")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("generator.adapters.mkdocs_plugin.build_site", crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["build", str(root)])
    assert hashes(root / "site") == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".site")] == []
    assert ENV not in os.environ


def test_sitemap_gzip_carries_no_clock(make_project, capsys) -> None:
    root = with_site_url(make_project())
    assert main(["build", str(root)]) == 0
    with gzip.open(root / "site" / "sitemap.xml.gz") as handle:
        assert handle.read() == (root / "site" / "sitemap.xml").read_bytes()
    assert gzip_mtime(root / "site" / "sitemap.xml.gz") == midnight(dt.date(2026, 1, 27))


def test_plain_mkdocs_build_dates_the_sitemap_by_the_content(make_project, monkeypatch) -> None:
    """`mkdocs build` (not only `report build`) writes our sitemap, dated by the content (2026-01-27), not by the
    commit (2026-01-28) or the clock; it still takes SOURCE_DATE_EPOCH from the project and restores it."""
    import os
    import subprocess

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    from .conftest import MINIMAL_MKDOCS

    root = make_project(**{"mkdocs.yml": "site_url: https://reports.example.org/\n" + MINIMAL_MKDOCS})
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-28T12:00:00Z", "GIT_COMMITTER_DATE": "2026-01-28T12:00:00Z"}
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)
    build(load_config(str(root / "mkdocs.yml")))
    sitemap = (root / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert "<lastmod>2026-01-27</lastmod>" in sitemap and "2026-01-28" not in sitemap
    assert "SOURCE_DATE_EPOCH" not in os.environ
