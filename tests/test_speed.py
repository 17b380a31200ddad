"""What makes a build fast, proved to change nothing: Pandoc runs side by side in chunks, styles that never print an
access date skip learning it, share cards drawn in threads, and Zensical's stage kept outside the project between
builds. Timings live in bench/ (`python -m bench`); these tests count calls and compare bytes."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import generator.sources.references as references_module
from generator import cache
from generator.build import Project, build_project
from generator.cli import main
from generator.sources.references import ReferenceFormatter, _chunks, resolve_style_path, style_info

from .conftest import MINIMAL_MKDOCS, write_tree


def _count_pandoc(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real = references_module.run_pandoc

    def counted(args, text, files=None):  # noqa: ANN001, ANN202
        calls.append(list(args))
        return real(args, text, files)

    monkeypatch.setattr(references_module, "run_pandoc", counted)
    return calls


def test_chunks_are_one_per_core_only_when_each_is_worth_a_process(monkeypatch) -> None:
    monkeypatch.setattr(references_module, "default_workers", lambda jobs: min(jobs, 2))
    assert _chunks([], 1000) == []
    assert _chunks(list(range(150)), 1000) == [list(range(150))]  # one process: starting a second costs more
    halves = _chunks(list(range(900)), 1000)
    assert [len(c) for c in halves] == [450, 450] and sum(halves, []) == list(range(900))
    assert [len(c) for c in _chunks(list(range(2500)), 1000)] == [1000, 1000, 500]


def test_side_by_side_keeps_the_order_of_the_jobs() -> None:
    seen: set[str] = set()

    def work(n: int) -> int:
        seen.add(threading.current_thread().name)
        return n * n

    assert references_module._side_by_side(work, list(range(20))) == [n * n for n in range(20)]
    assert references_module._side_by_side(work, [3]) == [9]


def test_a_style_that_never_names_accessed_learns_nothing_and_prints_no_date(make_project, monkeypatch) -> None:
    """Learning which access dates a style prints costs two Pandoc runs; a style without `accessed` needs none."""
    root = make_project()
    text = resolve_style_path("ieee").read_text(encoding="utf-8")
    assert style_info(resolve_style_path("ieee")).mentions_accessed
    plain = text.replace('variable="accessed"', 'variable="issued"')
    (root / "plain.csl").write_text(plain, encoding="utf-8")
    assert not style_info(root / "plain.csl").mentions_accessed
    result = build_project(Project(root=root))
    sources = list(result.bib.sources.values())
    assert any(s.accessed for s in sources)
    calls = _count_pandoc(monkeypatch)
    formatter = ReferenceFormatter(str(root / "plain.csl"), root)
    formatter.prefetch(sources)
    assert [c[1] for c in calls] == ["biblatex"]  # the conversion only
    assert not any(formatter.style_accessed(s) for s in sources)
    calls.clear()
    ieee = ReferenceFormatter("ieee", root)
    ieee.prefetch(sources)
    assert len(calls) == 3 and any(ieee.style_accessed(s) for s in sources)  # conversion, with and without dates


def test_learning_access_dates_in_chunks_gives_what_one_run_gives(make_project, monkeypatch) -> None:
    root = make_project()
    sources = list(build_project(Project(root=root)).bib.sources.values())
    whole = ReferenceFormatter("ieee", root)
    whole.prefetch(sources)
    monkeypatch.setattr(references_module, "ACCESSED_CHUNK", 1)
    monkeypatch.setattr(references_module, "CSL_CHUNK", 1)
    monkeypatch.setattr(references_module, "_chunks", lambda items, size, least=1: [[item] for item in items])
    chunked = ReferenceFormatter("ieee", root)
    chunked.prefetch(sources)
    assert chunked._csl == whole._csl
    assert chunked._accessed == whole._accessed and len(whole._accessed) == len(sources)


def test_cache_files_keep_the_umask_when_threads_write_them(tmp_path) -> None:
    """The umask is read once, before any thread: reading it by setting it would, for a moment, let another
    thread create files readable and writable by everyone."""
    assert os.umask(cache.UMASK) == cache.UMASK
    threads = [threading.Thread(target=cache.write_json, args=(tmp_path / f"{n}.json", {"n": n})) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    modes = {stat.S_IMODE((tmp_path / f"{n}.json").stat().st_mode) for n in range(16)}
    assert modes == {0o666 & ~cache.UMASK}


def _site(root: Path) -> dict[str, bytes]:
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_zensical_stages_outside_the_project_and_keeps_the_stage_between_builds(make_project, monkeypatch) -> None:
    """A kept stage keeps Zensical's own cache warm. It lies beside this machine's cache key, never in the project
    (where a pull request could plant a poisoned cache), and the marker's nonce stays secret and the same."""
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project()
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 0
    first = _site(root)
    folder = cache.machine_folder("zensical-build", root)
    assert folder is not None and not str(folder.resolve()).startswith(str(root.resolve()))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    staged = folder / "zensical.yml"
    assert staged.is_file()
    nonce = cache.machine_secret("zensical-build", root)
    assert nonce in staged.read_text(encoding="utf-8")
    assert not any(nonce.encode() in data for data in first.values())  # the nonce is never published
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 0
    second = _site(root)
    assert [p for p in first if first[p] != second.get(p)] == [] and second.keys() == first.keys()
    write_tree(root, {"content/example/summary.md": (root / "content/example/summary.md").read_text(
        encoding="utf-8").replace("claims", "reports", 1)})
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 0
    assert b"Alpha reports a result" in _site(root)["example/index.html"]  # never an old page from Zensical's cache


def test_zensical_without_caches_or_through_a_planted_link_stages_in_a_temporary_folder(make_project, monkeypatch,
                                                                                        tmp_path) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = make_project(**{"mkdocs.yml": MINIMAL_MKDOCS + "      cache_dir: ''\n"})
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 0
    folder = cache.machine_folder("zensical-build", root)
    assert folder is not None and not any(folder.iterdir())  # `cache_dir: ''`: nothing kept anywhere
    folder.rmdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    folder.symlink_to(target)
    assert cache.machine_folder("zensical-build", root) is None  # never through a link
    write_tree(root, {"mkdocs.yml": MINIMAL_MKDOCS})
    assert main(["build", str(root), "--engine", "zensical", "--no-pdf"]) == 0
    assert (root / "site/example/index.html").is_file() and not any(target.iterdir())


def test_a_batch_of_one_report_is_formatted_as_a_batch_of_many(make_project) -> None:
    """Reports are batched per locale, so a batch can hold a single report (and Pandoc then sees one sources file,
    not a list of them): every report comes out as when it is formatted on its own."""
    root = make_project()
    result = build_project(Project(root=root))
    sources = list(result.bib.sources.values())
    keys = [s.key for s in sources]
    requests = [([f"[@{keys[0]}]", f"[@{keys[1]}; @{keys[2]}]"], sources[:3], "en"),
                ([f"[@{keys[1]}]"], sources[1:2], "en"), ([f"[@{keys[2]}, p. 4]"], sources[2:3], "fr")]
    alone = ReferenceFormatter("ieee", root)
    expected = [alone.format_report(*request) for request in requests]
    many = ReferenceFormatter("ieee", root)
    many.format_many(requests)
    assert len(many._reports) == 3
    assert [many.format_report(*request) for request in requests] == expected
    piped = ReferenceFormatter("ieee", root)
    pipeline = piped.pipeline()
    for request in requests:
        pipeline.add(request)
    pipeline.finish()
    assert len(piped._reports) == 3
    assert [piped.format_report(*request) for request in requests] == expected
    assert all(None not in r.citations for r in expected)
