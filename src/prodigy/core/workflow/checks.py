"""Static checks on a loaded workflow that need more than one field: expression syntax."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType

from prodigy.core.errors import UsageError
from prodigy.core.workflow.diagnostics import Diagnostic, DiagnosticCollector
from prodigy.core.workflow.model import Workflow
from prodigy.core.workflow.step_model import ForeachAction, SourceLocation, Step


def walk_steps(steps: tuple[Step, ...]) -> Iterator[Step]:
    """Every step, including handlers, validation commands and foreach bodies, depth first."""
    for step in steps:
        yield step
        nested: list[Step] = []
        if step.on_success is not None:
            nested.append(step.on_success)
        if step.on_failure is not None:
            nested.extend(step.on_failure.handlers)
        nested.extend(step.on_exit_code.values())
        if step.validate is not None:
            nested.extend(step.validate.commands)
            if step.validate.on_incomplete is not None:
                nested.extend(step.validate.on_incomplete.handlers)
        if isinstance(step.action, ForeachAction):
            nested.extend(step.action.do)
        yield from walk_steps(tuple(nested))


def all_steps(workflow: Workflow) -> Iterator[Step]:
    yield from walk_steps(workflow.steps)
    if workflow.setup is not None:
        yield from walk_steps(workflow.setup.steps)
    if workflow.map is not None:
        yield from walk_steps(workflow.map.agent_template)
    yield from walk_steps(workflow.reduce)
    if workflow.merge is not None:
        yield from walk_steps(workflow.merge.steps)


def _module(name: str) -> ModuleType | None:
    # the expression language is its own module; check syntax only when it is present
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def check_expressions(workflow: Workflow, reporter: DiagnosticCollector) -> None:
    expressions = _module("prodigy.core.expr")
    sorting = _module("prodigy.core.expr.sort")
    parse: Callable[[str], object] | None = getattr(expressions, "parse", None)
    parse_sort: Callable[[str], object] | None = getattr(sorting, "parse_sort_keys", None)
    if parse is not None:
        for step in all_steps(workflow):
            if step.when is not None:
                _try(parse, step.when, step.location, "when", reporter)
        if workflow.map is not None and workflow.map.filter is not None:
            _try(parse, workflow.map.filter, workflow.map.location, "filter", reporter)
    if parse_sort is not None and workflow.map is not None and workflow.map.sort_by is not None:
        _try(parse_sort, workflow.map.sort_by, workflow.map.location, "sort_by", reporter)


def _try(
    parse: Callable[[str], object],
    text: str,
    where: SourceLocation,
    key: str,
    reporter: DiagnosticCollector,
) -> None:
    try:
        parse(text)
    except UsageError as exc:
        path = f"{where.yaml_path}.{key}" if where.yaml_path else key
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reporter.add(
            Diagnostic(
                file=where.file,
                line=where.line,
                column=where.column,
                yaml_path=path,
                message=f"{reason}: {text!r}",
            )
        )
