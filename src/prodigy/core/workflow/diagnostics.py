"""Problems found in a workflow file: where they are, what is wrong, and the likely fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from prodigy.core.errors import WorkflowError

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem, rendered as `file:line:col: yaml.path: message (did you mean 'x'?)`."""

    file: str
    line: int
    column: int
    yaml_path: str
    message: str
    suggestion: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = (
            f"{where}: {self.yaml_path}: {self.message}"
            if self.yaml_path
            else (f"{where}: {self.message}")
        )
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text

    def to_dict(self) -> dict[str, object]:
        """The JSON shape `prodigy validate --json` prints."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "yaml_path": self.yaml_path,
            "message": self.message,
            "suggestion": self.suggestion,
            "severity": self.severity,
        }


class WorkflowLoadError(WorkflowError):
    """The workflow file is invalid; `.diagnostics` holds every error found, in file order."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        count = len(self.diagnostics)
        lines = "\n".join(f"  {d}" for d in self.diagnostics)
        super().__init__(f"workflow has {count} problem(s):\n{lines}")


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest valid spelling of `word`, if one is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


@dataclass(slots=True)
class DiagnosticCollector:
    """Collects diagnostics while the whole file is checked, so all problems surface at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def add_error_at(self, file: str, message: str) -> None:
        """A problem with the file as a whole (line 1, column 1)."""
        self.add(Diagnostic(file=file, line=1, column=1, yaml_path="", message=message))

    def add_warning_at(self, file: str, message: str, suggestion: str | None = None) -> None:
        self.add(
            Diagnostic(
                file=file,
                line=1,
                column=1,
                yaml_path="",
                message=message,
                suggestion=suggestion,
                severity="warning",
            )
        )

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.items if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.items if d.severity == "warning")

    def sorted(self) -> tuple[Diagnostic, ...]:
        """File order: the order a reader fixes them in."""
        return tuple(sorted(self.items, key=lambda d: (d.file, d.line, d.column)))
