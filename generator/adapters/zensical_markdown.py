"""A Python-Markdown extension the Zensical adapter lists in the staged configuration (engines that call
Python-Markdown load it by module name). It does two things no Zensical plugin hook exists for yet:

* A generated page is staged as one marker line, `<!-- report-page NONCE ID -->`. The extension puts the finished
  body (stored by the adapter in `pages_dir/ID.json`) in place of the converted text and hands Zensical the page's
  table of contents as `md.toc_tokens`. The body never passes through Markdown: it is finished HTML. The nonce is
  made per build, so a desk's own page cannot claim to be a generated one.
* Every other page (the desk's own `docs/` pages) is cleaned like report prose (nh3), as the MkDocs plugin does,
  unless `sanitize_html: false`.

It imports no engine: only Python-Markdown and the core's sanitiser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from generator.sanitize import clean_page

_MARKER = re.compile(r"<!-- report-page ([0-9a-f]{32}) ([0-9a-f]{1,64}) -->")


def marker(nonce: str, page_id: str) -> str:
    return f"<!-- report-page {nonce} {page_id} -->"


class _State:
    def __init__(self) -> None:
        self.page: dict[str, Any] | None = None


class _FindMarker(Preprocessor):
    def __init__(self, md: Markdown, ext: ReportPagesExtension, state: _State):
        super().__init__(md)
        self.ext, self.state = ext, state

    def run(self, lines: list[str]) -> list[str]:
        self.state.page = None
        body = [line for line in lines if line.strip()]
        match = _MARKER.fullmatch(body[0].strip()) if len(body) == 1 else None
        if match and match.group(1) == self.ext.getConfig("nonce"):
            path = Path(self.ext.getConfig("pages_dir")) / f"{match.group(2)}.json"
            self.state.page = json.loads(path.read_text(encoding="utf-8"))
            return []
        return lines


class _PlaceBody(Postprocessor):
    def __init__(self, md: Markdown, ext: ReportPagesExtension, state: _State):
        super().__init__(md)
        self.ext, self.state = ext, state

    def run(self, text: str) -> str:
        page = self.state.page
        if page is not None:
            self.md.toc_tokens = page["toc"]  # type: ignore[attr-defined]
            self.md.toc = ""  # type: ignore[attr-defined]
            return str(page["html"])
        return clean_page(text) if self.ext.getConfig("sanitize") else text


class ReportPagesExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "nonce": ["", "the build's nonce: only markers that carry it are generated pages"],
            "pages_dir": ["", "the folder of the generated pages' bodies (ID.json)"],
            "sanitize": [True, "clean the HTML of every other page (the desk's own docs/ pages)"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        state = _State()
        md.preprocessors.register(_FindMarker(md, self, state), "report_page_marker", 40)
        md.postprocessors.register(_PlaceBody(md, self, state), "report_page_body", 5)


def makeExtension(**kwargs: Any) -> ReportPagesExtension:  # noqa: N802 - Python-Markdown's entry point
    return ReportPagesExtension(**kwargs)
