"""Runs a list of steps in order, reporting each and handing every finished step to a callback."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from prodigy.core.interpolation import interpolate
from prodigy.core.progress import StepFinished, StepSkipped, StepStarted
from prodigy.core.shellsafe import UnsafeSubstitutionError, interpolate_shell, shown
from prodigy.core.variables import Scope
from prodigy.core.workflow import ClaudeAction, ShellAction, Step
from prodigy.runtime import git
from prodigy.runtime.git_context import with_git_changes
from prodigy.runtime.steps.actions import step_label
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome, run_step

StepDone = Callable[[int, Step, StepOutcome], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SequenceResult:
    """How a sequence ended: all done, or the index and outcome of the step that stopped it."""

    scope: Scope
    failed_index: int | None = None
    failed: StepOutcome | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None


def shown_command(step: Step, scope: Scope) -> str:
    """The step's command for display: a shell step exactly as bash gets it (references to
    its values, then the values); a prompt interpolated, as the agent gets it."""
    action = step.action
    if isinstance(action, ShellAction):
        try:
            trusted = step.shell_trusted_vars
            return f"shell: {shown(interpolate_shell(action.command, scope, trusted=trusted))}"
        except UnsafeSubstitutionError:
            return f"shell: {action.command}"  # the step itself fails and says why
    if isinstance(action, ClaudeAction):
        return f"claude: {interpolate(action.prompt, scope)}"
    return step_label(step)


async def run_sequence(
    steps: Sequence[Step],
    scope: Scope,
    ctx: StepContext,
    *,
    start: int = 0,
    on_done: StepDone | None = None,
) -> SequenceResult:
    """Run steps[start:] in order; stop at the first step whose failure nothing tolerates."""
    total = len(steps)
    for index in range(start, total):
        step = steps[index]
        label = step_label(step)
        ctx.reporter.emit(
            StepStarted(
                index=index,
                total=total,
                label=label,
                command=ctx.masker.text(shown_command(step, scope)),
            )
        )
        began = time.monotonic()
        before = await git.head_sha(ctx.worktree) if ctx.git_variables else None
        outcome = await run_step(step, scope, ctx, index=index)
        if before is not None:
            changed = await with_git_changes(outcome.scope, ctx.worktree, before)
            outcome = replace(outcome, scope=changed)
        scope = outcome.scope
        result = outcome.result
        if result.skipped:
            ctx.reporter.emit(StepSkipped(index=index, label=label, reason=result.error))
        else:
            detail = "" if result.success else ctx.masker.text(result.error)
            shown = result.log_path and result.log_path not in detail
            if shown and (not result.success or isinstance(step.action, ClaudeAction)):
                detail = f"{detail}; log {result.log_path}" if detail else f"log {result.log_path}"
            ctx.reporter.emit(
                StepFinished(
                    index=index,
                    label=label,
                    success=result.success,
                    duration=time.monotonic() - began,
                    detail=detail,
                )
            )
        if on_done is not None:
            await on_done(index, step, outcome)
        if outcome.fatal:
            return SequenceResult(scope, index, outcome)
    return SequenceResult(scope)
