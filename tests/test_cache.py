"""Caching makes builds faster, never different: cold, warm and disabled caches give the same bytes.

No timings here (the benchmark in bench/ measures speed); these tests prove equality, that the warm caches are
really used, and that an edited entry or CSL style is never answered from a stale cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

import generator.render.report as render_module
import generator.sources.bib as bib_module
import generator.sources.references as references_module
from generator.build import Project, build_project
from generator.config import load_site_config
from generator.publish.site import download_item, site_files, sources_bibtex, sources_csl_json
from generator.sources.references import resolve_style_path

from .conftest import MINIMAL_BIB, MINIMAL_MKDOCS, MINIMAL_REPORT, REPO

# Many entries with accents, braces, @string, `&` and `%`, so the caches hold more than one kind of value.
EXTRA_BIB = "".join(
    f"""
@article{{extra{i},
  author = {{M{{\\"u}}ller, Hans and Garc{{\\'i}}a, Jos{{\\'e}}}},
  title = {{A {{DNA}} study number {i} --- part {i % 3}}},
  journaltitle = {{Journal of Examples}},
  pages = {{{i}--{i + 9}}},
  date = {{2024-0{1 + i % 9}-1{i % 10}}},
  doi = {{10.1234/x%2F{i}}},
  url = {{https://example.org/x?id={i}&lang=en}},
  kind = {{peer-reviewed}},
  note = {{Seen on p.~{i}.}},
}}
"""
    for i in range(1, 9)
)
CITING = "More evidence [@extra1; @extra2, p. 3] and [@extra5]; see also [@extra8].\n"


def _project(make_project, cache_dir: str | None = None) -> Path:
    mkdocs = MINIMAL_MKDOCS if cache_dir is None else MINIMAL_MKDOCS + f"      cache_dir: {json.dumps(cache_dir)}\n"
    return make_project(**{"mkdocs.yml": mkdocs, "bib/sources.bib": MINIMAL_BIB + EXTRA_BIB,
                           "content/example/evidence.md": "The study [@beta2024, p. 12] and [@alpha2025].\n" + CITING})


def _generated(root: Path) -> dict[str, str | bytes]:
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    return site_files(result)


def _with_cache_dir(root: Path, cache_dir: str) -> dict[str, str | bytes]:
    config = load_site_config(root).model_copy(update={"cache_dir": cache_dir})
    result = build_project(Project(root=root, config=config))
    assert result.ok
    return site_files(result)


def test_cold_warm_disabled_and_rebuilt_outputs_are_identical(make_project, monkeypatch) -> None:
    root = _project(make_project)
    disabled = _with_cache_dir(root, "")
    assert not (root / ".cache").exists(), "cache_dir: '' must not write a disk cache"
    cold = _generated(root)
    assert list((root / ".cache" / "report" / "references").glob("*.json"))
    assert list((root / ".cache" / "report" / "bib").glob("*.json"))

    # A warm build in a new process would find everything on disk: prove it by making the slow paths fail.
    def no_parse(*args, **kwargs):
        raise AssertionError("the warm build parsed a .bib file instead of reading the cache")

    def no_format(*args, **kwargs):
        raise AssertionError("the warm build ran Pandoc instead of reading the cache")

    def no_render(self, report, problems):
        raise AssertionError(f"the warm build rendered `{report.slug}` instead of reading the cache")

    with monkeypatch.context() as patch:
        patch.setattr(bib_module, "parse_bib_file", no_parse)
        patch.setattr(references_module, "run_pandoc", no_format)
        patch.setattr(render_module.Renderer, "render_report", no_render)
        warm = _generated(root)

    project = Project(root=root)  # `mkdocs serve`: one project, rebuilt (in-memory caches)
    first = site_files(build_project(project))
    rebuilt = site_files(build_project(project))
    assert disabled == cold == warm == first == rebuilt


def test_edited_entry_is_never_served_from_the_cache(make_project) -> None:
    root = _project(make_project)
    _generated(root)
    bib = root / "bib" / "sources.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("A {DNA} study number 5", "A {RNA} survey number 5"),
                   encoding="utf-8")
    warm = _generated(root)
    assert "RNA survey number 5" in warm["example/index.md"].html
    assert "DNA study number 5" not in warm["example/index.md"].html
    assert warm == _with_cache_dir(root, "")


def test_edited_csl_style_is_never_served_from_the_cache(make_project) -> None:
    root = _project(make_project)
    style = root / "styles" / "house.csl"
    style.parent.mkdir()
    shutil.copy(resolve_style_path("ieee"), style)
    mkdocs = root / "mkdocs.yml"
    mkdocs.write_text(mkdocs.read_text(encoding="utf-8") + "      csl_style: styles/house.csl\n", encoding="utf-8")
    before = _generated(root)
    text = style.read_text(encoding="utf-8")
    assert 'prefix=" doi: "' in text
    style.write_text(text.replace('prefix=" doi: "', 'prefix=" DOI "'), encoding="utf-8")  # same name, new content
    after = _generated(root)
    assert "DOI 10.1234/x%2F5" in after["example/index.md"].html
    assert after != before
    assert after == _with_cache_dir(root, "")


def test_per_source_pieces_equal_whole_library_output(make_project) -> None:
    """sources.bib / sources.json are assembled from per-source pieces; they equal writing them in one go."""
    for root in (_project(make_project), REPO):
        result = build_project(Project(root=root))
        for rendered in result.rendered:
            library = Library()
            for entry in rendered.references:
                s = entry.source
                library.add(Entry(s.entry_type, s.key, [Field(k, v) for k, v in s.fields.items()]))
            assert sources_bibtex(rendered) == bibtexparser.write_string(library)
            items = [download_item(entry) for entry in rendered.references]
            assert all(entry.csl for entry in rendered.references)  # Pandoc's items, as formatted
            assert sources_csl_json(rendered) == json.dumps(items, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_unused_sources_are_summed_up_beyond_a_limit(make_project) -> None:
    from generator.build import UNUSED_LISTED

    spare = "".join(f"@online{{spare{i:03d},\n  title = {{Spare {i}}},\n  date = {{2025}},\n"
                    f"  url = {{https://example.org/{i}}},\n  kind = {{news}},\n}}\n" for i in range(UNUSED_LISTED + 7))
    root = make_project(**{"bib/spare.bib": spare})
    result = build_project(Project(root=root))
    unused = [p for p in result.problems.warnings if p.code == "unused-source"]
    assert len(unused) == UNUSED_LISTED + 1
    assert unused[-1].message.startswith("7 more sources, from `spare025` on")  # by file and line


def _site_bytes(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_report_build_site_is_byte_identical_cold_warm_and_uncached(make_project, tmp_path) -> None:
    """The whole site, through MkDocs, from separate processes (as a user runs `report build`)."""
    root = _project(make_project)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")

    def build() -> dict[str, bytes]:
        subprocess.run([sys.executable, "-m", "generator.cli", "build", "--no-pdf", str(root)], check=True, env=env,
                       capture_output=True, cwd=REPO)
        return _site_bytes(root / "site")

    cold = build()
    warm = build()
    mkdocs = root / "mkdocs.yml"
    mkdocs.write_text(mkdocs.read_text(encoding="utf-8") + '      cache_dir: ""\n', encoding="utf-8")
    shutil.rmtree(root / ".cache")
    uncached = build()
    assert not (root / ".cache").exists()
    assert cold.keys() == warm.keys() == uncached.keys()
    for name in cold:
        assert cold[name] == warm[name] == uncached[name], name


SECOND = {
    "content/second/report.yml": MINIMAL_REPORT.replace("Does the example hold up?", "Does the second one hold up?")
    .replace('short_title: "Example"', 'short_title: "Second"').replace("[@alpha2025]", "[@extra3]")
    .replace("source: alpha2025", "source: extra3").replace("sources: [alpha2025, gamma2025]", "sources: [extra3]"),
    "content/second/summary.md": "Only the third extra source [@extra3].\n",
    "content/second/evidence.md": "Again [@extra3, p. 2] and the study [@beta2024].\n",
}


def _two_reports(make_project) -> Path:
    root = _project(make_project)
    for name, text in SECOND.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _counts(project: Project) -> tuple[dict[str, str | bytes], tuple[int, int]]:
    result = build_project(project)
    assert result.ok, [p.format() for p in result.problems.errors]
    cache = project.render_cache
    hits, misses = cache.hits, cache.misses
    cache.hits = cache.misses = 0
    return site_files(result), (hits, misses)


def test_an_edited_entry_re_renders_exactly_the_reports_that_cite_it(make_project) -> None:
    root = _two_reports(make_project)
    assert _counts(Project(root=root))[1] == (0, 2)  # cold
    assert _counts(Project(root=root))[1] == (2, 0)  # warm, from disk
    bib = root / "bib" / "sources.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("A {DNA} study number 3", "A {DNA} survey number 3"),
                   encoding="utf-8")
    files, counts = _counts(Project(root=root))
    assert counts == (1, 1)  # only `second` cites extra3
    assert "survey number 3" in files["second/index.md"].html and "survey number 3" not in files["example/index.md"].html
    assert files == _with_cache_dir(root, "")


def test_a_serve_rebuild_after_a_one_word_edit_renders_only_that_report(make_project) -> None:
    root = _two_reports(make_project)
    project = Project(root=root)  # kept across rebuilds, as the plugin keeps it under `mkdocs serve`
    _counts(project)
    evidence = root / "content" / "second" / "evidence.md"
    evidence.write_text(evidence.read_text(encoding="utf-8").replace("Again", "Once more"), encoding="utf-8")
    files, counts = _counts(project)
    assert counts == (1, 1)
    assert "Once more" in files["second/index.md"].html
    assert files == _with_cache_dir(root, "")


def test_a_damaged_or_tampered_render_cache_is_a_miss_never_an_error(make_project) -> None:
    root = _two_reports(make_project)
    expected = _counts(Project(root=root))[0]
    entries = sorted((root / ".cache" / "report" / "rendered").glob("*.json"))
    assert len(entries) == 2
    entries[0].write_text("{not json", encoding="utf-8")
    signature, _, text = entries[1].read_text(encoding="utf-8").partition("\n")
    data = json.loads(text)
    data["data"]["rendered"]["verdict"] = {"python": "os.system('echo hacked')"}  # unknown tag: not decoded, not run
    entries[1].write_text(signature + "\n" + json.dumps(data), encoding="utf-8")  # the old signature no longer fits
    files, counts = _counts(Project(root=root))
    assert counts == (0, 2) and files == expected


def test_a_source_added_later_is_never_missing_from_a_cached_page(make_project) -> None:
    """A report citing a key the bibliography lacks is not cached, so adding the entry shows it at once."""
    root = make_project(**{"content/example/report.yml": MINIMAL_REPORT.replace("sources: [alpha2025, gamma2025]",
                                                                               "sources: [alpha2025, later2026]")})
    project = Project(root=root)
    first = build_project(project)
    assert [p.message for p in first.problems.errors] == ["unknown source key `later2026`"]
    bib = root / "bib" / "sources.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + "@online{later2026,\n  title = {Added later},\n  date = {2026},\n"
                   "  url = {https://example.org/later},\n  kind = {news},\n}\n", encoding="utf-8")
    files, _ = _counts(project)
    assert "Added later" in files["example/index.md"].html


def test_sources_are_converted_in_one_call_and_each_report_formatted_in_one(make_project, monkeypatch) -> None:
    """Pandoc runs once for all the sources' CSL items (and at most twice more to learn which access dates the
    style prints), then once per report; converting sources together gives what converting each alone gives."""
    from generator.sources.references import ReferenceFormatter, pandoc_csl

    root = _project(make_project)
    result = build_project(Project(root=root, config=load_site_config(root)))
    sources = list(result.bib.sources.values())
    calls: list[str] = []
    real = references_module.run_pandoc

    def counted(args, text, files=None):
        calls.append(args[1])
        return real(args, text, files)

    monkeypatch.setattr(references_module, "run_pandoc", counted)
    formatter = ReferenceFormatter("apa")
    formatter.prefetch(sources)
    assert calls.count("biblatex") == 1 and len(calls) <= 3, calls
    assert formatter.prefetch(sources) == 0 and len(calls) <= 3  # all known now
    calls.clear()
    renderer = render_module.Renderer(result.config, result.bib, formatter)
    for report in result.reports:
        renderer.render_report(report, result.problems)
    assert len(calls) == len(result.reports), calls
    together = pandoc_csl(sources)
    assert all(pandoc_csl([source])[source.key] == together[source.key] for source in sources)


def test_the_store_is_one_key_scheme_for_every_disk_cache(tmp_path, monkeypatch) -> None:
    """Every disk cache (parsed .bib files, formatted references, rendered reports) is an entry of cache.Store,
    valid for a key that always includes the code version: a new release misses everything it did not write."""
    from generator import cache

    store = cache.Store(tmp_path)
    key = cache.Store.key("rendered", "input")
    store.write("rendered", "example", key, {"x": 1})
    assert store.read("rendered", "example", key) == {"x": 1}
    assert store.read("rendered", "example", cache.Store.key("rendered", "other input")) is None
    assert store.read("bib", "example", key) is None  # namespaces never share entries
    monkeypatch.setattr(cache, "code_version", lambda: "a-later-release")
    assert store.read("rendered", "example", cache.Store.key("rendered", "input")) is None
    assert cache.Store(None).read("rendered", "example", key) is None  # `cache_dir: ""`: nothing stored
    cache.Store(None).write("rendered", "example", key, {"x": 1})
    assert sorted(p.parent.name for p in tmp_path.rglob("*.json")) == ["rendered"]


def test_reports_formatted_together_equal_reports_formatted_alone(make_project) -> None:
    """`format_many` puts several reports in one Pandoc process (a Lua filter runs citeproc on each): every
    report's citations and reference list are exactly what a process of its own gives, numbering and year
    suffixes included."""
    from generator.sources.references import ReferenceFormatter

    result = build_project(Project(root=_project(make_project)))
    sources = list(result.bib.sources.values())
    bib = result.bib.sources
    requests = [([f"[@{s.key}]" for s in sources[i::2]] + ["[see @beta2024, p. 4]"], [*sources[i::2], bib["beta2024"]])
                for i in range(2)]
    requests.append((["@beta2024 [p. 3]", "[@alpha2025; @gamma2025]"], [bib["beta2024"], bib["alpha2025"], bib["gamma2025"]]))
    for style in ("ieee", "apa"):
        together = ReferenceFormatter(style)
        together.format_many(requests, workers=2)
        for citations, cited in requests:
            alone = ReferenceFormatter(style).format_report(citations, cited)
            assert together.format_report(citations, cited) == alone
            assert all(c is not None for c in alone.citations) and len(alone.bibliography) == len({s.key for s in cited})
