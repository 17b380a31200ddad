"""The distribution as a desk installs it: a wheel named `evidence-desk` that carries every template, asset,
stylesheet and scaffold file, installed into a fresh virtual environment outside this repository, where
`report init`, `report new`, `report check` and `report build` work from the wheel alone."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

import generator

from .conftest import REPO
from .test_serve import _fetch, _free_port, _wait_for


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (nothing is written into the repository)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "setup.py", "MANIFEST.in", "bib/enteromix.bib"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "generator", source / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "content" / "enteromix", source / "content" / "enteromix")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)], check=True,
                   capture_output=True, text=True)  # an isolated build, as a release is built
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_is_named_ours_and_carries_every_file_the_package_reads(wheel: Path) -> None:
    assert wheel.name.startswith(f"evidence_desk-{generator.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = REPO / "generator"
    for folder in ("templates", "assets", "theme", "scaffold"):
        for path in (package / folder).iterdir():
            if path.is_file():
                assert f"generator/{folder}/{path.name}" in names, path
    assert "generator/py.typed" in names
    assert "generator/sources/citeproc_batch.lua" in names  # Pandoc's filter for several reports per process
    from generator.i18n import SHIPPED

    for language in SHIPPED:  # every catalogue, as written and compiled for gettext
        assert f"generator/locales/{language}/LC_MESSAGES/report.po" in names, language
        assert f"generator/locales/{language}/LC_MESSAGES/report.mo" in names, language
    # the example report as it is in this repository, for `report init --example`
    for path in (REPO / "content" / "enteromix").iterdir():
        assert f"generator/example/content/enteromix/{path.name}" in names, path
    assert "generator/example/bib/enteromix.bib" in names
    metadata = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "report = generator.cli:main" in entry_points
    assert "report = generator.adapters.mkdocs_plugin:ReportPlugin" in entry_points


def test_a_desk_starts_from_the_installed_wheel_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # the dependencies are this environment's (its site-packages as plain path entries, so an editable install
    # of this checkout there is not activated); the tool itself comes from the wheel only
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    Path(purelib, "_this_environment.pth").write_text("".join(f"{p}\n" for p in sorted(ours)), encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall",
                    str(wheel)], check=True, capture_output=True, text=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(NO_MKDOCS_2_WARNING="1", PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str, cwd: Path = work) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    where = run(str(python), "-c", "import generator; print(generator.__file__)").stdout.strip()
    assert Path(where).is_relative_to(venv), where  # not this checkout
    assert run(str(venv / "bin" / "report"), "--version").stdout.strip() == f"report {generator.__version__} (evidence-desk)"
    run("report", "init", "desk", "--name", "Wheel desk")
    desk = work / "desk"
    run("report", "new", "first", "--question", "Does it build?", cwd=desk)
    assert "0 error(s), 0 warning(s)" in run("report", "check", "--strict", cwd=desk).stderr
    # the desk's publish workflow, step by step, as its runner would (the install step pins this very wheel)
    workflow = yaml.safe_load((desk / ".github/workflows/report-publish.yml").read_text(encoding="utf-8"))
    commands = [step["run"] for step in workflow["jobs"]["build"]["steps"] if "run" in step]
    install, *rest = commands
    assert f'python -m pip install "evidence-desk=={generator.__version__}"' in install
    assert rest == ["report check --format github", "report build"]
    for command in rest:
        run("bash", "-e", "-c", command, cwd=desk)
    page = (desk / "site" / "first" / "index.html").read_text(encoding="utf-8")
    assert "Does it build?" in page and "assets/report/report.css" in page
    assert (desk / "site" / "first" / "first.pdf").read_bytes().startswith(b"%PDF-")
    # the live preview from the wheel: an edit shows without restarting it
    port = _free_port()
    server = subprocess.Popen(["report", "serve", "--dev-addr", f"127.0.0.1:{port}"], cwd=desk, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/first/"
        _wait_for(lambda: "Does it build?" in _fetch(url), "the preview's first build")
        (desk / "content/first/summary.md").write_text("An edit while the preview runs.\n", encoding="utf-8")
        _wait_for(lambda: "An edit while the preview runs." in _fetch(url), "a rebuild after an edit")
    finally:
        server.terminate()
        server.communicate(timeout=10)
    # with the example report, from the wheel alone
    run("report", "init", "sample", "--example")
    sample = work / "sample"
    assert (sample / "content/enteromix/report.yml").read_bytes() == (REPO / "content/enteromix/report.yml").read_bytes()
    assert "1 report(s), 16 source(s): 0 error(s), 0 warning(s)" in run("report", "check", "--strict", cwd=sample).stderr
