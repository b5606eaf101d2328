"""`validate:` after a successful step: run the validator, read its report, and loop through
`on_incomplete` until the threshold is met or the attempts are used up (docs/validation.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from prodigy.core.interpolation import interpolate
from prodigy.core.progress import Note
from prodigy.core.validation import (
    Completion,
    check_schema,
    document_of,
    failed,
    parse_report,
    validation_values,
)
from prodigy.core.variables import Scope
from prodigy.core.workflow import Step, Validation
from prodigy.runtime.steps.context import StepContext

if TYPE_CHECKING:  # step_runner calls into this module; the runner is handed in
    from prodigy.runtime.steps.runner import StepOutcome

RunStep = Callable[[Step, Scope, StepContext], Awaitable["StepOutcome"]]


@dataclass(frozen=True, slots=True)
class Validated:
    """How validation ended: the variables after it and, if it fails the step, why."""

    scope: Scope
    error: str | None = None


async def validate(
    spec: Validation, scope: Scope, ctx: StepContext, run: RunStep, *, label: str
) -> Validated:
    """Validate, then run on_incomplete handlers and re-validate while incomplete.

    Without `on_incomplete`, an incomplete result fails the step (the manual's flow); with
    `fail_workflow: false` it is only reported.
    """
    completion, scope = await _validate_once(spec, scope, ctx, run)
    handler = spec.on_incomplete
    attempts = 0
    while not completion.passes(spec.threshold) and handler and attempts < handler.max_attempts:
        attempts += 1
        _note(
            ctx,
            "warn",
            f"{label}: {_describe(completion, spec.threshold)}; on_incomplete "
            f"attempt {attempts}/{handler.max_attempts}",
        )
        if not handler.handlers:
            return Validated(scope, "validation incomplete and on_incomplete has no commands")
        handled, scope = await _run_handlers(
            handler.handlers, handler.commit_required, scope, ctx, run
        )
        if not handled:
            break
        completion, scope = await _validate_once(spec, scope, ctx, run)
    if completion.passes(spec.threshold):
        _note(ctx, "success", f"Validation passed: {_describe(completion, spec.threshold)}")
        return Validated(scope)
    if handler is not None and not handler.fail_workflow:
        _note(ctx, "warn", f"Validation incomplete: {_describe(completion, spec.threshold)}")
        return Validated(scope)
    if handler is None:
        return Validated(scope, f"Validation incomplete: {_describe(completion, spec.threshold)}")
    return Validated(
        scope,
        f"Validation failed after {attempts} attempts. Completion: {completion.completion:.1f}%"
        + (f" ({completion.problem})" if completion.problem else ""),
    )


async def _validate_once(
    spec: Validation, scope: Scope, ctx: StepContext, run: RunStep
) -> tuple[Completion, Scope]:
    if not spec.commands:
        completion = failed("No validation command specified")
        return completion, scope.with_values(validation_values(completion))
    validating = replace(ctx, env={**ctx.env, "PRODIGY_VALIDATION": "true"})
    stdout = ""
    for number, written in enumerate(spec.commands, start=1):
        command = written
        if spec.timeout and written.timeout is None:
            command = replace(written, timeout=spec.timeout)
        outcome = await run(command, scope, validating)
        scope = outcome.scope
        result = outcome.result
        if not result.success:
            reason = f"Validation step {number} failed: {result.error or result.tail(3)}"
            completion = failed(reason)
            return completion, scope.with_values(validation_values(completion))
        stdout = result.stdout
    source = "validation output"
    if spec.result_file:
        path = ctx.inside(interpolate(spec.result_file, scope))
        source = f"result_file {spec.result_file}"
        try:
            stdout = path.read_text(encoding="utf-8")
        except OSError as exc:
            completion = failed(f"cannot read {source}: {exc.strerror}")
            return completion, scope.with_values(validation_values(completion))
    completion = parse_report(stdout, source=source)
    completion = check_schema(completion, document_of(stdout), spec.expected_schema)
    return completion, scope.with_values(validation_values(completion))


async def _run_handlers(
    handlers: tuple[Step, ...], commit_required: bool, scope: Scope, ctx: StepContext, run: RunStep
) -> tuple[bool, Scope]:
    for written in handlers:
        handler = written
        if commit_required and len(handlers) == 1 and not written.commit_required:
            handler = replace(written, commit_required=True)
        outcome = await run(handler, scope, ctx)
        scope = outcome.scope
        if outcome.fatal or not outcome.result.success:
            return False, scope
    return True, scope


def _describe(completion: Completion, threshold: float) -> str:
    text = f"{completion.completion:.1f}% complete (threshold: {threshold:.1f}%)"
    if completion.problem:
        return f"{text}: {completion.problem}"
    if completion.missing:
        return f"{text}; missing: {', '.join(completion.missing[:5])}"
    return text


def _note(ctx: StepContext, level: str, text: str) -> None:
    ctx.reporter.emit(Note(level, ctx.masker.text(text)))  # type: ignore[arg-type]
