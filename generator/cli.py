"""The `report` command: a thin layer over the core and the engine adapters (it imports no engine itself)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path
from types import ModuleType

from generator import PACKAGE_DIR, __version__
from generator.build import Project, build_project
from generator.config import site_dir
from generator.errors import Problem, Severity, github_property, github_text, inert, inert_json, print_problems
from generator.reproducible import build_epoch

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _print_problems(problems: list[Problem], fmt: str, strict: bool) -> None:
    """Every format is inert: one line per problem (text: plus its hint line), no control character from content."""
    if fmt == "json":  # json.dumps escapes newlines and C0; inert_json the rest, the values decode unchanged
        print(inert_json(json.dumps([{"path": p.path, "line": p.line, "severity": p.severity.value,
                                      "message": p.message, "hint": p.hint, "code": p.code} for p in problems],
                                    indent=2, ensure_ascii=False)))
        return
    for p in problems:
        if fmt == "github":  # controls made visible first, then GitHub's own encoding of the command's parts
            level = "error" if p.severity is Severity.ERROR or strict else "warning"
            line = f",line={p.line}" if p.line else ""
            text = github_text(p.message + (f" ({p.hint})" if p.hint else ""))
            print(f"::{level} file={github_property(p.path)}{line}::{text}")
        else:
            print(p.format())


def cmd_check(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    project = Project(root=root)
    result = build_project(project)
    if args.base:  # content changed since BASE needs a new revision
        from generator.history.versions import check_base

        check_base(project, result, args.base)
    problems = result.problems.sorted()
    _print_problems(problems, args.format, args.strict)
    errors = len(result.problems.errors)
    warnings = len(result.problems.warnings)
    if args.format != "json":
        print(f"{len(result.reports)} report(s), {len(result.bib.sources)} source(s): "
              f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return EXIT_PROBLEMS if errors or (args.strict and warnings) else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """What changed in each report between two git refs, as Markdown short enough for a PR comment."""
    from generator.history.diff import markdown_summary
    from generator.history.versions import GitError, diff_project

    root = Path(args.path).resolve()
    try:
        result = diff_project(root, args.base, args.head)
    except GitError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = markdown_summary(result.reports, result.base, result.head, result.notes)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _mkdocs_config_file(root: Path) -> str | None:
    """mkdocs.yml, once it and docs/ are known to be safe to hand to MkDocs (which loads the file with PyYAML's
    unsafe loader and walks docs/ following links)."""
    from generator.build import preflight

    config_file = root / "mkdocs.yml"
    if not config_file.exists():
        raise SystemExit(f"report: no mkdocs.yml in {root}")
    problems = preflight(root)
    if problems.errors:
        print_problems(problems)
        print(f"report: {len(problems.errors)} error(s); the site engine was not started", file=sys.stderr)
        return None
    return str(config_file)


ENGINES = ("mkdocs", "zensical")


def _engine(args: argparse.Namespace, root: Path) -> str:
    """`--engine`, else the `engine` setting (validated by the preflight before this is asked)."""
    from generator.config import load_site_config

    return str(args.engine or load_site_config(root).engine)


def _zensical() -> ModuleType | None:
    """The Zensical adapter, or None (with a message) when Zensical is not installed."""
    from generator.adapters import zensical_engine

    if zensical_engine.available():
        return zensical_engine
    print("report: the zensical engine needs Zensical (pip install zensical)", file=sys.stderr)
    return None


def cmd_build(args: argparse.Namespace) -> int:
    """Build into a folder beside the site and swap it in only on success, so a failed build keeps the old site."""
    from generator.adapters import mkdocs_engine

    root = Path(args.path).resolve()
    mkdocs_engine.log_inertly()
    config_file = _mkdocs_config_file(root)
    if config_file is None:
        return EXIT_PROBLEMS
    if _engine(args, root) == "zensical":
        zensical = _zensical()
        if zensical is None:
            return EXIT_USAGE
        target = site_dir(root)
        with build_epoch(root):  # dates in the site from the last commit or the content, never the clock
            site, written = zensical.build(root, target, pdf=not args.no_pdf)
        print_problems(site.problems)
        if not written or (args.strict and site.problems.items):
            print(f"report: {len(site.problems.errors)} error(s); {target.name}/ left as it was", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"report: site built with Zensical in {target}", file=sys.stderr)
        return EXIT_OK
    with build_epoch(root):
        built, failure = mkdocs_engine.build(config_file, strict=args.strict, pdf=not args.no_pdf)
    if failure:
        print(inert(f"report: build failed, {built.name}/ left as it was: {failure}"), file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"report: site built in {built}", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from generator.adapters import mkdocs_engine

    root = Path(args.path).resolve()
    mkdocs_engine.log_inertly(logging.INFO)
    config_file = _mkdocs_config_file(root)
    if config_file is None:
        return EXIT_PROBLEMS
    busy = _address_in_use(args.dev_addr)
    if busy:
        print(f"report: cannot serve on {args.dev_addr}: {busy}; choose another with --dev-addr, e.g. "
              "--dev-addr 127.0.0.1:8001", file=sys.stderr)
        return EXIT_USAGE
    if _engine(args, root) == "zensical":
        zensical = _zensical()
        if zensical is None:
            return EXIT_USAGE
        zensical.serve(root, args.dev_addr, print_problems)
        return EXIT_OK
    mkdocs_engine.serve(config_file, args.dev_addr)
    return EXIT_OK


def _address_in_use(dev_addr: str) -> str:
    """Why the preview could not listen on `host:port` ("" when it can): said in one line before any engine
    starts, instead of a traceback from deep inside it."""
    import socket

    host, _, port = dev_addr.rpartition(":")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as probe:
            probe.bind((host.strip("[]") or "127.0.0.1", int(port)))
    except ValueError:
        return "it is not an address of the form host:port"
    except OSError as exc:
        return "the port is already in use" if exc.errno in (48, 98, 10048) else (exc.strerror or str(exc))
    return ""


def cmd_pdf(args: argparse.Namespace) -> int:
    """Export PDFs without building the site; content errors stop the export, as in `report build`."""
    import time

    from generator.history.versions import collect_history, corrections
    from generator.publish.pdf import export_pdfs
    from generator.sources.bib import did_you_mean

    root = Path(args.path).resolve()
    project = Project(root=root)
    result = build_project(project)
    history = collect_history(project, result) if result.ok else None  # re-ratings, as the site's PDF shows them
    for problem in result.problems.sorted():
        print(problem.format(), file=sys.stderr)
    if not result.ok or history is None:
        print(f"report: {len(result.problems.errors)} error(s); no PDF written", file=sys.stderr)
        return EXIT_PROBLEMS
    by_slug = {r.report.slug: r for r in result.rendered}
    unknown = [slug for slug in args.slugs if slug not in by_slug]
    for slug in unknown:
        hint = did_you_mean(slug, by_slug) or f"reports: {', '.join(by_slug) or 'none'}"
        print(f"report: no report `{slug}` ({hint})", file=sys.stderr)
    if unknown:
        return EXIT_USAGE
    chosen = [by_slug[slug] for slug in dict.fromkeys(args.slugs)] or list(by_slug.values())
    assert result.renderer is not None
    print(f"report: rendering {len(chosen)} PDF(s) ({result.config.page_size})…", file=sys.stderr)
    started = time.perf_counter()
    outputs = export_pdfs(chosen, result.renderer,
                          corrections={r.report.slug: corrections(history.reports.get(r.report.slug)) for r in chosen})
    folder = site_dir(root)
    for slug, pdf in outputs.items():
        target = Path(args.out).resolve() / f"{slug}.pdf" if args.out else folder / slug / f"{slug}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pdf.data)
        shown = os.path.relpath(target) if target.is_relative_to(Path.cwd()) else str(target)
        print(f"{slug}: {pdf.pages} page{'s' if pdf.pages != 1 else ''}, {pdf.size}, {shown}")
    print(f"report: {len(outputs)} PDF(s) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return EXIT_OK


REPORT_TEMPLATE = """\
# yaml-language-server: $schema={schema}
question: {question}
short_title: ""
description: ""
authors:
  - name: "Your name or desk"
checked_on: {today}
verdict:
  rating: {rating}  # one of: {ratings}
  text: "TODO: the verdict in one or two sentences."  # cite sources as [@key] (keys from bib/*.bib)
sections:
  - {{kind: summary, title: "Executive summary", file: summary.md}}
  - {{kind: methods, title: "How we checked", file: methods.md}}
  - {{kind: evidence, title: "What the evidence shows", file: evidence.md}}
claims: []
narratives: []
bottom_line:
  conclusion: "TODO: what the sources support, and what they do not."
  would_change: "TODO: what new evidence would change this assessment."
follow_up: []
disclaimer: ""
revisions:
  - version: 1
    date: {today}
    kind: update
    note: "First published."
"""
SECTION_TEMPLATES = {
    "summary.md": "TODO: summarise the answer in a paragraph, citing each source (see the comment in report.yml).\n",
    "methods.md": "TODO: what you searched, when, in which languages, and what you did not search.\n",
    "evidence.md": "TODO: describe the evidence, citing each source.\n",
}
SCAFFOLD = PACKAGE_DIR / "scaffold"
SCHEMA_PATH = "schema/report.schema.json"


def _write_missing(root: Path, files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Write each file (path relative to `root`) that is not there yet; nothing is ever overwritten. Returns the
    paths written and the paths kept as they were."""
    written, kept = [], []
    for target, data in files.items():
        path = root / target
        if path.exists() or path.is_symlink():
            kept.append(target)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(target)
    return written, kept


def _schema_file() -> dict[str, bytes]:
    """The JSON Schema of report.yml at the path every scaffolded report.yml names (editors validate against it)."""
    from generator.reports.model import json_schema_text

    return {SCHEMA_PATH: json_schema_text().encode("utf-8")}


def cmd_new(args: argparse.Namespace) -> int:
    import datetime as dt
    import re

    from generator.config import load_site_config
    from generator.reports.model import RESERVED_SLUGS

    root = Path(args.path).resolve()
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", args.slug):
        print(f"report: `{args.slug}` is not a valid slug (lowercase letters, digits, hyphens)", file=sys.stderr)
        return EXIT_USAGE
    if args.slug in RESERVED_SLUGS:
        print(f"report: `{args.slug}` is reserved: the site publishes {RESERVED_SLUGS[args.slug]} there; choose "
              "another slug", file=sys.stderr)
        return EXIT_USAGE
    config = load_site_config(root)
    folder = root / config.content_dir / args.slug
    if folder.exists():
        print(f"report: {folder} already exists; nothing was changed", file=sys.stderr)
        return EXIT_PROBLEMS
    folder.mkdir(parents=True)
    ids = [r.id for r in config.ratings]
    rating = "unproven" if "unproven" in ids else ids[0]  # nothing is shown yet: the most neutral rating there is
    question = json.dumps(args.question or "What does the evidence say about …?", ensure_ascii=False)  # YAML too
    schema = os.path.relpath(root / SCHEMA_PATH, folder).replace(os.sep, "/")
    text = REPORT_TEMPLATE.format(question=question, today=dt.date.today().isoformat(), schema=schema,
                                  rating=json.dumps(rating), ratings=", ".join(ids))
    (folder / "report.yml").write_text(text, encoding="utf-8")
    for name, body in SECTION_TEMPLATES.items():
        (folder / name).write_text(body, encoding="utf-8")
    _write_missing(root, _schema_file())
    where = folder.relative_to(root)
    print(f"report: created {where}/ (report.yml, {', '.join(SECTION_TEMPLATES)})\n"
          f"Next: write the question, verdict and sections in {where}/, add your sources to "
          f"{config.bib_dir}/*.bib and cite them as [@key]; `report check` lists what is left, "
          "`report serve` previews it.", file=sys.stderr)
    return EXIT_OK


# The CI workflows of a desk (generator/scaffold/workflows/): this repository's own .github/workflows/report-*.yml
# with the tool installed as a pinned release instead of from the checked-out tree (tests/test_workflows.py keeps
# the two in step).
WORKFLOWS = ("report-publish.yml", "report-pull-request.yml", "report-versions-mike.yml", "report-links.yml")
# What `report init` writes: (path in the desk, file in generator/scaffold/).
INIT_FILES = (("mkdocs.yml", "mkdocs.yml"), (".gitignore", "gitignore"), ("README.md", "README.md"),
              ("docs/about.md", "about.md"), ("bib/sources.bib", "sources.bib"),
              *((f".github/workflows/{name}", f"workflows/{name}") for name in WORKFLOWS))


def example_files() -> dict[str, Path]:
    """The example report (the Enteromix review, with its sources), by its path in a desk: from the wheel
    (generator/example/, put there by setup.py), or from the repository this package is checked out in."""
    for base in (PACKAGE_DIR / "example", PACKAGE_DIR.parent):
        report = base / "content" / "enteromix"
        bib = base / "bib" / "enteromix.bib"
        if (report / "report.yml").is_file() and bib.is_file():
            files = {f"content/enteromix/{p.name}": p for p in sorted(report.iterdir()) if p.is_file()}
            return {**files, "bib/enteromix.bib": bib}
    return {}


def cmd_init(args: argparse.Namespace) -> int:
    """A complete desk in DIR: site settings, folders, an about page, a source list, the schema; never overwrites."""
    root = Path(args.dir).resolve()
    name = args.name or "Evidence reports"
    if root.exists() and not root.is_dir():
        print(f"report: {root} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    files: dict[str, bytes] = {}
    for target, source in INIT_FILES:
        text = (SCAFFOLD / source).read_text(encoding="utf-8")
        text = text.replace("{site_name}", json.dumps(name, ensure_ascii=False) if target == "mkdocs.yml" else name)
        files[target] = text.replace("@VERSION@", __version__).encode("utf-8")  # workflows pin this release
    files.update(_schema_file())
    if args.example:
        example = example_files()
        if not example:
            print("report: the example report is not part of this installation", file=sys.stderr)
            return EXIT_USAGE
        files.update((target, source.read_bytes()) for target, source in example.items())
    written, kept = _write_missing(root, files)
    (root / "content").mkdir(parents=True, exist_ok=True)
    shown = os.path.relpath(root) if root.is_relative_to(Path.cwd()) else str(root)
    print(f"report: {'set up' if written else 'nothing written in'} {shown}"
          + (f" ({', '.join(written)})" if written else "")
          + (f"; kept as they were: {', '.join(kept)}" if kept else ""), file=sys.stderr)
    step = f"cd {shlex.quote(shown)} && " if shown != "." else ""
    print(f"Next: {step}report new my-first-report --question \"…?\", then `report serve` to preview and "
          "`report build` to publish site/.", file=sys.stderr)
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from generator.net import commands  # the network commands: imported only when asked for

    root = Path(args.path).resolve()
    if args.action == "add":
        return commands.sources_add(root, args.identifiers)
    return commands.sources_resolve(root, dry_run=args.dry_run)


def cmd_links(args: argparse.Namespace) -> int:
    from generator.net import commands

    return commands.links(Path(args.path).resolve(), fmt=args.format, archive=args.archive, strict=args.strict,
                          output=args.output)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="report", description="Cited, versioned evidence reports.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__} (evidence-desk)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate content and sources; exit 1 on errors")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="output format")
    p.add_argument("--base", metavar="REF", help="also fail when a report changed since git REF without a new revision")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("diff", help="Markdown summary of report changes between git refs (for PR comments)")
    p.add_argument("base", metavar="BASE", help="git ref to compare from, e.g. origin/main")
    p.add_argument("head", metavar="HEAD", nargs="?", help="git ref to compare to (default: the working tree)")
    p.add_argument("--path", default=".", help="project folder (default: .)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the Markdown to FILE instead of standard output")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("build", help="build the site (and PDFs) into site/")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--strict", action="store_true", help="fail on warnings")
    p.add_argument("--no-pdf", action="store_true", help="skip PDF export")
    p.add_argument("--engine", choices=ENGINES, help="site engine (default: the `engine` setting, else mkdocs)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="live preview; edits in content/ or bib/ reload the page")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    p.add_argument("--engine", choices=ENGINES, help="site engine (default: the `engine` setting, else mkdocs)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("pdf", help="export reports as PDF (default: all, into site/<slug>/<slug>.pdf)")
    p.add_argument("slugs", nargs="*", metavar="SLUG", help="reports to export (default: every report)")
    p.add_argument("--out", metavar="DIR", help="write DIR/<slug>.pdf instead")
    p.add_argument("--path", default=".", help="project folder (default: .)")
    p.set_defaults(func=cmd_pdf)

    p = sub.add_parser("init", help="start a desk: mkdocs.yml, content/, bib/, docs/, schema (never overwrites)")
    p.add_argument("dir", nargs="?", default=".", help="folder to set up (default: .)")
    p.add_argument("--name", help="the site's name (default: Evidence reports)")
    p.add_argument("--example", action="store_true",
                   help="also add the example report (an evidence review of Enteromix, with its 16 sources)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("sources", help="add sources by identifier (DOI, PubMed, PMC, arXiv, ISBN, URL) to "
                       "bib/resolved.bib; the only command besides `links` that goes online")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("add", help="fetch the metadata of each identifier and add an entry")
    q.add_argument("identifiers", nargs="+", metavar="ID",
                   help="doi:10.…, a bare DOI, pmid:…, PMC…, arxiv:…, an ISBN, or a web address")
    q.add_argument("--path", default=".", help="project folder (default: .)")
    q = actions.add_parser("resolve", help="add every identifier cited in content/ that bib/ does not hold yet")
    q.add_argument("--path", default=".", help="project folder (default: .)")
    q.add_argument("--dry-run", action="store_true", help="list them; fetch nothing")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("links", help="check the address of every cited source; exit 1 when one is dead")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--format", choices=("text", "json", "github", "markdown"), default="text", help="output format")
    p.add_argument("--archive", action="store_true", help="find or make an Internet Archive copy of each source "
                   "without one (Save Page Now keys, `ACCESS:SECRET`, from $REPORT_WAYBACK_KEYS)")
    p.add_argument("--strict", action="store_true", help="also exit 1 for moved, changed or unreachable pages")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    p.set_defaults(func=cmd_links)

    p = sub.add_parser("new", help="scaffold content/<slug>/ (never overwrites)")
    p.add_argument("slug", help="the report's URL name, e.g. enteromix")
    p.add_argument("--question", help="the question the report answers")
    p.add_argument("--path", default=".", help="project folder (default: .)")
    p.set_defaults(func=cmd_new)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
