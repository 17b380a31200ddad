"""A temporary git repository holding three versions of one report: v1 → correction v2 → update v3."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .conftest import MINIMAL_BIB, MINIMAL_REPORT, minimal_files, write_tree

DATES = {"v1": "2026-01-27T12:00:00+00:00", "v2": "2026-02-03T12:00:00+00:00", "v3": "2026-03-10T12:00:00+00:00"}

V1_SUMMARY = "Alpha claims a result [@alpha2025]; see also [@gamma2025; @beta2024].\n"
V2_SUMMARY = "Alpha claims a result in mice, not people [@alpha2025]; see also [@gamma2025; @beta2024].\n"
V3_EVIDENCE = ("The study [@beta2024, p. 12] and the agency [@alpha2025]. A fact-check found the claim "
               "misleading [@delta2026].\n")

V2_REPORT = (MINIMAL_REPORT
             .replace("checked_on: 2026-01-27", "checked_on: 2026-02-03")
             .replace('text: "Not yet [@alpha2025]."', 'text: "Not yet: the only result is in mice [@alpha2025]."')
             .replace("rating: misleading", 'rating: "false"')
             .replace('explanation: "Only a press release [@alpha2025]."',
                      'explanation: "Only a press release, about mice [@alpha2025]."')
             + '  - {version: 2, date: 2026-02-03, kind: correction, note: "Version 1 said the result was in people; '
               'it was in mice."}\n')

V3_REPORT = (V2_REPORT
             .replace("checked_on: 2026-02-03", "checked_on: 2026-03-10")
             .replace("  rating: unproven\n", "  rating: misleading\n", 1)
             .replace("sources: [alpha2025, gamma2025]", "sources: [alpha2025]")
             .replace("bottom_line:", """  - id: second-claim
    claim: "Beta proves it."
    claimant: "Alpha"
    rating: unproven
    sources: [beta2024, delta2026]
bottom_line:""")
             + '  - {version: 3, date: 2026-03-10, kind: update, note: "Re-checked: a fact-check appeared."}\n')

V3_SUMMARY = "Alpha claims a result in mice, not people [@alpha2025]; see also [@beta2024].\n"
DELTA_BIB = """
@online{delta2026,
  title = {Fact-check: Alpha's claim},
  organization = {Check Desk},
  date = {2026-03-01},
  url = {https://example.org/delta},
  urldate = {2026-03-10},
  kind = {fact-check},
}
"""


def git(root: Path, *args: str) -> str:
    """Run git in the test repository with fixed identity and dates (no global config, no hooks)."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_DATE": DATES["v1"], "GIT_COMMITTER_DATE": DATES["v1"]}
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(root: Path, message: str, date: str) -> str:
    """Commit everything with a fixed date; returns the commit id."""
    git(root, "add", "-A")
    env_date = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", **env_date})
    return git(root, "rev-parse", "HEAD")


def make_history_repo(root: Path, mkdocs_yml: str | None = None,
                      v3_files: dict[str, str] | None = None) -> dict[str, str]:
    """Write the minimal project, commit v1, v2 (correction) and v3 (update), tag each; returns tag → commit.
    `v3_files` replaces files of the newest version."""
    files = minimal_files()
    if mkdocs_yml is not None:
        files["mkdocs.yml"] = mkdocs_yml
    write_tree(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Desk")
    git(root, "config", "user.email", "desk@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    (root / ".gitignore").write_text("site/\n.cache/\n", encoding="utf-8")
    commits = {"v1": commit(root, "Example v1", DATES["v1"])}
    git(root, "tag", "v1")
    write_tree(root, {"content/example/report.yml": V2_REPORT, "content/example/summary.md": V2_SUMMARY})
    commits["v2"] = commit(root, "Example v2: correction", DATES["v2"])
    git(root, "tag", "v2")
    write_tree(root, {"content/example/report.yml": V3_REPORT, "content/example/summary.md": V3_SUMMARY,
                      "content/example/evidence.md": V3_EVIDENCE, "bib/sources.bib": MINIMAL_BIB + DELTA_BIB, **(v3_files or {})})
    commits["v3"] = commit(root, "Example v3: update", DATES["v3"])
    git(root, "tag", "v3")
    return commits
