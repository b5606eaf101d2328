"""`prodigy validate`: check a workflow file and report every problem at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.templates.registry import template_dirs
from prodigy.core.env_resolution import unset_reference_warning, unset_secret_references
from prodigy.core.errors import ProdigyError
from prodigy.core.workflow import Diagnostic, Workflow, all_steps, check_workflow, load_workflow
from prodigy.runtime.agents import agent_names


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
        diagnostics = [*diagnostics, *_load_time_checks(path, strict=strict)]
    return ValidationReport(str(path), tuple(diagnostics))


def _load_time_checks(path: Path, *, strict: bool) -> list[Diagnostic]:
    """What `prodigy run` would refuse or warn about once the workflow is loaded."""
    try:
        workflow = load_workflow(path, template_dirs=template_dirs(os.environ)).workflow
    except ProdigyError:  # e.g. a template that needs --param: check_workflow has spoken
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        *_unknown_agents(path, lines, workflow),
        *_unset_references(path, lines, workflow, dict(os.environ), strict=strict),
    ]


def _unknown_agents(path: Path, lines: list[str], workflow: Workflow) -> list[Diagnostic]:
    """`agent: NAME` (workflow or step) that no plug-in registers: `prodigy run` would
    refuse it, so say it now."""
    known = agent_names()
    found = []
    if workflow.agent is not None and workflow.agent not in known:
        line = next((i for i, t in enumerate(lines, 1) if t.startswith("agent:")), 1)
        found.append(_agent_problem(str(path), line, "agent", workflow.agent, known))
    for step in all_steps(workflow):
        if step.agent is not None and step.agent not in known:
            at = step.location
            found.append(
                _agent_problem(at.file, at.line, f"{at.yaml_path}.agent", step.agent, known)
            )
    return found


def _agent_problem(
    file: str, line: int, yaml_path: str, agent: str, known: tuple[str, ...]
) -> Diagnostic:
    return Diagnostic(
        file=file,
        line=line,
        column=1,
        yaml_path=yaml_path,
        message=f"unknown agent {agent!r}; known agents: {', '.join(known)}",
        severity="error",
    )


def _unset_references(
    path: Path, lines: list[str], workflow: Workflow, env: dict[str, str], *, strict: bool
) -> list[Diagnostic]:
    """A secret env value naming `${VAR}` that is not set (issue 19): said at validate
    time, since the masked value would hide that it stayed the literal text."""
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
