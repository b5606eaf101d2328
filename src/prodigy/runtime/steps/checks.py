"""`step_validate:` (docs/validation.md): checks that must pass after a step succeeded.

Each check is a shell (or claude) command with an expected exit code and, optionally, a
regex its output must match. `success_criteria` says how many must pass (all, any, at
least N); the checks are retried `max_attempts` times, `retry_delay` seconds apart.
"""

from __future__ import annotations

import asyncio
import re

from prodigy.core.progress import Note
from prodigy.core.variables import Scope
from prodigy.core.workflow import (
    CheckCommand,
    ClaudeAction,
    ShellAction,
    Step,
    StepValidation,
)
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.validation import RunStep


async def check_step(
    step: Step, spec: StepValidation, scope: Scope, ctx: StepContext, run: RunStep
) -> str | None:
    """None when the checks pass (or their failure is ignored), else why they did not."""
    problems: list[str] = []
    for attempt in range(1, max(1, spec.max_attempts) + 1):
        if attempt > 1:
            await asyncio.sleep(spec.retry_delay)
        problems = [
            problem
            for check in spec.commands
            if (problem := await _run_check(check, step, scope, ctx, run)) is not None
        ]
        passed = len(spec.commands) - len(problems)
        if _enough(spec, passed):
            return None
    why = "step_validate failed: " + "; ".join(problems[:3])
    if step.ignore_validation_failure:
        ctx.reporter.emit(Note("warn", ctx.masker.text(f"{why} (ignored)")))
        return None
    return why


def _enough(spec: StepValidation, passed: int) -> bool:
    if spec.success_criteria == "any":
        return passed >= 1 or not spec.commands
    if spec.success_criteria == "at_least":
        return passed >= (spec.at_least or 0)
    return passed == len(spec.commands)


async def _run_check(
    check: CheckCommand, step: Step, scope: Scope, ctx: StepContext, run: RunStep
) -> str | None:
    action = (
        ClaudeAction(prompt=check.command)
        if check.command_type == "claude"
        else ShellAction(command=check.command)
    )
    probe = Step(action=action, location=step.location, timeout=step.validation_timeout)
    outcome = await run(probe, scope, ctx)
    result = outcome.result
    if result.exit_code != check.expect_exit_code:
        return f"`{check.command}` exited {result.exit_code}, expected {check.expect_exit_code}"
    if check.expect_output is None:
        return None
    try:
        found = re.search(check.expect_output, result.stdout)
    except re.error as exc:
        return f"expect_output {check.expect_output!r} is not a valid regex ({exc})"
    return None if found else f"`{check.command}` output does not match {check.expect_output!r}"
