"""The `report` command: a thin adapter over the core and MkDocs."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import Problem, Severity
from .project import Project, build_project

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _print_problems(problems: list[Problem], fmt: str, strict: bool) -> None:
    if fmt == "json":
        print(json.dumps([{"path": p.path, "line": p.line, "severity": p.severity.value, "message": p.message,
                           "hint": p.hint, "code": p.code} for p in problems], indent=2, ensure_ascii=False))
        return
    for p in problems:
        if fmt == "github":
            level = "error" if p.severity is Severity.ERROR or strict else "warning"
            line = f",line={p.line}" if p.line else ""
            text = (p.message + (f" ({p.hint})" if p.hint else "")).replace("%", "%25").replace("\n", "%0A")
            print(f"::{level} file={p.path}{line}::{text}")
        else:
            print(p.format())


def cmd_check(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    result = build_project(Project(root=root))
    problems = result.problems.sorted()
    _print_problems(problems, args.format, args.strict)
    errors = len(result.problems.errors)
    warnings = len(result.problems.warnings)
    if args.format != "json":
        print(f"{len(result.reports)} report(s), {len(result.bib.sources)} source(s): "
              f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return EXIT_PROBLEMS if errors or (args.strict and warnings) else EXIT_OK


def _mkdocs_config_file(root: Path) -> str:
    config_file = root / "mkdocs.yml"
    if not config_file.exists():
        raise SystemExit(f"report: no mkdocs.yml in {root}")
    return str(config_file)


def cmd_build(args: argparse.Namespace) -> int:
    """Build into a temporary folder and swap it in only on success, so a failed build keeps the old site."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    root = Path(args.path).resolve()
    config = load_config(_mkdocs_config_file(root), strict=args.strict)
    site_dir = Path(config.site_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.", dir=site_dir.parent))
    config.site_dir = str(staging)
    if args.no_pdf:
        for name, plugin in config.plugins.items():
            if name == "report" or name.endswith("/report"):
                plugin.config.pdf = False
    try:
        build(config)
    except (MkDocsException, SystemExit) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"report: build failed, {site_dir.name}/ left as it was: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    if site_dir.exists():
        site_dir.rename(old)
    staging.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
    print(f"report: site built in {site_dir}", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from mkdocs.commands.serve import serve

    root = Path(args.path).resolve()
    serve(config_file=_mkdocs_config_file(root), dev_addr=args.dev_addr, livereload=True)
    return EXIT_OK


REPORT_TEMPLATE = """\
# yaml-language-server: $schema=../../schema/report.schema.json
question: "{question}"
short_title: ""
description: ""
authors:
  - name: "Your name or desk"
checked_on: {today}
verdict:
  rating: unproven
  text: "One or two sentences, with citations like [@key]."
sections:
  - {{kind: summary, title: "Executive summary", file: summary.md}}
  - {{kind: evidence, title: "What the evidence shows", file: evidence.md}}
claims: []
narratives: []
bottom_line:
  conclusion: "What the sources support, and what they do not."
  would_change: "What new evidence would change this assessment."
follow_up: []
disclaimer: ""
revisions:
  - version: 1
    date: {today}
    kind: update
    note: "First published."
"""


def cmd_new(args: argparse.Namespace) -> int:
    import datetime as dt
    import re

    from .config import load_site_config

    root = Path(args.path).resolve()
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", args.slug):
        print(f"report: `{args.slug}` is not a valid slug (lowercase letters, digits, hyphens)", file=sys.stderr)
        return EXIT_USAGE
    folder = root / load_site_config(root).content_dir / args.slug
    if folder.exists():
        print(f"report: {folder} already exists; nothing was changed", file=sys.stderr)
        return EXIT_PROBLEMS
    folder.mkdir(parents=True)
    today = dt.date.today().isoformat()
    question = (args.question or "What does the evidence say about …?").replace('"', '\\"')
    (folder / "report.yml").write_text(REPORT_TEMPLATE.format(question=question, today=today), encoding="utf-8")
    (folder / "summary.md").write_text("Summarise the answer in a paragraph, citing sources [@key].\n",
                                       encoding="utf-8")
    (folder / "evidence.md").write_text("Describe the evidence, citing each source [@key].\n", encoding="utf-8")
    print(f"report: created {folder.relative_to(root)}/ (report.yml, summary.md, evidence.md)", file=sys.stderr)
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="report", description="Cited, versioned evidence reports.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate content and sources; exit 1 on errors")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="output format")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("build", help="build the site (and PDFs) into site/")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--strict", action="store_true", help="fail on warnings")
    p.add_argument("--no-pdf", action="store_true", help="skip PDF export")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="live preview; edits in content/ or bib/ reload the page")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    p.set_defaults(func=cmd_serve)

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
