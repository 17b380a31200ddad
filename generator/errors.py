"""Problems found in a project: collected with their location, never raised one at a time."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path


def inert(text: str) -> str:
    """Text safe to print as part of one log line: newlines, other control characters (C0, DEL, C1), line and
    paragraph separators and bidi controls shown as visible escapes (`\\n`, `\\x1b`, `\\u202e`), so content
    can never start a line (a GitHub workflow command such as `::error::`) or move the terminal's cursor."""
    return text.translate(_INERT).replace("##[", "#\\x23[")  # `##[command]` is GitHub's older command syntax


_INERT = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
_INERT.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
# Line and paragraph separators, bidi embeddings/overrides/isolates and the invisible direction marks.
_INERT.update({c: f"\\u{c:04x}" for c in [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
                                           *range(0x2066, 0x206A)]})
# json.dumps escapes C0 but writes the rest raw (with ensure_ascii=False); as JSON escapes they decode unchanged.
_INERT_JSON = {c: f"\\u{c:04x}" for c in _INERT if c >= 0x7F}


def print_problems(*groups: Problems) -> None:
    """Every problem of the groups on standard error, sorted, each already inert (`Problem.format`)."""
    import sys

    for group in groups:
        for problem in group.sorted():
            print(problem.format(), file=sys.stderr)


def github_text(text: str) -> str:
    """Text for a GitHub workflow command's message: controls made visible first, then GitHub's own encoding."""
    return inert(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value (`file=…`): also `:` and `,` encoded, which end a property."""
    return github_text(text).replace(":", "%3A").replace(",", "%2C")


def inert_json(dumped: str) -> str:
    """JSON text (from json.dumps) with DEL, C1, separators and bidi controls written as `\\uXXXX` escapes:
    still valid JSON that decodes to the same values, and inert on a terminal or in a log."""
    return dumped.translate(_INERT_JSON)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, with where it is and how to fix it."""

    path: str
    line: int | None
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR
    code: str = ""

    def format(self) -> str:
        """One line (two with a hint); path, message and hint are inert, so content never starts a line."""
        path = inert(self.path)
        if path.lstrip().startswith(":"):  # a line starting `::` (after blanks) would be a workflow command
            path = f"./{path}"
        where = f"{path}:{self.line}" if self.line else path
        text = f"{where}: {self.severity.value}: {inert(self.message)}"
        if self.hint:
            text += f"\n  hint: {inert(self.hint)}"
        return text


@dataclass
class Problems:
    """A collector that every stage appends to, so a user sees every problem at once."""

    items: list[Problem] = field(default_factory=list)
    root: Path | None = None
    _seen: set[Problem] = field(default_factory=set, repr=False, compare=False)

    def relative(self, path: str | Path) -> str:
        """A path as shown in messages: relative to the project root when it is inside it."""
        path = Path(path)
        if self.root is not None:
            # A symbolic link is named as written (the message is about the link), its folders as they resolve.
            for candidate, root in ((Path(os.path.abspath(path)), Path(os.path.abspath(self.root))),
                                    (path.parent.resolve() / path.name, self.root.resolve())):
                try:
                    return candidate.relative_to(root).as_posix()
                except ValueError:
                    continue
        return path.as_posix()

    def error(self, path: str | Path, line: int | None, message: str, hint: str = "", code: str = "") -> None:
        self._add(Problem(self.relative(path), line, message, hint, Severity.ERROR, code))

    def warning(self, path: str | Path, line: int | None, message: str, hint: str = "", code: str = "") -> None:
        self._add(Problem(self.relative(path), line, message, hint, Severity.WARNING, code))

    def _add(self, problem: Problem) -> None:
        """Two checks may find the same problem (a link out of content/ is refused where it is read, and where
        content/ is walked): it is reported once."""
        if len(self._seen) != len(self.items):
            self._seen = set(self.items)
        if problem not in self._seen:
            self.items.append(problem)
            self._seen.add(problem)

    def extend(self, other: Problems) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity is Severity.WARNING]

    def sorted(self) -> list[Problem]:
        return sorted(set(self.items), key=lambda p: (p.path, p.line or 0, p.message))

    def __bool__(self) -> bool:
        return bool(self.items)


class ReportError(Exception):
    """Raised by a stage that cannot go on; carries every problem found so far."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))
