"""`prodigy validate`: check a workflow file and report every problem at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.templates.registry import template_dirs
from prodigy.core.workflow import Diagnostic, check_workflow


@dataclass(frozen=True, slots=True)
class ValidationReport:
    path: str
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "path": self.path,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def validate_workflow(path: Path, *, strict: bool = False) -> ValidationReport:
    """Every error and warning in `path`; `strict` turns warnings into errors."""
    # `template: {source: NAME}` may name a registered template, as in `prodigy run`.
    diagnostics = check_workflow(path, strict=strict, template_dirs=template_dirs(os.environ))
    return ValidationReport(str(path), tuple(diagnostics))
