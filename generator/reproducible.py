"""The build date of a site comes from its commit or its content, never the clock, so two builds give the same bytes."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from generator import safefs
from generator.config import load_site_config
from generator.reports.model import REPORT_FILE, report_folders

ENV = "SOURCE_DATE_EPOCH"
_CONTENT_DATE = re.compile(r"^\s*(?:-\s*)?(?:checked_on|date)\s*:\s*['\"]?(\d{4}-\d{2}-\d{2})\b", re.M)


def git_commit_epoch(root: Path) -> int | None:
    """Seconds since the epoch of the last commit that touched the project folder, if it is in a git clone."""
    try:
        out = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%ct", "--", "."],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return int(value) if out.returncode == 0 and value.isdigit() else None


def content_epoch(content_dir: Path) -> int | None:
    """Midnight UTC of the newest `checked_on` or revision date found in the reports' report.yml files."""
    newest: dt.date | None = None
    for folder in report_folders(content_dir):
        try:
            text = safefs.read_text(folder / REPORT_FILE, content_dir)
        except (OSError, UnicodeDecodeError, safefs.UnsafePath):
            continue
        for match in _CONTENT_DATE.finditer(text):
            try:
                date = dt.date.fromisoformat(match.group(1))
            except ValueError:
                continue
            newest = date if newest is None or date > newest else newest
    if newest is None:
        return None
    return int(dt.datetime(newest.year, newest.month, newest.day, tzinfo=dt.UTC).timestamp())


def source_date_epoch(root: Path) -> int:
    """The build date: the last commit, else the newest date in the content, else 1970 (never the clock)."""
    epoch = git_commit_epoch(root)
    if epoch is None:
        try:
            content_dir = root / load_site_config(root).content_dir
        except (ValidationError, OSError, ValueError):
            content_dir = root / "content"
        epoch = content_epoch(content_dir)
    return epoch or 0


@contextmanager
def build_epoch(root: Path) -> Iterator[int]:
    """Set SOURCE_DATE_EPOCH (which MkDocs honours) for one build, unless the caller already set it."""
    if os.environ.get(ENV, "").strip().isdigit():
        yield int(os.environ[ENV])
        return
    previous = os.environ.get(ENV)
    epoch = source_date_epoch(root)
    os.environ[ENV] = str(epoch)
    try:
        yield epoch
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
