"""Running a workflow's sub-workflows in the session worktree, before its own commands.

Each child gets a scope of its own: the environment, its own `env:`, and the `inputs` the
parent passes (strings are interpolated against the parent's variables). When it ends,
each name in `outputs` comes back to the parent as `${<sub-workflow>.<output>}`: a variable
the child set (a capture) or a `NAME=VALUE` line it wrote to the file `$PRODIGY_OUTPUT`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from prodigy.app.session.environment import initial_scope, workflow_env
from prodigy.app.session.workflow_env import resolve_environment
from prodigy.app.templates.registry import template_dirs
from prodigy.core.errors import ProdigyError
from prodigy.core.interpolation import interpolate
from prodigy.core.progress import Note
from prodigy.core.results import StepResult
from prodigy.core.sub_workflow_plan import (
    PlannedSub,
    output_file_values,
    plan_sub_workflows,
    run_groups,
)
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import Workflow
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome
from prodigy.runtime.steps.sequence import SequenceResult, run_sequence

# SequenceResult.failed_index when a sub-workflow, not one of the parent's steps, failed
SUB_WORKFLOW_FAILED = -1


@dataclass(frozen=True, slots=True)
class _Finished:
    outputs: dict[str, JsonValue]
    failure: StepResult | None = None


async def run_sub_workflows(workflow: Workflow, scope: Scope, ctx: StepContext) -> SequenceResult:
    """Run `workflow`'s sub-workflows; the scope gains their outputs.

    A failure that `continue_on_error` does not tolerate comes back with failed_index
    SUB_WORKFLOW_FAILED and the reason in its result's error.
    """
    return await _run_all(plan_sub_workflows(workflow, template_dirs(ctx.env)), scope, ctx)


async def _run_all(
    planned: tuple[PlannedSub, ...], scope: Scope, ctx: StepContext
) -> SequenceResult:
    for group in run_groups(planned):
        finished = await asyncio.gather(*(_run_one(sub, scope, ctx) for sub in group))
        for sub, done in zip(group, finished, strict=True):
            if done.failure is None:
                scope = scope.with_values(done.outputs)
            elif sub.spec.continue_on_error:
                ctx.reporter.emit(
                    Note("warn", f"{done.failure.error} (continue_on_error: going on)")
                )
            else:
                outcome = StepOutcome(done.failure, scope, fatal=True)
                return SequenceResult(scope, SUB_WORKFLOW_FAILED, outcome)
    return SequenceResult(scope)


async def _run_one(sub: PlannedSub, parent: Scope, ctx: StepContext) -> _Finished:
    ctx.reporter.emit(Note("info", f"Running {sub.where}"))
    handle, output_name = tempfile.mkstemp(prefix="prodigy-output-", suffix=".env")
    os.close(handle)
    output_file = Path(output_name)
    try:
        child_ctx, scope = await _prepare(sub, parent, ctx, output_file)
        async with asyncio.timeout(sub.spec.timeout):
            nested = await _run_all(sub.children, scope, child_ctx)
            done = nested
            if nested.ok:
                done = await run_sequence(sub.workflow.steps, nested.scope, child_ctx)
    except TimeoutError:
        return _failed(sub, f"timed out after {sub.spec.timeout:g} s (timeout)")
    except ProdigyError as exc:
        return _failed(sub, str(exc))
    finally:
        written = output_file.read_text(encoding="utf-8") if output_file.exists() else ""
        output_file.unlink(missing_ok=True)
    if done.failed is not None:
        index = done.failed_index
        step = "" if index is None or index < 0 else f"step {index + 1}: "
        return _failed(sub, f"{step}{done.failed.result.error or 'failed'}", done.failed.result)
    return _outputs(sub, done.scope, output_file_values(written), ctx)


async def _prepare(
    sub: PlannedSub, parent: Scope, ctx: StepContext, output_file: Path
) -> tuple[StepContext, Scope]:
    """The child's context (working_dir, its env, $PRODIGY_OUTPUT) and starting scope."""
    worktree = ctx.worktree
    if sub.spec.working_dir:
        worktree = ctx.inside(interpolate(sub.spec.working_dir, parent))
        if not worktree.is_dir():
            raise ProdigyError(f"working_dir {sub.spec.working_dir!r} is not a directory")
    environment = await resolve_environment(
        sub.workflow,
        process_env=ctx.env,
        base_dir=worktree,
        profile=None,
        reporter=ctx.reporter,
    )
    child = environment.workflow
    scope = initial_scope(child, args=(), process_env=ctx.env)
    inputs = {
        name: interpolate(value, parent) if isinstance(value, str) else value
        for name, value in sub.spec.inputs.items()
    }
    scope = scope.with_values(inputs)
    env = environment.apply({**ctx.env, **workflow_env(child, scope)})
    env["PRODIGY_OUTPUT"] = str(output_file)
    ctx.masker.add(environment.masked)  # shared with the store: its writes mask them too
    child_ctx = replace(ctx, worktree=worktree, env=env)
    return child_ctx, scope


def _outputs(sub: PlannedSub, scope: Scope, written: dict[str, str], ctx: StepContext) -> _Finished:
    values: dict[str, JsonValue] = {}
    for name in sub.spec.outputs:
        if name in scope:
            values[f"{sub.name}.{name}"] = scope[name]
        elif name in written:
            values[f"{sub.name}.{name}"] = written[name]
        else:
            return _failed(
                sub,
                f"output '{name}' was not set: capture it in a step (`capture: {name}`) "
                f'or write it from a shell step (`echo "{name}=VALUE" >> "$PRODIGY_OUTPUT"`)',
            )
    shown = ", ".join(f"${{{key}}}" for key in values)
    ctx.reporter.emit(
        Note("success", f"{sub.where} completed" + (f"; outputs {shown}" if shown else ""))
    )
    return _Finished(values)


def _failed(sub: PlannedSub, reason: str, result: StepResult | None = None) -> _Finished:
    error = f"{sub.where} failed: {reason}"
    if result is None:
        return _Finished({}, StepResult(success=False, exit_code=-1, error=error))
    return _Finished({}, replace(result, success=False, error=error))


__all__ = ["SUB_WORKFLOW_FAILED", "run_sub_workflows"]
