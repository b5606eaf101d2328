"""`prodigy validate`: check a workflow file and report every problem at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.templates.registry import template_dirs
from prodigy.core.env_resolution import unset_reference_warning, unset_secret_references
from prodigy.core.errors import ProdigyError
from prodigy.core.workflow import Diagnostic, check_workflow, load_workflow


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
    if not any(d.severity == "error" for d in diagnostics):
        diagnostics = [*diagnostics, *_unset_references(path, dict(os.environ), strict=strict)]
    return ValidationReport(str(path), tuple(diagnostics))


def _unset_references(path: Path, env: dict[str, str], *, strict: bool) -> list[Diagnostic]:
    """A secret env value naming `${VAR}` that is not set (issue 19): said at validate
    time, since the masked value would hide that it stayed the literal text."""
    try:
        workflow = load_workflow(path, template_dirs=template_dirs(os.environ)).workflow
    except ProdigyError:  # e.g. a template that needs --param: check_workflow has spoken
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for name, ref in unset_secret_references(workflow.env, env):
        needle = f"${{{ref}}}"
        line = next((i for i, text in enumerate(lines, 1) if needle in text), 1)
        column = lines[line - 1].find(needle) + 1 if lines else 1
        found.append(
            Diagnostic(
                file=str(path),
                line=line,
                column=max(column, 1),
                yaml_path=f"env.{name}.value",
                message=unset_reference_warning(name, ref),
                severity="error" if strict else "warning",
            )
        )
    return found
