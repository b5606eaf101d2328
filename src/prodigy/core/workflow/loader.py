"""The public entry: a workflow file -> a `Workflow`, or every problem in it at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from prodigy.core.workflow.checks import check_expressions
from prodigy.core.workflow.composition import compose
from prodigy.core.workflow.diagnostics import Diagnostic, DiagnosticCollector, WorkflowLoadError
from prodigy.core.workflow.model import Workflow
from prodigy.core.workflow.normalize import build_workflow
from prodigy.core.workflow.shell_checks import check_shell_contexts
from prodigy.core.workflow.yaml_source import parse_yaml


@dataclass(frozen=True, slots=True)
class LoadResult:
    workflow: Workflow
    warnings: tuple[Diagnostic, ...]


def load_workflow(
    path: Path,
    *,
    params: Mapping[str, object] | None = None,
    strict: bool = False,
    template_dirs: tuple[Path, ...] = (),
) -> LoadResult:
    """Load and normalize; raises WorkflowLoadError carrying every error when invalid.

    `template_dirs` are the registries where `template: {source: NAME}` is looked up.
    """
    workflow, diagnostics = _load(Path(path), params, strict, template_dirs)
    errors = tuple(d for d in diagnostics if d.severity == "error")
    if errors or workflow is None:
        raise WorkflowLoadError(errors)
    return LoadResult(workflow, tuple(d for d in diagnostics if d.severity == "warning"))


def check_workflow(
    path: Path,
    *,
    strict: bool = False,
    params: Mapping[str, object] | None = None,
    template_dirs: tuple[Path, ...] = (),
) -> list[Diagnostic]:
    """Every error and warning in the file (warnings become errors when strict), file order."""
    return list(_load(Path(path), params, strict, template_dirs)[1])


def _load(
    path: Path, params: Mapping[str, object] | None, strict: bool, template_dirs: tuple[Path, ...]
) -> tuple[Workflow | None, tuple[Diagnostic, ...]]:
    source = str(path)
    reporter = DiagnosticCollector()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        reporter.add_error_at(source, f"cannot read workflow file: {reason}")
        return None, reporter.sorted()
    root = parse_yaml(text, source, reporter)  # JSON files are YAML 1.2 too
    workflow = None
    if not reporter.errors or root is not None:
        composed = compose(root, path, params, reporter, template_dirs)
        workflow = build_workflow(
            composed.root,
            source,
            reporter,
            parameters=composed.parameters,
            sub_workflows=composed.sub_workflows,
        )
    if workflow is not None:
        check_expressions(workflow, reporter)
        check_shell_contexts(workflow, reporter)
    diagnostics = reporter.sorted()
    if strict:
        diagnostics = tuple(replace(d, severity="error") for d in diagnostics)
    return workflow, diagnostics
