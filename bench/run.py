"""Benchmark `report build` against the plain engine (the floor) on one synthetic corpus, with both engines:
MkDocs + Material and Zensical.

    python -m bench                                    # small, medium and large
    python -m bench --sizes small,medium,large,xlarge  # and the scale check (xlarge runs once: --xlarge-repeats)
    python -m bench --sizes small,medium --repeats 1 --no-bibtex
    python bench/run.py --sizes large --repeats 2 --profile

For every size, and for each engine against a plain build of the same pages by that engine, it measures `report
build` with its cache removed (cold) and kept (warm), and a rebuild after a one-word edit (MkDocs: what `mkdocs
serve` does; Zensical: what `report serve --engine zensical` does per change, against zensical.build of the plain
pages). Zensical keeps its own cache (`.cache/` beside the config): its floor is timed with that cache removed and,
after one untimed run, kept. Also mkdocs-bibtex (unless --no-bibtex), report's own work without the engine,
reference formatting per reference against one `pandoc --citeproc` process on the very same entries, and the
Enteromix PDF against WeasyPrint alone (unless --no-pdf).

Every build runs as its own subprocess; its wall time is measured from outside and its peak RSS comes from
os.wait4's rusage of that very child. Prints a Markdown table of medians and ratios to the floor, the curve (per
engine: reports, bib entries, citations, seconds and peak RSS of every build kind, one row per size), and the
targets' verdicts for each engine: time and RSS on the last size run up to large (large when it was run), the
scale check on xlarge against large ("n/a" when a size it needs was not run). Writes into --out (bench/out/,
git-ignored): curve.md, curve.png (drawn with Pillow) and results.json (every raw sample).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata as metadata
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"  # noqa: A001

from bench.curve import write_curve_png  # noqa: E402
from bench.synth import EDIT_WORD, EDITED_WORD, SIZES, edit_targets, generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"cold": 1.15, "warm": 1.00, "rss": 1.30, "rebuild": 1.05, "pdf": 1.20, "scale": 4.2, "scale-rss": 1.30,
           "references": 1.00}
# Per engine: which sample is which build (a warm and a cold floor: Zensical has a cache of its own, MkDocs none).
ENGINES = {
    "MkDocs": {"plain": "plain", "plain-cold": "plain", "cold": "cold", "warm": "warm", "rebuild-plain": "rebuild-plain",
               "rebuild": "rebuild-report", "floor-cold-note": "", "floor-warm-note": ""},
    "Zensical": {"plain": "zensical-plain", "plain-cold": "zensical-plain-cold", "cold": "zensical-cold",
                 "warm": "zensical-warm", "rebuild-plain": "zensical-rebuild-plain", "rebuild": "zensical-rebuild-report",
                 "floor-cold-note": " (its cache removed)", "floor-warm-note": " (its cache warm)"},
}
SAMPLE_KEYS = ("plain", "cold", "warm", "bibtex", "core-cold", "core-warm", "rebuild-plain", "rebuild-report",
               "rebuild-bibtex", "zensical-plain-cold", "zensical-plain", "zensical-cold", "zensical-warm",
               "zensical-rebuild-plain", "zensical-rebuild-report", "refs-ours", "refs-pandoc")
TABLE_ROWS = [  # (sample, label, the sample it is compared with)
    ("plain", "plain MkDocs (floor)", "plain"),
    ("cold", "report build, cold cache", "plain"),
    ("warm", "report build, warm cache", "plain"), ("bibtex", "mkdocs-bibtex", "plain"),
    ("core-cold", "of which report's own work (no MkDocs), cold", "plain"),
    ("core-warm", "of which report's own work (no MkDocs), warm", "plain"),
    ("rebuild-plain", "rebuild after 1-word edit: plain MkDocs", "rebuild-plain"),
    ("rebuild-report", "rebuild after 1-word edit: report", "rebuild-plain"),
    ("rebuild-bibtex", "rebuild after 1-word edit: mkdocs-bibtex", "rebuild-plain"),
    ("zensical-plain-cold", "plain Zensical, same pages, its cache removed (cold floor)", "zensical-plain-cold"),
    ("zensical-plain", "plain Zensical, same pages, its cache warm (floor)", "zensical-plain"),
    ("zensical-cold", "report build --engine zensical, cold cache", "zensical-plain-cold"),
    ("zensical-warm", "report build --engine zensical, warm cache", "zensical-plain"),
    ("zensical-rebuild-plain", "rebuild after 1-word edit: plain Zensical (zensical.build)", "zensical-rebuild-plain"),
    ("zensical-rebuild-report", "rebuild after 1-word edit: report serve --engine zensical (restage + zensical.build)",
     "zensical-rebuild-plain"),
]
CURVE_KINDS = {  # the curve's columns and lines: (sample, label)
    "MkDocs": [("plain", "plain"), ("cold", "report cold"), ("warm", "report warm"),
               ("rebuild-plain", "1-word rebuild plain"), ("rebuild-report", "1-word rebuild report")],
    "Zensical": [("zensical-plain-cold", "plain cold"), ("zensical-plain", "plain warm"), ("zensical-cold", "report cold"),
                 ("zensical-warm", "report warm"), ("zensical-rebuild-plain", "1-word rebuild plain"),
                 ("zensical-rebuild-report", "1-word rebuild report")],
}


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    error: str = ""
    count: int = 0  # references formatted (per-reference samples)

    @property
    def time(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def rss(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None


def _env() -> dict[str, str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def run_child(cmd: list[str], cwd: Path, log: Path) -> tuple[float, int, str]:
    """Run one build; (wall seconds, peak RSS KiB of that child, stdout)."""
    with log.open("a", encoding="utf-8") as err, subprocess.Popen(
        cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=err, text=True
    ) as proc:
        start = time.perf_counter()
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}; see {log}")
    return elapsed, usage.ru_maxrss, out


def ensure_mkdocs_bibtex() -> str:
    """mkdocs-bibtex is installed only for the benchmark (never a project dependency)."""
    try:
        return metadata.version("mkdocs-bibtex")
    except metadata.PackageNotFoundError:
        pass
    print("bench: installing mkdocs-bibtex into this environment for the comparison …", file=sys.stderr)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "mkdocs-bibtex"], check=False)
    if done.returncode:
        return ""
    metadata_cache = getattr(metadata, "_cache", None)
    if metadata_cache is not None:
        metadata_cache.clear()
    try:
        return metadata.version("mkdocs-bibtex")
    except metadata.PackageNotFoundError:
        return ""


def zensical_stage(root: Path) -> Path:
    """Where `report build --engine zensical` keeps its stage, and Zensical's own cache, for the project at `root`
    (a folder of this machine's, outside the project): removed for a cold build."""
    from generator.cache import machine_folder

    return machine_folder("zensical-build", root) or root / ".no-stage"


def bench_size(name: str, out: Path, repeats: int, with_bibtex: bool, seed: int,
               rebuild_repeats: int | None = None) -> dict[str, Sample]:
    size = SIZES[name]
    print(f"bench: {name}: generating {size.reports} reports, {size.entries}-entry bib …", file=sys.stderr)
    roots = generate(size, out, seed)
    log = out / name / "build.log"
    py = sys.executable
    with_zensical = importlib.util.find_spec("zensical") is not None
    commands = {
        "plain": [py, "-m", "mkdocs", "build", "-q", "-f", str(roots["plain"] / "mkdocs.yml")],
        "report": [py, "-m", "generator.cli", "build", "--no-pdf", str(roots["report"])],
        "bibtex": [py, "-m", "mkdocs", "build", "-q", "-f", str(roots["bibtex"] / "mkdocs.yml")],
        "zensical-plain": [py, "-m", "zensical", "build", "-f", str(roots["plain"] / "mkdocs.yml")],
        "zensical": [py, "-m", "generator.cli", "build", "--no-pdf", "--engine", "zensical", str(roots["report"])],
    }
    samples = {k: Sample() for k in SAMPLE_KEYS}
    cache = roots["report"] / ".cache"  # report's caches (config `cache_dir: .cache/report`)
    zensical_cache = roots["plain"] / ".cache"  # Zensical's own cache: `.cache/` beside the config it builds
    primed: set[str] = set()
    # Interleave the variants in every round, so drift on the machine hits them all alike. A cold build removes its
    # cache first; a warm one follows the same engine's cold build, so the cache it finds is its own.
    for round_number in range(repeats):
        print(f"bench: {name}: round {round_number + 1}/{repeats}", file=sys.stderr)
        jobs = [("plain", commands["plain"], None, None), ("cold", commands["report"], "cold", cache),
                ("warm", commands["report"], "warm", cache)]
        if with_bibtex:
            jobs.append(("bibtex", commands["bibtex"], None, None))
        if with_zensical:  # the second engine, against its own floor, cold and warm
            jobs += [("zensical-plain-cold", commands["zensical-plain"], "cold", zensical_cache),
                     ("zensical-plain", commands["zensical-plain"], "primed", zensical_cache),
                     ("zensical-cold", commands["zensical"], "cold", (cache, zensical_stage(roots["report"]))),
                     ("zensical-warm", commands["zensical"], "warm", cache)]
        for label, cmd, cache_state, folder in jobs:
            if cache_state == "cold":
                for each in folder if isinstance(folder, tuple) else (folder,):
                    shutil.rmtree(each, ignore_errors=True)
            elif (cache_state == "warm" and not folder.exists()) or (cache_state == "primed" and label not in primed):
                run_child(cmd, REPO, log)  # untimed: the on-disk cache exists and is this build's own
                primed.add(label)
            try:
                seconds, rss, _ = run_child(cmd, REPO, log)
            except RuntimeError as exc:
                samples[label].error = str(exc)
                continue
            samples[label].seconds.append(seconds)
            samples[label].rss_kib.append(rss)
    try:  # the core alone, in one process: what `report` adds to the engine's own work
        _, rss, stdout = run_child([py, "-m", "bench.worker", "core", str(roots["report"]), "--repeats",
                                    str(max(1, repeats))], REPO, log)
        core = json.loads(stdout.strip().splitlines()[-1])
        samples["core-cold"].seconds, samples["core-warm"].seconds = core["cold"], core["warm"]
    except RuntimeError as exc:
        samples["core-cold"].error = samples["core-warm"].error = str(exc)
    targets = edit_targets(roots)
    edits = ["--repeats", str(rebuild_repeats or max(3, repeats)), "--old", EDIT_WORD, "--new", EDITED_WORD]
    rebuilds = {"rebuild-plain": ["rebuild", str(roots["plain"] / "mkdocs.yml"), str(targets["plain"])],
                "rebuild-report": ["rebuild", str(roots["report"] / "mkdocs.yml"), str(targets["report"])]}
    if with_bibtex:
        rebuilds["rebuild-bibtex"] = ["rebuild", str(roots["bibtex"] / "mkdocs.yml"), str(targets["bibtex"])]
    if with_zensical:
        rebuilds["zensical-rebuild-plain"] = ["zensical-rebuild", "plain", str(roots["plain"] / "mkdocs.yml"),
                                              str(targets["plain"])]
        rebuilds["zensical-rebuild-report"] = ["zensical-rebuild", "report", str(roots["report"]), str(targets["report"])]
    for label, args in rebuilds.items():
        sample = samples[label]
        try:
            _, rss, stdout = run_child([py, "-m", "bench.worker", *args, *edits], REPO, log)
        except RuntimeError as exc:
            sample.error = str(exc)
            continue
        sample.seconds = json.loads(stdout.strip().splitlines()[-1])["rebuilds"]
        sample.rss_kib = [rss]
    try:  # reference formatting per reference, ours against Pandoc's citeproc alone on the same entries
        _, _, stdout = run_child([py, "-m", "bench.worker", "references", str(roots["report"]), "--repeats",
                                  str(max(1, repeats))], REPO, log)
        refs = json.loads(stdout.strip().splitlines()[-1])
        samples["refs-ours"] = Sample([t / refs["references"] for t in refs["ours"]], count=refs["references"])
        samples["refs-pandoc"] = Sample([t / refs["entries"] for t in refs["pandoc"]], count=refs["entries"])
        samples["refs-pandoc"].error = refs.get("pandoc_error", "")
    except (RuntimeError, ZeroDivisionError, KeyError) as exc:
        samples["refs-ours"].error = samples["refs-pandoc"].error = str(exc)
    return samples


def bench_pdf(out: Path, repeats: int) -> dict[str, object]:
    log = out / "pdf.log"
    cmd = [sys.executable, "-m", "bench.worker", "pdf", str(REPO), "--slug", "enteromix", "--repeats", str(repeats)]
    try:
        _, _, stdout = run_child(cmd, REPO, log)
    except RuntimeError as exc:
        return {"available": False, "reason": str(exc)}
    return json.loads(stdout.strip().splitlines()[-1])


def _median(values: object) -> float | None:
    return statistics.median(values) if isinstance(values, list) and values else None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None, floor: float | None) -> float | None:
    return value / floor if value is not None and floor else None


def _max(*values: float | None) -> float | None:
    return max((v for v in values if v is not None), default=None)


def _per_reference(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def size_label(name: str) -> str:
    size = SIZES[name]
    return f"{name} ({size.reports}×{size.words}w×{size.citations}c, {size.entries} bib)"


def table(results: dict[str, dict[str, Sample]], pdf: dict[str, object] | None) -> str:
    """Every measurement: medians, peak RSS and ratios to each row's floor, as a Markdown table."""
    rows = ["| size | build | median s | × floor | peak RSS MiB | × floor RSS | runs |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, samples in results.items():
        for key, label, floor_key in TABLE_ROWS:
            sample, floor = samples.get(key, Sample()), samples.get(floor_key, Sample())
            if sample.error:
                rows.append(f"| {size_label(name)} | {label} | failed | | | | 0 |")
                continue
            if not sample.seconds:
                continue
            rows.append(f"| {size_label(name)} | {label} | {_fmt(sample.time)} | {_fmt(_ratio(sample.time, floor.time))} | "
                        f"{_fmt(sample.rss, 0)} | {_fmt(_ratio(sample.rss, floor.rss))} | {len(sample.seconds)} |")
        ours, pandoc = samples.get("refs-ours", Sample()), samples.get("refs-pandoc", Sample())
        if pandoc.error and not pandoc.seconds:
            rows.append(f"| {size_label(name)} | per reference: `pandoc --citeproc` alone: failed ({pandoc.error}) | | | | | 0 |")
        if pandoc.seconds:
            rows.append(f"| {size_label(name)} | per reference: `pandoc --citeproc` alone, one process, "
                        f"{pandoc.count} entries (floor) | {_per_reference(pandoc.time)} | 1.00 | | | {len(pandoc.seconds)} |")
        if ours.seconds:
            rows.append(f"| {size_label(name)} | per reference: report's formatting (its pipeline + lists), "
                        f"{ours.count} references | {_per_reference(ours.time)} | {_fmt(_ratio(ours.time, pandoc.time))} "
                        f"| | | {len(ours.seconds)} |")
        elif ours.error and not pandoc.error:
            rows.append(f"| {size_label(name)} | per reference: failed | | | | | 0 |")
    if pdf is not None:
        if pdf.get("available"):
            weasy = _median(pdf["weasyprint"])
            for key, label in (("weasyprint", "PDF: WeasyPrint alone, same HTML + CSS (floor)"),
                               ("weasyprint_variant", f"PDF: WeasyPrint alone, same HTML + CSS, {pdf.get('variant')}"),
                               ("export", "PDF: generator.publish.pdf export")):
                value = _median(pdf[key])
                rows.append(f"| enteromix | {label} | {_fmt(value)} | {_fmt(_ratio(value, weasy))} | | | "
                            f"{len(pdf[key])} |")  # type: ignore[arg-type]
        else:
            rows.append(f"| enteromix | pdf: not available ({pdf.get('reason', '')}) | | | | | 0 |")
    return "\n".join(rows)


def verdict_size(results: dict[str, dict[str, Sample]]) -> str | None:
    """The size the time and RSS targets are judged on: the last one run up to large (large when it was run)."""
    limit = list(SIZES).index("large")
    eligible = [name for name in results if list(SIZES).index(name) <= limit]
    return eligible[-1] if eligible else None


def _state(ratio: float | None, limit: float, samples: list[Sample], needs: str = "") -> str:
    if ratio is not None:
        return "holds" if ratio <= limit else "MISSED"
    if any(sample.error for sample in samples):
        return "failed (see the build log)"
    return f"n/a ({needs})" if needs else "n/a"


def verdicts(results: dict[str, dict[str, Sample]], pdf: dict[str, object] | None) -> list[str]:
    """One line per target and engine: the figure, its limit and whether it holds; "n/a" when a size or a tool it
    needs was not run, "failed" when a build it needs failed."""
    lines: list[str] = []
    name = verdict_size(results)
    s = results[name] if name else {}
    large, xlarge = results.get("large"), results.get("xlarge")
    at = f"({name})" if name else "(no size up to large was run)"

    def get(samples: dict[str, Sample] | None, key: str) -> Sample:
        return samples.get(key, Sample()) if samples else Sample()

    for engine, keys in ENGINES.items():
        def sample(key: str, samples: dict[str, Sample] | None = s, keys: dict[str, str] = keys) -> Sample:
            return get(samples, keys[key])

        def ratio_of(value: list[Sample], floor: list[Sample], rss: bool = False) -> float | None:
            pick = (lambda x: x.rss) if rss else (lambda x: x.time)
            return _ratio(_max(*map(pick, value)), _max(*map(pick, floor)))

        cold, warm = [sample("cold")], [sample("warm")]
        floor_cold, floor_warm = [sample("plain-cold")], [sample("plain")]
        rebuild, rebuild_floor = [sample("rebuild")], [sample("rebuild-plain")]
        xl, lg = [sample("cold", xlarge)], [sample("cold", large)]
        xl_rss, xl_floor_rss = [sample("cold", xlarge), sample("warm", xlarge)], [sample("plain", xlarge),
                                                                                   sample("plain-cold", xlarge)]
        checks = [
            (f"cold report build ≤ {TARGETS['cold']:.2f}× plain {engine}{keys['floor-cold-note']} {at}",
             ratio_of(cold, floor_cold), TARGETS["cold"], cold + floor_cold, f"{engine} builds not run"),
            (f"warm report build ≤ {TARGETS['warm']:.2f}× plain {engine}{keys['floor-warm-note']} {at}",
             ratio_of(warm, floor_warm), TARGETS["warm"], warm + floor_warm, f"{engine} builds not run"),
            (f"rebuild after a 1-word edit ≤ {TARGETS['rebuild']:.2f}× plain {engine} rebuild {at}",
             ratio_of(rebuild, rebuild_floor), TARGETS["rebuild"], rebuild + rebuild_floor, f"{engine} rebuilds not run"),
            (f"peak RSS ≤ {TARGETS['rss']:.2f}× plain {engine} {at}",
             ratio_of(cold + warm, floor_cold + floor_warm, rss=True), TARGETS["rss"], cold + warm + floor_cold + floor_warm,
             f"{engine} builds not run"),
            (f"xlarge time ≤ {TARGETS['scale']:.1f}× large time (report build, cold)", ratio_of(xl, lg),
             TARGETS["scale"], xl + lg, "needs large and xlarge"),
            (f"xlarge peak RSS ≤ {TARGETS['scale-rss']:.2f}× plain {engine} xlarge",
             ratio_of(xl_rss, xl_floor_rss, rss=True), TARGETS["scale-rss"], xl_rss + xl_floor_rss, "needs xlarge"),
        ]
        for text, ratio, limit, involved, needs in checks:
            lines.append(f"- {engine}: {text}: {_fmt(ratio)}× → {_state(ratio, limit, involved, needs)}")
    ours, pandoc = get(s, "refs-ours"), get(s, "refs-pandoc")
    ratio = _ratio(ours.time, pandoc.time)
    lines.append(f"- reference formatting per reference ≤ Pandoc's citeproc alone on the same entries {at}: "
                 f"{_per_reference(ours.time)} ({ours.count} references) vs {_per_reference(pandoc.time)} "
                 f"({pandoc.count} entries, one process): {_fmt(ratio)}× → "
                 f"{_state(ratio, TARGETS['references'], [ours, pandoc])}")
    available = bool(pdf and pdf.get("available"))
    pdf_ratio = _ratio(_median(pdf["export"]), _median(pdf["weasyprint"])) if pdf and available else None
    pdf_needs = "--no-pdf" if pdf is None else ("" if available else f"{pdf.get('reason', '')}")
    lines.append(f"- Enteromix PDF export ≤ {TARGETS['pdf']:.1f}× WeasyPrint alone: {_fmt(pdf_ratio)}× → "
                 f"{_state(pdf_ratio, TARGETS['pdf'], [], pdf_needs)}")
    plain, cold_s, warm_s = get(s, "plain").time, get(s, "cold").time, get(s, "warm").time
    core_cold, core_warm = get(s, "core-cold").time, get(s, "core-warm").time
    if plain is not None and cold_s is not None and warm_s is not None and core_cold is not None and core_warm is not None:
        lines.append(
            f"- where the time goes {at}, MkDocs: report's own work (bib, citations, references, HTML) is "
            f"{core_cold:.1f} s cold and {core_warm:.1f} s warm; MkDocs on the pages it is handed takes the rest, "
            f"{cold_s - core_cold:.1f} s / {warm_s - core_warm:.1f} s, against {plain:.1f} s for the floor's pages")
    return lines


def curve_table(results: dict[str, dict[str, Sample]]) -> str:
    """The curve as Markdown: per engine, one row per size with seconds and peak RSS of every build kind."""
    out = []
    for engine, kinds in CURVE_KINDS.items():
        head = "| size | reports | bib entries | citations | " + " | ".join(f"{label} s | {label} MiB" for _, label in kinds)
        out += [f"### {engine}", "", head + " |", "| --- | ---: | ---: | ---: |" + " ---: | ---: |" * len(kinds)]
        for name, samples in results.items():
            size = SIZES[name]
            cells = []
            for key, _ in kinds:
                sample = samples.get(key, Sample())
                cells += ["failed", ""] if sample.error else [_fmt(sample.time), _fmt(sample.rss, 0)]
            out.append(f"| {name} | {size.reports} | {size.entries} | {size.reports * size.citations} | "
                       + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def curve_series(results: dict[str, dict[str, Sample]]) -> tuple[dict[str, list[tuple[float, float]]],
                                                                 dict[str, list[tuple[float, float]]]]:
    """(seconds, MiB) against reports, one series per engine and build kind (sizes without a figure left out)."""
    times: dict[str, list[tuple[float, float]]] = {}
    rss: dict[str, list[tuple[float, float]]] = {}
    for engine, kinds in CURVE_KINDS.items():
        for key, label in kinds:
            for name, samples in results.items():
                sample = samples.get(key, Sample())
                if sample.time is not None:
                    times.setdefault(f"{engine}: {label}", []).append((SIZES[name].reports, sample.time))
                if sample.rss is not None:
                    rss.setdefault(f"{engine}: {label}", []).append((SIZES[name].reports, sample.rss))
    return times, rss


def results_json(results: dict[str, dict[str, Sample]], pdf: dict[str, object] | None, lines: list[str]) -> dict:
    return {"versions": versions(), "targets": TARGETS,
            "sizes": {name: dataclasses.asdict(SIZES[name]) for name in results},
            "samples": {name: {key: dataclasses.asdict(sample) for key, sample in samples.items()}
                        for name, samples in results.items()},
            "pdf": pdf, "verdicts": lines}


def versions() -> str:
    def v(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "—"

    return (f"Python {platform.python_version()}, {os.cpu_count()} CPUs, mkdocs {v('mkdocs')}, "
            f"mkdocs-material {v('mkdocs-material')}, zensical {v('zensical')}, mkdocs-bibtex {v('mkdocs-bibtex')}, "
            f"citeproc-py {v('citeproc-py')}, bibtexparser {v('bibtexparser')}, weasyprint {v('weasyprint')}")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--repeats", type=int, default=3, help="runs per build for small/medium (median)")
    parser.add_argument("--large-repeats", type=int, default=None, help="runs per build for large (default: --repeats)")
    parser.add_argument("--xlarge-repeats", type=int, default=1, help="runs per build for xlarge (default: 1)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="where projects and results go")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-bibtex", action="store_true", help="skip mkdocs-bibtex (and its install)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF export comparison")
    parser.add_argument("--profile", action="store_true", help="also cProfile the report build on the last size")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    sizes = sorted(dict.fromkeys(sizes), key=list(SIZES).index)  # smallest first: the curve and the verdicts
    args.out.mkdir(parents=True, exist_ok=True)
    with_bibtex = not args.no_bibtex and bool(ensure_mkdocs_bibtex())
    if not args.no_bibtex and not with_bibtex:
        print("bench: mkdocs-bibtex could not be installed; skipping it", file=sys.stderr)
    if importlib.util.find_spec("zensical") is None:
        print("bench: zensical is not installed; its figures will say n/a", file=sys.stderr)
    results = {}
    for name in sizes:
        repeats = {"large": args.large_repeats or args.repeats, "xlarge": args.xlarge_repeats}.get(name, args.repeats)
        rebuild_repeats = max(1, repeats) if name == "xlarge" else None
        results[name] = bench_size(name, args.out, max(1, repeats), with_bibtex, args.seed, rebuild_repeats)
    pdf = None if args.no_pdf else bench_pdf(args.out, max(1, args.repeats))
    if args.profile and sizes:
        name = sizes[-1]
        target = args.out / f"profile-{name}.txt"
        run_child([sys.executable, "-m", "bench.worker", "profile", str(args.out / name / "report"), str(target)], REPO,
                  args.out / "profile.log")
        print(f"bench: profile of the {name} report build in {target}", file=sys.stderr)
    rows, lines, curve = table(results, pdf), verdicts(results, pdf), curve_table(results)
    (args.out / "curve.md").write_text(f"# Benchmark curve\n\n{versions()}\n\n{curve}", encoding="utf-8")
    (args.out / "results.json").write_text(json.dumps(results_json(results, pdf, lines), indent=1, ensure_ascii=False),
                                           encoding="utf-8")
    png = args.out / "curve.png"
    write_curve_png(*curve_series(results), png)
    print(f"\n{versions()}\n")
    print(rows)
    print("\nThe curve (medians; peak RSS in MiB):\n")
    print(curve)
    print(f"Targets (time and RSS on {verdict_size(results) or '—'}, scale on xlarge against large; medians):")
    print("\n".join(lines))
    print(f"\nbench: wrote {args.out / 'curve.md'}, {png} and {args.out / 'results.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
