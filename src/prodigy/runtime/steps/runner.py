"""One step with its options: when, env, capture, on_failure, commit_required, on_success ..."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, replace

from prodigy.core.capture import captured_variables
from prodigy.core.clock import utc_now
from prodigy.core.env_resolution import env_form, is_secret_entry
from prodigy.core.errors import StepFailedError
from prodigy.core.expr import evaluate_when
from prodigy.core.interpolation import interpolate
from prodigy.core.results import StepResult
from prodigy.core.usage import total_usage
from prodigy.core.variables import JsonValue, Scope, error_values
from prodigy.core.workflow import ForeachAction, GoalSeekAction, OnFailure, Step
from prodigy.runtime import git
from prodigy.runtime.steps.actions import action_kind, run_action, step_label
from prodigy.runtime.steps.checks import check_step
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.foreach import run_foreach
from prodigy.runtime.steps.goal_seek import run_goal_seek
from prodigy.runtime.steps.retrying import run_retrying
from prodigy.runtime.steps.tally import nested, step_tally
from prodigy.runtime.steps.validation import RunStep, validate


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """A finished step: its result, the variables after it, and whether it stops the run."""

    result: StepResult
    scope: Scope
    fatal: bool  # failed and nothing tolerates the failure

    @property
    def skipped(self) -> bool:
        return self.result.skipped


async def run_step(step: Step, scope: Scope, ctx: StepContext, *, index: int) -> StepOutcome:
    """Run one step with every option it carries; failures come back in the outcome.

    A step that cannot even run (a path leaving the worktree, an unsafe value, a bad
    capture) is a failed step like any other, so the session records it and can resume.
    Its result's usage is that of every agent call it made (retries, handlers, validation).
    """
    if nested():  # run on another step's behalf: its usage is that step's
        return await _guarded(step, scope, ctx, index=index)
    with step_tally() as tally:
        outcome = await _guarded(step, scope, ctx, index=index)
    if not tally:
        return outcome
    return replace(outcome, result=replace(outcome.result, usage=total_usage(tally)))


async def _guarded(step: Step, scope: Scope, ctx: StepContext, *, index: int) -> StepOutcome:
    try:
        return await _run_step(step, scope, ctx, index=index)
    except StepFailedError as exc:
        failed = StepResult(success=False, exit_code=-1, error=str(exc))
        return StepOutcome(failed, scope, fatal=True)


async def _run_step(step: Step, scope: Scope, ctx: StepContext, *, index: int) -> StepOutcome:
    if step.when is not None and not evaluate_when(step.when, scope):
        skipped = StepResult(success=True, exit_code=0, skipped=True, error=f"when: {step.when}")
        return StepOutcome(skipped, scope, fatal=False)
    watch = step.commit_required or step.auto_commit
    head_before = await git.head_sha(ctx.worktree) if watch else None
    result, scope, fatal = await _run_with_handlers(step, scope, ctx, index=index)
    if result.success:
        try:
            scope = scope.with_values(captured_variables(step, action_kind(step), result))
        except StepFailedError as exc:
            return StepOutcome(result.failed(str(exc)), scope, fatal=True)
    if step.output_file and not result.output_saved:
        target = ctx.inside(interpolate(step.output_file, scope))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.stdout, encoding="utf-8")
    if result.success and head_before is not None:
        result = await _check_commit(step, result, ctx, head_before)
        if not result.success:
            return StepOutcome(result, scope, fatal=True)
    if result.success and step.validate is not None and not step.skip_validation:
        checked = await validate(step.validate, scope, ctx, _runner(index), label=step_label(step))
        scope = checked.scope
        if checked.error is not None:
            return StepOutcome(result.failed(checked.error), scope, fatal=True)
    if result.success and step.step_validate is not None and not step.skip_validation:
        problem = await check_step(step, step.step_validate, scope, ctx, _runner(index))
        if problem is not None:
            return StepOutcome(replace(result.failed(problem), exit_code=1), scope, fatal=True)
    follow_ups = []
    if result.success and step.on_success is not None:
        follow_ups.append(step.on_success)
    if result.exit_code in step.on_exit_code:
        follow_ups.append(step.on_exit_code[result.exit_code])
    for follow in follow_ups:
        extra = await run_step(follow, scope, ctx, index=index)
        scope = extra.scope
        if extra.fatal:
            label = step_label(follow)
            return StepOutcome(result.failed(f"{label} failed: {extra.result.error}"), scope, True)
    return StepOutcome(result, scope, fatal=fatal and not result.success)


def _act(
    step: Step, scope: Scope, ctx: StepContext, *, index: int, env: Mapping[str, str]
) -> Awaitable[StepResult]:
    """One run of the step's action; kinds that run steps of their own get the runner."""
    if isinstance(step.action, ForeachAction):
        return run_foreach(step.action, step, scope, ctx, _runner(index), index=index, env=env)
    if isinstance(step.action, GoalSeekAction):
        return run_goal_seek(step.action, step, scope, ctx, _runner(index))
    return run_action(step, scope, ctx, index=index, env=env)


def _runner(index: int) -> RunStep:
    """run_step for steps run on this step's behalf (validators, their handlers)."""

    async def run(step: Step, scope: Scope, ctx: StepContext) -> StepOutcome:
        return await run_step(step, scope, ctx, index=index)

    return run


def step_env(step: Step, scope: Scope, ctx: StepContext) -> dict[str, str]:
    """The child environment: the run's base env plus the step's own `env:` (interpolated).

    A step's own secrets follow the workflow env's rules: `{secret: true, value}` and names
    like API_KEY or DB_PASSWORD are masked in everything stored, logged or printed.
    """
    env = dict(ctx.env)
    for name, value in step.env.items():
        if isinstance(value, str):
            text = interpolate(value, scope)
        elif env_form(value) == "secret":
            text = interpolate(str(value.get("value", "")), scope)
        else:
            raise StepFailedError(
                f"{step.location}: env {name}: only plain strings and {{secret: true, value}}"
                " here (dynamic and conditional values belong in the workflow's `env:`)"
            )
        if is_secret_entry(name, value):
            ctx.masker.add([text])  # shared with the store, the logs and the terminal
        env[name] = text
    return env


def attempts_allowed(on_failure: OnFailure | None, *, deprecated_test: bool) -> int:
    """Runs of the original step in total. Handlers run between runs, never after the last."""
    if on_failure is None:
        return 1
    if on_failure.max_attempts is not None:
        return max(1, on_failure.max_attempts)
    if on_failure.retry_original:
        return 2
    return 3 if deprecated_test else 1


async def _run_with_handlers(
    step: Step, scope: Scope, ctx: StepContext, *, index: int
) -> tuple[StepResult, Scope, bool]:
    """Run the action; on failure run on_failure handlers and retry as the handler asks."""
    policy = step.on_failure
    total = attempts_allowed(policy, deprecated_test=step.deprecated_test)
    kind = action_kind(step)
    env = step_env(step, scope, ctx)
    attempt = 1
    while True:
        # The step's own env shadows workflow variables of the same name in `${NAME}` too.
        own = scope.with_values({name: env[name] for name in step.env})
        result = await run_retrying(
            step.retry,
            lambda: _act(step, own, ctx, index=index, env=env),  # noqa: B023 - awaited now
            ctx,
            label=step_label(step),
        )
        scope = scope.with_values(_attempt_values(kind, result, attempt))
        if result.success or policy is None or result.error_kind == "quota":
            # a usage limit is the account's, not the step's: no handler can repair it;
            # the run waits or pauses for it (docs/budgets-and-quotas.md)
            return result, scope, not result.success
        if attempt >= total > 1:
            break  # retries exhausted: handlers only run between attempts
        handled, scope = await _run_handlers(step, policy, result, scope, ctx, index=index)
        if not handled:
            return (
                result.failed(f"{result.error}; on_failure handler failed"),
                scope,
                (policy.fail_workflow or policy.handler_failure_fatal or total > 1),
            )
        if total > 1:
            attempt += 1
            env = {**env, "TEST_ATTEMPT": str(attempt)}
            continue
        if policy.handlers and policy.strategy == "recovery":
            return result.recovered("\n--- recovered by on_failure ---\n"), scope, False
        break
    if total > 1:
        result = result.failed(f"{result.error}; failed after {attempt} attempts")
    return result, scope, policy.fail_workflow


def _attempt_values(kind: str, result: StepResult, attempt: int) -> dict[str, JsonValue]:
    """What handlers and later steps see of the latest run (`test.*` are prodigy's aliases)."""
    values: dict[str, JsonValue] = {}
    for family in {kind, "test"}:
        values[f"{family}.output"] = result.stdout
        values[f"{family}.exit_code"] = result.exit_code
        values[f"{family}.attempt"] = attempt
    return values


async def _run_handlers(
    step: Step,
    policy: OnFailure,
    failed: StepResult,
    scope: Scope,
    ctx: StepContext,
    *,
    index: int,
) -> tuple[bool, Scope]:
    """Run the handler steps in order; False if one failed without continue_on_error."""
    handler_scope = scope.with_values(
        error_values(
            message=(failed.stderr or failed.error)[-4000:],
            exit_code=failed.exit_code,
            step=step_label(step),
            timestamp=utc_now().isoformat(timespec="seconds"),
        )
    )
    for written in policy.handlers:
        handler = written
        if policy.timeout and written.timeout is None:
            handler = replace(written, timeout=policy.timeout)
        outcome = await run_step(handler, handler_scope, ctx, index=index)
        handler_scope = outcome.scope
        if not outcome.result.success and not handler.continue_on_error:
            return False, _without_error(handler_scope, scope)
    return True, _without_error(handler_scope, scope)


def _without_error(after: Scope, before: Scope) -> Scope:
    """Handler variables stay visible, but `${error.*}` ends with the handler.

    See on_failure in docs/running.md."""
    kept: Mapping[str, JsonValue] = {k: v for k, v in after.items() if k != "error"}
    if "error" in before:
        kept = {**kept, "error": before["error"]}
    return Scope(kept)


def commit_validation_off(env: Mapping[str, str]) -> bool:
    """`PRODIGY_NO_COMMIT_VALIDATION=true` (prodigy's switch): commit_required steps pass
    without a new commit."""
    return env.get("PRODIGY_NO_COMMIT_VALIDATION", "").strip().lower() == "true"


async def _check_commit(
    step: Step, result: StepResult, ctx: StepContext, head_before: str
) -> StepResult:
    """auto_commit commits what a step left uncommitted; commit_required needs a new commit."""
    moved = await git.head_sha(ctx.worktree) != head_before
    if step.auto_commit and await git.is_dirty(ctx.worktree):
        message = f"Auto-commit: {step_label(step)}"
        if step.commit_config and step.commit_config.message_template:
            message = step.commit_config.message_template.replace("${step.name}", step_label(step))
        await git.git(ctx.worktree, "add", "-A")
        await git.git(ctx.worktree, "commit", "-q", "-m", message)
        return result
    if moved or not step.commit_required:
        return result
    if commit_validation_off(ctx.env):  # the run said so once when it started
        return result
    return result.failed(
        f"Step '{step_label(step)}' has commit_required=true but no commits were created"
    )
