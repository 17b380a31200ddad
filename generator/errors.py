"""Problems found in a project: collected with their location, never raised one at a time."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


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
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.severity.value}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass
class Problems:
    """A collector that every stage appends to, so a user sees every problem at once."""

    items: list[Problem] = field(default_factory=list)
    root: Path | None = None

    def relative(self, path: str | Path) -> str:
        """A path as shown in messages: relative to the project root when it is inside it."""
        path = Path(path)
        if self.root is not None:
            try:
                return path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        return path.as_posix()

    def error(self, path: str | Path, line: int | None, message: str, hint: str = "", code: str = "") -> None:
        self.items.append(Problem(self.relative(path), line, message, hint, Severity.ERROR, code))

    def warning(self, path: str | Path, line: int | None, message: str, hint: str = "", code: str = "") -> None:
        self.items.append(Problem(self.relative(path), line, message, hint, Severity.WARNING, code))

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
