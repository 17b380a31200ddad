"""Caches are not trusted input: every cache entry is signed with a key of this machine's user, kept outside every
project, so a cache committed to the repository, restored from elsewhere or edited by hand is a miss — it can never
put markup on a page. (Symlinked and misplaced cache folders: tests/test_hostile_files.py.)"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from generator import cache
from generator.build import Project, build_project
from generator.publish.site import site_files

PLANTED = '<script>alert("planted")</script><p id="planted">PLANTED-MARKER</p>'


@pytest.fixture(autouse=True)
def _forget_key() -> object:
    """Each test chooses its key; none leaks into the next test."""
    yield
    cache.machine_key.cache_clear()


def _use_key(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv(cache.KEY_ENV, str(path))
    cache.machine_key.cache_clear()


def _page(root: Path) -> str:
    result = build_project(Project(root=root))
    assert result.ok
    page = site_files(result)["example/index.md"]
    return page.html  # type: ignore[union-attr]


def _plant(root: Path, sign_with: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put markup into every rendered-report entry and every cached page, as an attacker would in a committed cache:
    re-signed with the attacker's own key (`sign_with`), or left with a signature that no longer fits (None)."""
    entries = [*(root / ".cache" / "report" / "rendered").glob("*.json"), *(root / ".cache" / "report" / "pages").glob("*.json")]
    assert any("pages" in entry.parts for entry in entries) and any("rendered" in entry.parts for entry in entries)
    for entry in entries:
        signature, _, text = entry.read_text(encoding="utf-8").partition("\n")
        data = json.loads(text)
        for page in data["data"].get("pages", {}).values():
            page["html"] = PLANTED + page["html"]
        if "rendered" in data["data"]:
            data["data"]["rendered"]["verdict"] = {"m": PLANTED}
        if sign_with is None:
            entry.write_text(signature + "\n" + json.dumps(data), encoding="utf-8")
        else:
            _use_key(monkeypatch, sign_with)
            cache.write_json(entry, data)


def test_a_cache_signed_elsewhere_never_reaches_a_page(make_project, tmp_path, monkeypatch) -> None:
    """The attacker builds on their own machine (their key), plants markup and commits the cache; our build misses."""
    root = make_project()
    _use_key(monkeypatch, tmp_path / "ours.key")
    clean = _page(root)
    _plant(root, sign_with=tmp_path / "attacker.key", monkeypatch=monkeypatch)
    _use_key(monkeypatch, tmp_path / "ours.key")
    assert _page(root) == clean
    assert "PLANTED-MARKER" not in _page(root)


def test_the_same_entry_signed_with_this_machines_key_is_used(make_project, tmp_path, monkeypatch) -> None:
    """The control for the test above: the planted entry is read when its signature fits, so the miss above is the
    signature's doing, not a cache that is never read."""
    root = make_project()
    _use_key(monkeypatch, tmp_path / "ours.key")
    _page(root)
    _plant(root, sign_with=tmp_path / "ours.key", monkeypatch=monkeypatch)
    assert "PLANTED-MARKER" in _page(root)


def test_an_entry_edited_by_hand_is_a_miss(make_project, tmp_path, monkeypatch) -> None:
    root = make_project()
    _use_key(monkeypatch, tmp_path / "ours.key")
    clean = _page(root)
    _plant(root, sign_with=None, monkeypatch=monkeypatch)
    assert _page(root) == clean


@pytest.mark.parametrize("name", ["references", "bib", "rendered", "pages", "cards"])
def test_every_cache_file_is_signed(make_project, tmp_path, monkeypatch, name: str) -> None:
    """Formatted references and parsed .bib files too: a forged reference would put markup in every report."""
    root = make_project()
    _use_key(monkeypatch, tmp_path / "ours.key")
    _page(root)
    target = root / ".cache" / "report" / name
    files = sorted(target.glob("*.json")) if target.is_dir() else [target]
    assert files
    for path in files:
        signature, _, text = path.read_text(encoding="utf-8").partition("\n")
        assert len(signature) == 64 and json.loads(text) is not None
        assert cache.read_json(path) is not None
        _use_key(monkeypatch, tmp_path / "attacker.key")
        assert cache.read_json(path) is None
        _use_key(monkeypatch, tmp_path / "ours.key")


def test_a_cache_file_that_is_a_link_is_never_read(make_project, tmp_path, monkeypatch) -> None:
    _use_key(monkeypatch, tmp_path / "ours.key")
    real = tmp_path / "real.json"
    cache.write_json(real, {"a": 1})
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert cache.read_json(real) == {"a": 1}
    assert cache.read_json(link) is None


def test_the_machine_key_is_private_and_lives_outside_the_project(make_project, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(cache.KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache.machine_key.cache_clear()
    root = make_project()
    _page(root)
    key_file = tmp_path / "xdg" / "report-generator" / "cache.key"
    assert key_file.is_file() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not any(p.name == "cache.key" for p in root.rglob("*"))
    assert cache.machine_key() == key_file.read_bytes()
    cache.machine_key.cache_clear()


def test_a_named_pipe_where_an_entry_should_be_is_a_miss_without_blocking(tmp_path, monkeypatch) -> None:
    import os

    _use_key(monkeypatch, tmp_path / "ours.key")
    pipe = tmp_path / "entry.json"
    os.mkfifo(pipe)
    assert cache.read_json(pipe) is None


def test_a_field_value_cannot_be_written_to_read_as_two_fields() -> None:
    """The fingerprint keying cached references hashes the fields as data: a value holding the old separators
    (`1\\x1fb=2`) is not the same source as two fields `a = 1`, `b = 2`."""
    from pathlib import Path

    from generator.sources.bib import Source

    one = Source("k", "misc", {"a": "1\x1fb=2"}, Path("x.bib"), 1)
    two = Source("k", "misc", {"a": "1", "b": "2"}, Path("x.bib"), 1)
    assert one.fingerprint() != two.fingerprint()
    assert Source("k", "misc", {"a": "1"}, Path("x.bib"), 1).fingerprint() != \
        Source("k", "book", {"a": "1"}, Path("x.bib"), 1).fingerprint()
