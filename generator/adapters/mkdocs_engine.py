"""The MkDocs adapter's commands: `report build` and `report serve` with MkDocs, after the preflight; MkDocs' own
log printed inert. The plugin (mkdocs_plugin.py) does the rest from MkDocs' events. With zensical_engine.py, the
only modules that start an engine."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

from generator.errors import inert
from generator.publish.site import new_site_folder, replace_site


class _InertRecord(logging.Filter):
    """MkDocs' own messages quote file names from docs/ and exception texts: one line each, controls visible."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = inert(record.getMessage()), ()
        return True


class _Stderr(logging.StreamHandler):
    """Writes to `sys.stderr` as it is when a message is logged, not as it was when the handler was made (as
    Python's own last-resort handler does): a second command in one process, or a test capturing stderr, sees its
    own messages."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def log_inertly(level: int = logging.WARNING) -> None:
    """MkDocs' log (and the plugin's, below it) printed through one handler that makes every message inert."""
    mkdocs_log = logging.getLogger("mkdocs")
    if any(isinstance(f, _InertRecord) for h in mkdocs_log.handlers for f in h.filters):
        return
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    handler.addFilter(_InertRecord())
    handler.setLevel(level)
    mkdocs_log.addHandler(handler)
    if level < logging.WARNING:
        mkdocs_log.setLevel(level)


def build(config_file: str, strict: bool, pdf: bool) -> tuple[Path, str]:
    """Build with MkDocs into a folder beside site_dir and swap it in only on success, so a failed build keeps
    the old site; (site_dir, "" or why the build failed)."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config = load_config(config_file, strict=strict)
    site_dir = Path(config.site_dir)
    staging = new_site_folder(site_dir)
    config.site_dir = str(staging)
    if not pdf:
        for name, plugin in config.plugins.items():
            if name == "report" or name.endswith("/report"):
                plugin.config.pdf = False
    try:
        mkdocs_build(config)
    except (MkDocsException, SystemExit) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return site_dir, str(exc)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_site(staging, site_dir)
    return site_dir, ""


def serve(config_file: str, dev_addr: str) -> None:
    from mkdocs.commands.serve import serve as mkdocs_serve

    mkdocs_serve(config_file=config_file, dev_addr=dev_addr, livereload=True)
