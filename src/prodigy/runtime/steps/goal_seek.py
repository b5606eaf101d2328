"""The goal_seek loop: run the attempt, score it with the validator, repeat below threshold.

Each attempt sees the previous score as `${validation.completion}`, `${validation.status}`
and the validator's output as `${validation.output}`, so it can work on what is missing.
"""

from __future__ import annotations

import time
from dataclasses import replace

from prodigy.core.goal_seek import GoalSeek, parse_goal_seek, score_of
from prodigy.core.progress import Note
from prodigy.core.results import StepResult
from prodigy.core.validation import Completion, validation_values
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import ClaudeAction, GoalSeekAction, ShellAction, Step
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.validation import RunStep


async def run_goal_seek(
    action: GoalSeekAction, step: Step, scope: Scope, ctx: StepContext, run: RunStep
) -> StepResult:
    spec = parse_goal_seek(action.config, str(step.location))
    started = time.monotonic()
    best = 0.0
    attempts = 0
    for number in range(1, spec.max_attempts + 1):
        left = _time_left(spec, started)
        if left is not None and left <= 0:
            break
        attempts = number
        scope = scope.with_values({"goal_seek": {"goal": spec.goal, "attempt": number}})
        work = await run(_step(spec.kind, spec.command, step, left), scope, ctx)
        scope = work.scope
        if not work.result.success:
            _note(ctx, "warn", f"goal_seek attempt {number} failed: {work.result.error}")
            continue
        validating = replace(ctx, env={**ctx.env, "PRODIGY_VALIDATION": "true"})
        checker = _step(spec.validate_kind, spec.validate, step, _time_left(spec, started))
        checked = await run(checker, scope, validating)
        scope = checked.scope
        output = checked.result.stdout
        score = score_of(output) if checked.result.success else None
        best = max(best, score or 0.0)
        scope = scope.with_values(_values(score, spec.threshold, output))
        if score is not None and score >= spec.threshold:
            text = (
                f"Goal achieved: {spec.goal} (score {score:g} >= {spec.threshold:g}) "
                f"after {number} attempt(s)"
            )
            _note(ctx, "success", text)
            return StepResult(success=True, exit_code=0, stdout=text + "\n")
        shown = "no score" if score is None else f"score {score:g}"
        _note(ctx, "info", f"goal_seek attempt {number}/{spec.max_attempts}: {shown}")
    text = (
        f"Goal not reached: {spec.goal} (best score {best:g} < {spec.threshold:g} "
        f"after {attempts} attempt(s))"
    )
    if spec.fail_on_incomplete:
        return StepResult(success=False, exit_code=1, stdout=text + "\n", error=text)
    _note(ctx, "warn", text)
    return StepResult(success=True, exit_code=0, stdout=text + "\n")


def _time_left(spec: GoalSeek, started: float) -> float | None:
    return None if spec.timeout is None else spec.timeout - (time.monotonic() - started)


def _step(kind: str, command: str, parent: Step, timeout: float | None) -> Step:
    action = ClaudeAction(prompt=command) if kind == "claude" else ShellAction(command=command)
    seconds = None if timeout is None else max(1, int(timeout))
    return Step(action=action, location=parent.location, timeout=seconds)


def _values(score: float | None, threshold: float, output: str) -> dict[str, JsonValue]:
    completion = Completion(
        completion=score or 0.0,
        status="failed" if score is None else ("complete" if score >= threshold else "incomplete"),
    )
    values = validation_values(completion)
    details = values["validation"]
    assert isinstance(details, dict)
    return {"validation": {**details, "output": output}}


def _note(ctx: StepContext, level: str, text: str) -> None:
    ctx.reporter.emit(Note(level, ctx.masker.text(text)))  # type: ignore[arg-type]
