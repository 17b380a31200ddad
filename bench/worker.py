"""Measurements that must run inside one process: a `serve`-style rebuild (MkDocs and Zensical), a PDF export,
reference formatting against Pandoc's citeproc alone, a profile.

Run by bench/run.py as ``python -m bench.worker <command> ...``; prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def rebuild(config_file: str, edit_file: Path, repeats: int, old: str, new: str) -> dict[str, object]:
    """What `mkdocs serve` does: load the config (plugins with `on_startup` are kept), build; edit one word; rebuild."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site_dir = tempfile.mkdtemp(prefix="bench-serve-")

    def get_config():  # noqa: ANN202 - mirrors mkdocs.commands.serve.get_config
        return load_config(config_file=config_file, site_dir=site_dir)

    config = get_config()
    config.plugins.on_startup(command="serve", dirty=False)
    serve_url = "http://127.0.0.1:8000/"
    config.site_url = serve_url
    start = time.perf_counter()
    build(config, serve_url=serve_url)
    first = time.perf_counter() - start

    def rebuild_once() -> None:
        config = get_config()
        config.site_url = serve_url
        build(config, serve_url=serve_url)

    try:
        times = _edits(edit_file, old, new, repeats, rebuild_once)
    finally:
        config.plugins.on_shutdown()
    return {"first": first, "rebuilds": times}


def _edits(edit_file: Path, old: str, new: str, repeats: int, build) -> list[float]:  # noqa: ANN001
    """Edit one word of `edit_file` (alternating two spellings, so every build sees a change), `build()`, time it;
    the file is put back afterwards."""
    original = edit_file.read_text(encoding="utf-8")
    assert old in original, f"{edit_file} has no `{old}` to edit"
    times = []
    try:
        for i in range(repeats):
            edit_file.write_text(original.replace(old, new if i % 2 == 0 else f"{new}x", 1), encoding="utf-8")
            start = time.perf_counter()
            build()
            times.append(time.perf_counter() - start)
    finally:
        edit_file.write_text(original, encoding="utf-8")
    return times


def zensical_rebuild(mode: str, path: Path, edit_file: Path, repeats: int, old: str, new: str) -> dict[str, object]:
    """A one-word-edit rebuild with Zensical, whose `serve` cannot be driven in-process: one process builds once,
    then edits one word and builds again `repeats` times.

    * ``plain``: `path` is the plain project's mkdocs.yml; each build is `zensical.build(config, {"clean": False,
      "strict": False})` (Zensical's own cache, `.cache/` beside the config, stays warm from the first build).
    * ``report``: `path` is the report project; each build is what `report serve --engine zensical` does on a
      change: `build_site(project, partial=True)` and `stage` into the persistent serve stage (restage), then
      Zensical on the staged config — the adapter's own functions, not copies."""
    from generator.adapters import zensical_engine as engine

    if mode == "plain":
        def build() -> None:
            engine._zensical_build(path)
    else:
        from generator.build import Project
        from generator.cache import machine_folder, machine_secret

        root = path
        project = Project(root=root)
        mkdocs = engine.read_mkdocs_yml(root / "mkdocs.yml")
        folder = machine_folder(engine.SERVE_STAGE, root)  # the kept stage `report serve` uses
        if folder is None:
            raise SystemExit("no machine folder for the preview's stage")
        nonce = machine_secret(engine.SERVE_STAGE, root)

        def build() -> None:
            project.config = None  # as serve's watcher does: mkdocs.yml may have changed
            site = engine.build_site(project, permalink=engine._permalink(mkdocs), partial=True)
            engine._zensical_build(engine.stage(root, site, folder, nonce))

    start = time.perf_counter()
    build()
    first = time.perf_counter() - start
    return {"first": first, "rebuilds": _edits(edit_file, old, new, repeats, build)}


def references(root: Path, repeats: int) -> dict[str, object]:
    """Reference formatting per reference: ours against Pandoc's citeproc alone on the very same entries.

    Ours: every report of the project read through as the build does (`renderer.begin_report`), then, timed, what the
    build does with the drafts' requests on a fresh formatter without a disk cache (its `pipeline`) and
    each report's reference list taken out as HTML (`format_report` + `reference`, as `complete_report` does);
    divided by the references formatted (the sum over reports of the sources each cites).
    Pandoc alone: one sandboxed `pandoc --citeproc` (`run_pandoc`) on the same CSL-JSON items (the formatter's
    `csl()`), same style and locale, `nocite: '@*'`; divided by the number of entries."""
    from generator.config import load_site_config
    from generator.errors import Problems
    from generator.render.report import Renderer
    from generator.reports.model import load_reports
    from generator.sources.bib import BibliographyLoader
    from generator.sources.references import PandocError, ReferenceFormatter, run_pandoc, style_for_pandoc

    problems = Problems(root=root)
    config = load_site_config(root)
    bib = BibliographyLoader().load(root / config.bib_dir, root)
    reports = load_reports(root / config.content_dir, problems, [])
    ours, pandoc = [], []
    references_count = entries_count = 0
    pandoc_error = ""
    for _ in range(repeats):
        formatter = ReferenceFormatter(config.csl_style, root, None, config.language)
        renderer = Renderer(config, bib, formatter)
        requests = [renderer.begin_report(report, Problems(root=root)).request() for report in reports]
        references_count = sum(len({s.key for s in request[1]}) for request in requests)
        start = time.perf_counter()
        pipeline = formatter.pipeline()  # as build_project does: batches formatted in the background
        for request in requests:
            pipeline.add(request)
        pipeline.finish()
        for citations, sources, language in requests:
            result = formatter.format_report(citations, sources, language)
            by_key = {s.key: s for s in sources}
            for number, (key, inlines) in enumerate(result.bibliography, start=1):
                formatter.reference(key, inlines, number, by_key[key])
        ours.append(time.perf_counter() - start)
        unique = list({s.key: s for request in requests for s in request[1]}.values())
        items = list(formatter.csl(unique).values())
        entries_count = len(items)
        files = {"sources.json": json.dumps(items, ensure_ascii=False), "style.csl": style_for_pandoc(formatter.info.path)}
        args = ["-f", "markdown", "-t", "json", "--citeproc", "--csl={folder}/style.csl",
                "--bibliography={folder}/sources.json", "-M", f"lang={formatter.language}"]
        start = time.perf_counter()
        try:  # the same heap cap and timeout as the build's calls: a very large batch may exceed them
            document = run_pandoc(args, "---\nnocite: '@*'\n---\n", files)
        except PandocError as exc:
            pandoc_error = str(exc)
            continue
        pandoc.append(time.perf_counter() - start)
        assert document.get("blocks"), "Pandoc formatted no bibliography"
    return {"ours": ours, "references": references_count, "pandoc": pandoc, "entries": entries_count,
            "reports": len(reports), "pandoc_error": pandoc_error}


def pdf(root: Path, slug: str, repeats: int) -> dict[str, object]:
    """generator.publish.pdf's export of one report vs WeasyPrint alone on the very same print HTML and CSS."""
    try:
        from generator.publish import pdf as pdf_module
    except ImportError as exc:
        return {"available": False, "reason": f"generator.publish.pdf not importable ({exc})"}
    if not hasattr(pdf_module, "export_pdfs") or not hasattr(pdf_module, "make_job"):
        return {"available": False, "reason": "generator.publish.pdf has no export_pdfs/make_job"}
    import weasyprint

    from generator.build import Project, build_project

    result = build_project(Project(root=root))
    rendered = next((r for r in result.rendered if r.report.slug == slug), None)
    if rendered is None or result.renderer is None:
        return {"available": False, "reason": f"no report `{slug}` in {root}"}
    job = pdf_module.make_job(rendered, result.renderer)
    css = [weasyprint.CSS(string=job.css, base_url=job.base_url),
           weasyprint.CSS(string=f"@page {{ size: {job.page_size}; }}")]
    variant = getattr(pdf_module, "PDF_VARIANT", None)
    weasyprint.HTML(string=job.html, base_url=job.base_url).write_pdf(stylesheets=css)  # warm up fonts and caches
    export_times, weasy_times, weasy_variant_times = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        pdf_module.export_pdfs([rendered], result.renderer, cache=None, workers=1)
        export_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        weasyprint.HTML(string=job.html, base_url=job.base_url).write_pdf(stylesheets=css)
        weasy_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        weasyprint.HTML(string=job.html, base_url=job.base_url).write_pdf(stylesheets=css, pdf_variant=variant)
        weasy_variant_times.append(time.perf_counter() - start)
    return {"available": True, "export": export_times, "weasyprint": weasy_times,
            "weasyprint_variant": weasy_variant_times, "variant": variant or ""}


def core(root: Path, repeats: int) -> dict[str, object]:
    """`report`'s own work without MkDocs (load → validate → render → page HTML, downloads, streamed to a spool
    folder as a build does), cold then warm, timed in this process with a cache folder of its own: what the report
    build adds on top of the engine."""
    import shutil

    from generator.build import Project
    from generator.config import load_site_config
    from generator.publish.site import build_site

    cold, warm = [], []
    for _ in range(repeats):
        (root / ".cache").mkdir(exist_ok=True)  # a cache folder must lie inside the project (see Security)
        cache = Path(tempfile.mkdtemp(prefix="bench-core-", dir=root / ".cache"))
        config = load_site_config(root).model_copy(update={"pdf": False,
                                                           "cache_dir": cache.relative_to(root).as_posix()})
        try:
            for times in (cold, warm):
                with tempfile.TemporaryDirectory(prefix="bench-spool-") as spool:
                    start = time.perf_counter()
                    build_site(Project(root=root, config=config), spool=Path(spool))  # what `report build` calls
                    times.append(time.perf_counter() - start)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    return {"cold": cold, "warm": warm}


def profile(root: Path, out: Path, limit: int) -> dict[str, object]:
    """cProfile of one cold `build_site` (what every engine adapter calls), sorted by cumulative time."""
    import cProfile
    import pstats
    import shutil

    from generator.build import Project
    from generator.publish.site import build_site

    shutil.rmtree(root / ".cache", ignore_errors=True)
    profiler = cProfile.Profile()
    profiler.enable()
    build_site(Project(root=root))
    profiler.disable()
    with out.open("w", encoding="utf-8") as handle:
        stats = pstats.Stats(profiler, stream=handle).strip_dirs().sort_stats("cumulative")
        stats.print_stats(limit)
        stats.sort_stats("tottime").print_stats(limit)
    return {"profile": str(out)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("rebuild")
    p.add_argument("config_file")
    p.add_argument("edit_file", type=Path)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--old", required=True)
    p.add_argument("--new", required=True)
    p = sub.add_parser("zensical-rebuild")
    p.add_argument("mode", choices=("plain", "report"))
    p.add_argument("path", type=Path, help="plain: the mkdocs.yml; report: the project's root")
    p.add_argument("edit_file", type=Path)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--old", required=True)
    p.add_argument("--new", required=True)
    p = sub.add_parser("references")
    p.add_argument("root", type=Path)
    p.add_argument("--repeats", type=int, default=1)
    p = sub.add_parser("pdf")
    p.add_argument("root", type=Path)
    p.add_argument("--slug", default="enteromix")
    p.add_argument("--repeats", type=int, default=3)
    p = sub.add_parser("core")
    p.add_argument("root", type=Path)
    p.add_argument("--repeats", type=int, default=1)
    p = sub.add_parser("profile")
    p.add_argument("root", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--limit", type=int, default=40)
    args = parser.parse_args(argv)
    if args.command == "rebuild":
        data = rebuild(args.config_file, args.edit_file, args.repeats, args.old, args.new)
    elif args.command == "zensical-rebuild":
        data = zensical_rebuild(args.mode, args.path, args.edit_file, args.repeats, args.old, args.new)
    elif args.command == "references":
        data = references(args.root, args.repeats)
    elif args.command == "pdf":
        data = pdf(args.root, args.slug, args.repeats)
    elif args.command == "core":
        data = core(args.root, args.repeats)
    else:
        data = profile(args.root, args.out, args.limit)
    sys.stdout.flush()
    print("\n" + json.dumps(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
