"""A one-off build streams: pages and files go to disk as they are made, each report's full render is let go once
its files are out, reading stays a few Pandoc batches ahead of completing, a warm build reads each cached page only
when it writes it, and the reports that cite one source share what they show of it. Memory is measured in bench/
(`python -m bench`); these tests prove that none of it changes a byte."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

import generator.build as build_module
import generator.sources.references as references_module
from bench.synth import SIZES, generate
from generator import cache
from generator.build import Project, build_project
from generator.cli import main
from generator.config import load_site_config
from generator.publish.site import SiteOutput, build_site, site_files
from generator.render.report import Renderer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four reports of 30 citations each over an 80-entry bibliography (the benchmark's tiny size)."""
    return generate(SIZES["tiny"], tmp_path_factory.mktemp("stream"), seed=5)["report"]


def _project(root: Path, **settings: Any) -> Project:
    return Project(root=root, config=load_site_config(root).model_copy(update={"pdf": False, **settings}))


def _published(site: SiteOutput) -> dict[str, Any]:
    pages = {path: (page.texts(), page.meta(), page.toc) for path, page in site.pages.items()}
    return {"pages": pages, "files": {path: site.data(path) for path in site.files}}


@pytest.mark.parametrize("caches", ["none", "warm"])
def test_a_streamed_build_publishes_what_an_in_memory_build_makes(corpus: Path, tmp_path: Path, caches: str) -> None:
    in_memory = build_site(_project(corpus))
    spool = tmp_path / "spool"
    spool.mkdir()
    streamed = build_site(_project(corpus, **({"cache_dir": ""} if caches == "none" else {})), spool=spool)
    assert streamed.ok and in_memory.ok
    assert _published(streamed) == _published(in_memory)
    assert all(page.html == page.search_html == "" and page.spooled for page in streamed.pages.values())
    assert all(isinstance(path, Path) and path.is_relative_to(spool) for path in streamed.files.values())
    # each report's body was let go once its files were out; the summary the feed, sitemap and nav read stays
    assert all(not r.sections and not r.claims and r.references for r in streamed.result.rendered)
    assert all(r.sections and r.references for r in in_memory.result.rendered)
    assert [r.report.slug for r in streamed.result.rendered] == [r.report.slug for r in in_memory.result.rendered]
    assert streamed.result.render_cache is not None and not streamed.result.render_cache.memory
    assert streamed.sitemap([]) == in_memory.sitemap([])


def test_a_streamed_warm_build_holds_summaries_and_reads_a_render_back_whole_when_needed(corpus: Path,
                                                                                       tmp_path: Path) -> None:
    """With `stream`, every render read from the disk cache stays in memory as its summary only; the site made from
    them is the site made from whole renders. A page not in the cache (here: a changed permalink setting) reads its
    render back whole, and a render whose cache file vanished meanwhile is rendered afresh."""
    settings = {"cache_dir": f".cache/warm-{tmp_path.name}"}
    build_site(_project(corpus, **settings), spool=tmp_path)
    project = _project(corpus, **settings)
    project.stream = True
    result = build_project(project)
    assert result.render_cache is not None and result.render_cache.hits == len(result.rendered)
    assert all(entry.lean for entry in result.render_cache.memory.values())
    assert all(not r.sections and not r.claims and r.references for r in result.rendered)
    entry = result.render_cache.memory["r0002"]
    (corpus / settings["cache_dir"] / "rendered" / result.render_cache.store.path("rendered", "r0002").name).unlink()
    assert result.render_cache.whole(entry, result.bib) is None
    expected = site_files(build_project(_project(corpus, cache_dir="")), permalink="¶")
    assert site_files(result, permalink="¶") == expected


def test_the_spool_holds_only_paths_the_core_makes(corpus: Path, tmp_path: Path) -> None:
    site = SiteOutput(build_project(_project(corpus)), spool=tmp_path)
    with pytest.raises(ValueError):
        site.add("../outside.txt", b"x")
    with pytest.raises(ValueError):
        site.add("/etc/outside.txt", b"x")
    assert not (tmp_path.parent / "outside.txt").exists()


def test_reading_stays_a_few_batches_ahead_of_completing(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold build reads a report, hands it to Pandoc's batch and completes the oldest once its batch is with
    Pandoc: at most AHEAD + BATCH reports are read and not yet completed, and the site is the same."""
    expected = site_files(build_project(_project(corpus, cache_dir="")))
    monkeypatch.setattr(references_module, "BATCH", 1)
    monkeypatch.setattr(build_module, "AHEAD", 1)
    held, most = [0], [0]
    begin, complete = Renderer.begin_report, Renderer.complete_report

    def counted_begin(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        held[0] += 1
        most[0] = max(most[0], held[0])
        return begin(self, *args, **kwargs)

    def counted_complete(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        held[0] -= 1
        return complete(self, *args, **kwargs)

    monkeypatch.setattr(Renderer, "begin_report", counted_begin)
    monkeypatch.setattr(Renderer, "complete_report", counted_complete)
    result = build_project(_project(corpus, cache_dir=""))
    assert held[0] == 0 and most[0] <= 2 < len(result.rendered)
    assert site_files(result) == expected


def test_a_warm_build_reads_each_cached_page_only_when_it_writes_it(corpus: Path) -> None:
    cold = site_files(build_project(_project(corpus)))
    warm = build_project(_project(corpus))
    assert warm.render_cache is not None and warm.render_cache.hits == len(warm.rendered)
    assert all(entry.pages is None for entry in warm.render_cache.memory.values())
    assert site_files(warm) == cold
    for path in (corpus / ".cache/report/pages").iterdir():  # a damaged page entry is a miss, never an error
        path.write_text("not json", encoding="utf-8")
    again = build_project(_project(corpus))
    assert site_files(again) == cold


def test_reports_that_cite_one_source_share_what_they_show_of_it(corpus: Path) -> None:
    for _ in ("cold", "warm"):
        result = build_project(_project(corpus))
        seen: dict[str, Any] = {}
        shared = 0
        for rendered in result.rendered:
            for entry in rendered.references:
                first = seen.setdefault(entry.source.key, entry)
                if first is not entry:
                    assert first.csl is entry.csl and first.formatted is entry.formatted
                    shared += 1
        assert shared > 0


def test_report_build_removes_its_spool(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["build", str(corpus), "--no-pdf"]) == 0
    assert not list(tmp_path.glob("report-spool-*"))
    assert (corpus / "site/r0001/index.html").is_file() and (corpus / "site/r0001/sources.bib").is_file()
    assert main(["build", str(corpus), "--no-pdf", "--engine", "zensical"]) == 0
    folder = cache.machine_folder("zensical-build", corpus)
    assert folder is not None and not (folder / "spool").exists()
    assert (corpus / "site/r0001/index.html").is_file() and (corpus / "site/r0001/card.png").is_file()
