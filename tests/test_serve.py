"""Live preview: `report serve` rebuilds when content/ or bib/ change, reusing the parsed bibliography."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.read().decode("utf-8")


def _wait_for(predicate, what: str, limit: float = 60.0):
    deadline = time.monotonic() + limit
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError as exc:
            last_error = exc
        time.sleep(0.3)
    pytest.fail(f"gave up waiting for {what} ({last_error})")


@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_editing_content_and_bib_reloads_the_page(make_project, engine: str) -> None:
    root = make_project()
    port = _free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen([sys.executable, "-m", "generator.cli", "serve", str(root), "--dev-addr", f"127.0.0.1:{port}",
                               "--engine", engine], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/example/"
        _wait_for(lambda: "Does the example hold up?" in _fetch(url), "the first build")
        summary = Path(root / "content/example/summary.md")
        summary.write_text("A freshly edited summary [@alpha2025].\n", encoding="utf-8")
        _wait_for(lambda: "A freshly edited summary" in _fetch(url), "a rebuild after editing content/")
        summary.write_text("A typo while writing [@alpha2052].\n", encoding="utf-8")
        page = _wait_for(lambda: next((t for t in [_fetch(url)] if "A typo while writing" in t), ""), "a preview with a typo")
        assert 'class="rg-cite-missing"' in page and "?alpha2052" in page
        bib = Path(root / "bib/sources.bib")
        bib.write_text(bib.read_text(encoding="utf-8").replace("Alpha announces a result", "Alpha announces a new result"),
                       encoding="utf-8")
        _wait_for(lambda: "Alpha announces a new result" in _fetch(url), "a rebuild after editing bib/")
    finally:
        server.terminate()
        out, log = server.communicate(timeout=10)
    if engine == "mkdocs":
        assert f"Serving on http://127.0.0.1:{port}/" in log
    else:  # the preview's stage is kept in this machine's folder for the project (never in the project: a pull
        # request could plant a poisoned Zensical cache there), so the next preview starts warm
        from generator.cache import machine_folder

        stage = machine_folder("zensical-serve", root)
        assert stage is not None and (stage / "zensical.yml").is_file()
        assert not (root / ".cache/report/zensical-serve").exists()
    assert "content/example/summary.md:1: error: unknown citation key `alpha2052`" in out + log


def test_plugin_keeps_the_parsed_bibliography_between_builds(make_project, monkeypatch) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import generator.sources.bib as bibmod

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project()
    parsed: list[str] = []
    real = bibmod.parse_bib_file
    monkeypatch.setattr(bibmod, "parse_bib_file", lambda path, root=None: parsed.append(path.name) or real(path, root))
    config = load_config(str(root / "mkdocs.yml"))
    plugin = config.plugins["report"]
    build(config)
    (root / "content/example/summary.md").write_text("Edited [@alpha2025].\n", encoding="utf-8")
    config2 = load_config(str(root / "mkdocs.yml"))
    config2.plugins["report"] = plugin  # what `mkdocs serve` does for plugins that define on_startup
    build(config2)
    assert parsed == ["sources.bib"]
    assert "Edited" in (root / "site/example/index.html").read_text(encoding="utf-8")


def test_a_bib_folder_made_after_the_preview_started_is_watched(tmp_path: Path) -> None:
    from generator.cli import main

    from .conftest import MINIMAL_BIB

    desk = tmp_path / "desk"
    assert main(["init", str(desk)]) == 0
    assert main(["new", "first", "--path", str(desk)]) == 0
    for path in (desk / "bib").iterdir():
        path.unlink()
    (desk / "bib").rmdir()
    port = _free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen([sys.executable, "-m", "generator.cli", "serve", str(desk), "--dev-addr",
                               f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/first/"
        _wait_for(lambda: "TODO: the verdict" in _fetch(url), "the first build")
        (desk / "content/first/summary.md").write_text("Alpha said so [@alpha2025].\n", encoding="utf-8")
        _wait_for(lambda: "?alpha2025" in _fetch(url), "a preview with a key not yet in bib/")
        (desk / "bib").mkdir(exist_ok=True)  # `report serve` made it, so it is watched; making it again is harmless
        (desk / "bib/sources.bib").write_text(MINIMAL_BIB, encoding="utf-8")
        _wait_for(lambda: "Alpha announces a result" in _fetch(url), "a rebuild after adding a source to bib/")
    finally:
        server.terminate()
        server.communicate(timeout=10)
