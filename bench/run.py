"""Benchmark `report build` against plain MkDocs (the floor) and mkdocs-bibtex on one synthetic corpus.

    python -m bench                      # small, medium and large
    python -m bench --sizes small,medium --repeats 3
    python bench/run.py --sizes large --repeats 2 --profile

Every build runs as its own subprocess; its wall time is measured from outside and its peak RSS comes from
os.wait4's rusage of that very child. Prints a Markdown table of medians and ratios to the floor.
"""

from __future__ import annotations

import argparse
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

from bench.synth import EDIT_WORD, EDITED_WORD, SIZES, edit_targets, generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"cold": 1.15, "warm": 1.05, "rss": 1.30, "rebuild": 1.10, "pdf": 1.20}


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    error: str = ""

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


def bench_size(name: str, out: Path, repeats: int, with_bibtex: bool, seed: int) -> dict[str, Sample]:
    size = SIZES[name]
    print(f"bench: {name}: generating {size.reports} reports, {size.entries}-entry bib …", file=sys.stderr)
    roots = generate(size, out, seed)
    log = out / name / "build.log"
    py = sys.executable
    commands = {
        "plain": [py, "-m", "mkdocs", "build", "-q", "-f", str(roots["plain"] / "mkdocs.yml")],
        "report": [py, "-m", "generator.cli", "build", "--no-pdf", str(roots["report"])],
        "bibtex": [py, "-m", "mkdocs", "build", "-q", "-f", str(roots["bibtex"] / "mkdocs.yml")],
        "zensical-plain": [py, "-m", "zensical", "build", "-f", str(roots["plain"] / "mkdocs.yml")],
        "zensical": [py, "-m", "generator.cli", "build", "--no-pdf", "--engine", "zensical", str(roots["report"])],
    }
    samples = {k: Sample() for k in ("plain", "cold", "warm", "bibtex", "core-cold", "core-warm", "rebuild-plain",
                                     "rebuild-report", "rebuild-bibtex", "zensical-plain", "zensical")}
    cache = roots["report"] / ".cache"
    # Interleave the variants in every round, so drift on the machine hits them all alike.
    for round_number in range(repeats):
        print(f"bench: {name}: round {round_number + 1}/{repeats}", file=sys.stderr)
        jobs = [("plain", commands["plain"], None), ("cold", commands["report"], "cold"),
                ("warm", commands["report"], "warm")]
        if with_bibtex:
            jobs.append(("bibtex", commands["bibtex"], None))
        if importlib.util.find_spec("zensical") is not None:  # the second engine, against its own floor
            jobs += [("zensical-plain", commands["zensical-plain"], None), ("zensical", commands["zensical"], "warm")]
        for label, cmd, cache_state in jobs:
            if cache_state == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            elif cache_state == "warm" and not cache.exists():
                run_child(cmd, REPO, log)  # make sure the on-disk cache exists
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
    for label in ("plain", "report", "bibtex"):
        if label == "bibtex" and not with_bibtex:
            continue
        config_file = roots[label] / "mkdocs.yml"
        cmd = [py, "-m", "bench.worker", "rebuild", str(config_file), str(targets[label]), "--repeats",
               str(max(3, repeats)), "--old", EDIT_WORD, "--new", EDITED_WORD]
        sample = samples[f"rebuild-{label}"]
        try:
            _, rss, stdout = run_child(cmd, REPO, log)
        except RuntimeError as exc:
            sample.error = str(exc)
            continue
        sample.seconds = json.loads(stdout.strip().splitlines()[-1])["rebuilds"]
        sample.rss_kib = [rss]
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


def table(results: dict[str, dict[str, Sample]], pdf: dict[str, object] | None) -> tuple[str, list[str]]:
    rows = ["| size | build | median s | × floor | peak RSS MiB | × floor RSS | runs |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    labels = [("plain", "plain MkDocs (floor)", "plain"),
              ("cold", "report build, cold cache", "plain"),
              ("warm", "report build, warm cache", "plain"), ("bibtex", "mkdocs-bibtex", "plain"),
              ("core-cold", "of which report's own work (no MkDocs), cold", "plain"),
              ("core-warm", "of which report's own work (no MkDocs), warm", "plain"),
              ("rebuild-plain", "rebuild after 1-word edit: plain MkDocs", "rebuild-plain"),
              ("rebuild-report", "rebuild after 1-word edit: report", "rebuild-plain"),
              ("rebuild-bibtex", "rebuild after 1-word edit: mkdocs-bibtex", "rebuild-plain"),
              ("zensical-plain", "plain Zensical, same pages (floor)", "zensical-plain"),
              ("zensical", "report build --engine zensical, warm cache", "zensical-plain")]
    verdicts: list[str] = []
    for name, samples in results.items():
        size = SIZES[name]
        label_size = f"{name} ({size.reports}×{size.words}w×{size.citations}c, {size.entries} bib)"
        for key, label, floor_key in labels:
            sample, floor = samples[key], samples[floor_key]
            if sample.error:
                rows.append(f"| {label_size} | {label} | failed | | | | 0 |")
                continue
            if not sample.seconds:
                continue
            rows.append(f"| {label_size} | {label} | {_fmt(sample.time)} | {_fmt(_ratio(sample.time, floor.time))} | "
                        f"{_fmt(sample.rss, 0)} | {_fmt(_ratio(sample.rss, floor.rss))} | {len(sample.seconds)} |")
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
    if results:
        name = list(results)[-1]
        s = results[name]
        checks = [("cold report build ≤ 1.15× plain", _ratio(s["cold"].time, s["plain"].time), TARGETS["cold"]),
                  ("warm report build ≤ 1.05× plain", _ratio(s["warm"].time, s["plain"].time), TARGETS["warm"]),
                  ("peak RSS ≤ 1.3× plain", _ratio(max(filter(None, (s["cold"].rss, s["warm"].rss)), default=None),
                                                   s["plain"].rss), TARGETS["rss"]),
                  ("rebuild after a 1-word edit ≤ 1.10× plain rebuild",
                   _ratio(s["rebuild-report"].time, s["rebuild-plain"].time), TARGETS["rebuild"])]
        if pdf is not None and pdf.get("available"):
            checks.append(("PDF export ≤ 1.2× WeasyPrint alone", _ratio(_median(pdf["export"]), _median(pdf["weasyprint"])),
                           TARGETS["pdf"]))
        else:
            checks.append(("PDF export ≤ 1.2× WeasyPrint alone", None, TARGETS["pdf"]))
        for text, ratio, limit in checks:
            state = "n/a" if ratio is None else ("holds" if ratio <= limit else "MISSED")
            verdicts.append(f"- {text} ({name}): {_fmt(ratio)}× → {state}")
        plain, cold, warm = s["plain"].time, s["cold"].time, s["warm"].time
        core_cold, core_warm = s["core-cold"].time, s["core-warm"].time
        if None not in (plain, cold, warm, core_cold, core_warm):
            verdicts.append(
                f"- where the time goes ({name}): report's own work (bib, citations, references, HTML) is "
                f"{core_cold:.1f} s cold and {core_warm:.1f} s warm; MkDocs on the pages it is handed takes the rest, "
                f"{cold - core_cold:.1f} s / {warm - core_warm:.1f} s, against {plain:.1f} s for the floor's pages")  # type: ignore[operator]
    return "\n".join(rows), verdicts


def versions() -> str:
    def v(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "—"

    return (f"Python {platform.python_version()}, {os.cpu_count()} CPUs, mkdocs {v('mkdocs')}, "
            f"mkdocs-material {v('mkdocs-material')}, mkdocs-bibtex {v('mkdocs-bibtex')}, "
            f"citeproc-py {v('citeproc-py')}, bibtexparser {v('bibtexparser')}, weasyprint {v('weasyprint')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--repeats", type=int, default=3, help="runs per build for small/medium (median)")
    parser.add_argument("--large-repeats", type=int, default=None, help="runs per build for large (default: --repeats)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="where projects are generated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-bibtex", action="store_true", help="skip mkdocs-bibtex (and its install)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF export comparison")
    parser.add_argument("--profile", action="store_true", help="also cProfile the report build on the last size")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    with_bibtex = not args.no_bibtex and bool(ensure_mkdocs_bibtex())
    if not args.no_bibtex and not with_bibtex:
        print("bench: mkdocs-bibtex could not be installed; skipping it", file=sys.stderr)
    results = {}
    for name in sizes:
        repeats = args.large_repeats if name == "large" and args.large_repeats else args.repeats
        results[name] = bench_size(name, args.out, max(1, repeats), with_bibtex, args.seed)
    pdf = None if args.no_pdf else bench_pdf(args.out, max(1, args.repeats))
    if args.profile and sizes:
        name = sizes[-1]
        target = args.out / f"profile-{name}.txt"
        run_child([sys.executable, "-m", "bench.worker", "profile", str(args.out / name / "report"), str(target)], REPO,
                  args.out / "profile.log")
        print(f"bench: profile of the {name} report build in {target}", file=sys.stderr)
    rows, verdicts = table(results, pdf)
    print(f"\n{versions()}\n")
    print(rows)
    print("\nTargets (last size, same run, medians):")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
