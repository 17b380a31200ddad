"""The benchmark's own pieces, without timing any engine: sizes, deterministic corpora, the table, the verdicts (a
target that holds, one missed, one n/a, one failed), the curve's Markdown and PNG, and the per-reference worker on
a tiny corpus."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench import run
from bench.curve import write_curve_png
from bench.run import SAMPLE_KEYS, TARGETS, Sample, curve_series, curve_table, results_json, table, verdict_size, verdicts
from bench.synth import SIZES, edit_targets, generate


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _samples(seconds: float, mib: float, **overrides: Sample) -> dict[str, Sample]:
    samples = {key: Sample([seconds], [int(mib * 1024)]) for key in SAMPLE_KEYS}
    samples.update(overrides)
    return samples


def test_sizes_include_xlarge_at_four_times_large() -> None:
    xlarge, large = SIZES["xlarge"], SIZES["large"]
    assert (xlarge.reports, xlarge.entries) == (2000, 40_000)
    assert (xlarge.citations, xlarge.words) == (large.citations, large.words) == (30, 1500)
    assert list(SIZES).index("large") < list(SIZES).index("xlarge")
    args = run.make_parser().parse_args(["--sizes", "small,medium,large,xlarge", "--repeats", "5"])
    assert args.xlarge_repeats == 1 and args.repeats == 5 and args.large_repeats is None


def test_targets_are_those_of_the_issue() -> None:
    assert TARGETS["cold"] == 1.15 and TARGETS["warm"] == 1.00 and TARGETS["rebuild"] == 1.05
    assert TARGETS["rss"] == 1.30 and TARGETS["pdf"] == 1.20 and TARGETS["scale"] == 4.2


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(SIZES["tiny"], tmp_path / "a", seed=3)
    second = generate(SIZES["tiny"], tmp_path / "b", seed=3)
    for kind in ("report", "plain", "bibtex"):
        assert _files(first[kind]) == _files(second[kind]) != {}
    other = generate(SIZES["tiny"], tmp_path / "c", seed=4)
    assert _files(other["plain"]) != _files(first["plain"])
    assert len(list((first["report"] / "content").iterdir())) == SIZES["tiny"].reports
    for target in edit_targets(first).values():
        assert "Initially" in target.read_text(encoding="utf-8")


def test_verdicts_hold_miss_and_say_n_a() -> None:
    medium = _samples(10.0, 100.0)
    medium["cold"] = Sample([11.0], [120 * 1024])  # 1.10× plain: holds
    medium["warm"] = Sample([12.0], [100 * 1024])  # 1.20× plain: missed (target 1.00)
    medium["zensical-warm"] = Sample(error="exited 1")  # failed
    medium["refs-ours"], medium["refs-pandoc"] = Sample([0.002], count=600), Sample([0.001], count=274)
    results = {"small": _samples(2.0, 50.0), "medium": medium}
    lines = verdicts(results, None)
    text = "\n".join(lines)
    assert verdict_size(results) == "medium"
    assert "- MkDocs: cold report build ≤ 1.15× plain MkDocs (medium): 1.10× → holds" in lines
    assert "- MkDocs: warm report build ≤ 1.00× plain MkDocs (medium): 1.20× → MISSED" in lines
    assert "- MkDocs: xlarge time ≤ 4.2× large time (report build, cold): —× → n/a (needs large and xlarge)" in lines
    assert "Zensical: warm report build ≤ 1.00× plain Zensical (its cache warm) (medium): —× → failed" in text
    assert "Zensical: rebuild after a 1-word edit ≤ 1.05× plain Zensical rebuild (medium): 1.00× → holds" in text
    assert "2.00 ms (600 references) vs 1.00 ms (274 entries, one process): 2.00× → MISSED" in text
    assert "PDF export ≤ 1.2× WeasyPrint alone: —× → n/a (--no-pdf)" in text
    for engine in ("MkDocs", "Zensical"):  # six figures per engine
        assert sum(line.startswith(f"- {engine}: ") for line in lines) == 6


def test_scale_verdicts_use_large_and_xlarge() -> None:
    results = {"medium": _samples(5.0, 80.0), "large": _samples(10.0, 100.0),
               "xlarge": _samples(40.0, 120.0, cold=Sample([45.0], [200 * 1024]))}
    lines = verdicts(results, {"available": True, "export": [1.1], "weasyprint": [1.0]})
    assert verdict_size(results) == "large"
    assert "- MkDocs: xlarge time ≤ 4.2× large time (report build, cold): 4.50× → MISSED" in lines
    assert "- MkDocs: xlarge peak RSS ≤ 1.30× plain MkDocs xlarge: 1.67× → MISSED" in lines
    assert "- Zensical: xlarge time ≤ 4.2× large time (report build, cold): 4.00× → holds" in lines
    assert "- Enteromix PDF export ≤ 1.2× WeasyPrint alone: 1.10× → holds" in lines
    assert verdict_size({"xlarge": results["xlarge"]}) is None


def test_table_and_curve_list_every_size_and_engine() -> None:
    results = {"small": _samples(2.0, 50.0), "medium": _samples(8.0, 90.0, warm=Sample(error="boom"))}
    rows = table(results, {"available": False, "reason": "no WeasyPrint"})
    assert "| small (20×1500w×30c, 400 bib) | report build --engine zensical, cold cache | 2.00 | 1.00 |" in rows
    assert "| medium (100×1500w×30c, 2000 bib) | report build, warm cache | failed |" in rows
    assert "pdf: not available (no WeasyPrint)" in rows
    curve = curve_table(results)
    assert "### MkDocs" in curve and "### Zensical" in curve
    assert "| medium | 100 | 2000 | 3000 | 8.00 | 90 | 8.00 | 90 | failed |" in curve
    times, rss = curve_series(results)
    assert times["MkDocs: report cold"] == [(20, 2.0), (100, 8.0)]
    assert times["MkDocs: report warm"] == [(20, 2.0)]
    assert rss["Zensical: plain warm"] == [(20, 50.0), (100, 90.0)]
    data = json.loads(json.dumps(results_json(results, None, ["- a verdict"])))
    assert data["sizes"]["medium"]["entries"] == 2000 and data["samples"]["medium"]["warm"]["error"] == "boom"


def test_curve_png_is_a_sensible_image(tmp_path: Path) -> None:
    from PIL import Image

    results = {name: _samples(scale, 40 * scale) for name, scale in (("small", 1.5), ("medium", 6.0), ("large", 30.0))}
    path = write_curve_png(*curve_series(results), tmp_path / "out" / "curve.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(path)
    assert image.format == "PNG" and 800 <= image.width <= 2000 and 400 <= image.height <= 1200
    assert len(image.convert("RGB").getcolors(1 << 16) or []) > 4  # axes, text and coloured lines
    assert write_curve_png(*curve_series(results), tmp_path / "again.png").read_bytes() == data
    empty = write_curve_png({}, {}, tmp_path / "empty.png")
    assert Image.open(empty).width == image.width


def test_references_worker_counts_every_reports_sources(tmp_path: Path) -> None:
    pytest.importorskip("pypandoc")
    from bench.worker import references

    roots = generate(SIZES["tiny"], tmp_path, seed=1)
    data = references(roots["report"], repeats=1)
    assert data["reports"] == SIZES["tiny"].reports
    assert data["references"] == SIZES["tiny"].reports * SIZES["tiny"].citations
    assert 0 < data["entries"] <= data["references"]
    assert len(data["ours"]) == len(data["pandoc"]) == 1 and data["ours"][0] > 0 and data["pandoc"][0] > 0
