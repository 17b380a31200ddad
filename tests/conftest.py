"""Shared fixtures: small projects written into tmp_path, and the example project at the repo root."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

MINIMAL_BIB = """\
@string{agency = {Example Agency}}

@online{alpha2025,
  title = {Alpha announces a result},
  organization = agency # { Newsroom},
  date = {2025-06-01},
  url = {https://example.org/alpha?x=1&y=2},
  urldate = {2026-01-27},
  kind = {news},
}

@article{beta2024,
  author = {Smith, Jane and M{\\"u}ller, Hans},
  title = {A {DNA} study of {\\'e}l{\\`e}ve outcomes},
  journaltitle = {Journal of Examples},
  volume = {3},
  number = {2},
  pages = {10--20},
  date = {2024-03-05},
  doi = {10.1234/example.5678},
  url = {https://example.org/beta},
  kind = {peer-reviewed},
}

@online{gamma2025,
  title = {Гамма: первая фаза},
  organization = {Пример},
  date = {2025-12-25},
  url = {https://example.org/gamma},
  urldate = {2026-01-27},
  langid = {russian},
  kind = {state-media},
}
"""

MINIMAL_REPORT = """\
question: "Does the example hold up?"
short_title: "Example"
authors:
  - name: "Test desk"
checked_on: 2026-01-27
verdict:
  rating: unproven
  text: "Not yet [@alpha2025]."
sections:
  - {kind: summary, title: "Executive summary", file: summary.md}
  - {kind: evidence, title: "The evidence", file: evidence.md}
claims:
  - id: first-claim
    claim: "Alpha works."
    claimant: "Alpha"
    first_appeared: {date: 2025-06-01, source: alpha2025}
    rating: misleading
    sources: [alpha2025, gamma2025]
    explanation: "Only a press release [@alpha2025]."
bottom_line:
  conclusion: "Unproven [@beta2024]."
  would_change: "A peer-reviewed trial."
follow_up:
  - "When will data appear?"
disclaimer: "Test disclaimer."
revisions:
  - {version: 1, date: 2026-01-27, kind: update, note: "First published."}
"""

MINIMAL_MKDOCS = """\
site_name: Test reports
docs_dir: docs
theme:
  name: material
  font: false
  features:
    - content.tooltips
plugins:
  - search
  - report:
      pdf: false
"""


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, whitespace collapsed."""
    import io

    from pypdf import PdfReader

    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
    return root


def minimal_files(**overrides: str) -> dict[str, str]:
    """A small valid project; override any file by its relative path."""
    files = {
        "mkdocs.yml": MINIMAL_MKDOCS,
        "docs/about.md": "# About\n",
        "bib/sources.bib": MINIMAL_BIB,
        "content/example/report.yml": MINIMAL_REPORT,
        "content/example/summary.md": "Alpha claims a result [@alpha2025]; see also [@gamma2025; @beta2024].\n",
        "content/example/evidence.md": "The study [@beta2024, p. 12] and the agency [@alpha2025; @gamma2025].\n",
    }
    files.update(overrides)
    return files


@pytest.fixture(autouse=True, scope="session")
def _machine_folder_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This session's own machine key and machine folders (Zensical's build stages): the tests' many projects
    leave nothing in the user's cache folder."""
    import os

    from generator import cache

    old = os.environ.get(cache.KEY_ENV)
    os.environ[cache.KEY_ENV] = str(tmp_path_factory.mktemp("machine") / "cache.key")
    cache.machine_key.cache_clear()
    yield
    if old is None:
        os.environ.pop(cache.KEY_ENV, None)
    else:
        os.environ[cache.KEY_ENV] = old
    cache.machine_key.cache_clear()


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """make_project(**overrides) writes a minimal valid project and returns its root."""

    def make(**overrides: str) -> Path:
        root = tmp_path / "project"
        files = minimal_files(**{k.replace("__", "/"): v for k, v in overrides.items()})
        return write_tree(root, {k: v for k, v in files.items() if v is not None})

    return make


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A copy of the repository's example project (mkdocs.yml, content/, bib/, docs/)."""
    root = tmp_path / "example"
    root.mkdir()
    for name in ("content", "bib", "docs", "schema"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    return root
