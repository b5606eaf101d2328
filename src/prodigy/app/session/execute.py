"""Running a session to its end: its steps, its status, the merge back, what to do next."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from prodigy.app.session.merge import (
    ReadLine,
    ask_to_merge,
    merge_session,
    pending_commits,
    remove_session_worktree,
)
from prodigy.app.session.merge_plan import MergePlan, SessionMergeResult
from prodigy.app.session.options import passes
from prodigy.app.session.passes import PassesResult, Position, SessionRunner
from prodigy.app.session.quota_steps import end_run_paused, run_waiting
from prodigy.app.session.setup import SessionSetup
from prodigy.app.session.state import NOT_MERGED, is_unmerged
from prodigy.app.session.sub_workflows import SUB_WORKFLOW_FAILED
from prodigy.app.spending import JobSpending
from prodigy.app.step_processes import tracked_steps
from prodigy.core.budget import amounts_text, spend_of
from prodigy.core.errors import EXIT_FAILED, GitError, InterruptedRunError
from prodigy.core.pause import BUDGET, Pause
from prodigy.core.progress import Note, Reporter, SessionStarted
from prodigy.core.records import RunStatus, UsageRecord
from prodigy.core.usage import Usage, cost_text, total_usage
from prodigy.core.variables import Scope
from prodigy.runtime import git
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.tally import step_tally

START = Position(1, 0)


async def execute_session(
    setup: SessionSetup,
    reporter: Reporter,
    scope: Scope,
    inputs: list[str],
    read_line: ReadLine,
    *,
    fresh: bool,
    start: Position = START,
) -> int:
    """Run the session's remaining steps, then merge or explain; returns the exit code."""
    ctx = setup.context(reporter)
    budget = setup.workflow.budget
    if not budget.job.unlimited:  # checked before each agent step (app/spending.py)
        ctx = replace(ctx, spend=JobSpending.for_session(budget, setup.store, setup.session_id))
    if fresh:
        reporter.emit(
            SessionStarted(
                session_id=setup.session_id,
                workflow=setup.workflow.name,
                worktree=str(setup.worktree),
                branch=setup.branch,
                target_branch=setup.target,
            )
        )
    runner = SessionRunner(setup.store, setup.session_id, setup.workflow, setup.workflow_hash, ctx)
    all_passes = passes(setup.options, inputs)
    early_stop = not inputs and setup.options.max_iterations > 1

    async def run_from(scope: Scope, start: Position) -> PassesResult:
        return await runner.run_passes(all_passes, scope, start, early_stop=early_stop)

    try:
        with tracked_steps(setup.store, setup.session_id):
            # a step stopped by a usage limit waits for the reset and runs again (or pauses)
            outcome, pause = await run_waiting(
                setup, reporter, await run_from(scope, start), run_from
            )
    except asyncio.CancelledError:
        if setup.store.sessions.require(setup.session_id).status is RunStatus.PAUSED:
            reporter.emit(Note("warn", "Interrupted during the usage-limit wait; still paused."))
            raise InterruptedRunError(
                f"interrupted; continue with: prodigy resume {setup.session_id}"
                " (it waits for the rest of the reset)"
            ) from None
        setup.store.sessions.set_status(setup.session_id, RunStatus.INTERRUPTED)
        reporter.emit(
            Note("warn", f"Session interrupted. Resume with: prodigy resume {setup.session_id}")
        )
        raise InterruptedRunError(
            f"interrupted; resume with: prodigy resume {setup.session_id}"
        ) from None
    report_usage(setup, reporter)
    if pause is not None:
        return end_run_paused(setup, reporter, pause)
    if outcome.failure is not None:
        failed = outcome.failure.failed
        if failed is not None and failed.result.error_kind == "budget":
            return _budget_spent(setup, reporter, failed.result.error)
        return _failed(setup, reporter, outcome)
    setup.store.sessions.set_status(setup.session_id, RunStatus.COMPLETED)
    reporter.emit(Note("success", "Cook session completed successfully!"))
    return await merge_back(setup, ctx, outcome.scope, reporter, read_line)


def _failed(setup: SessionSetup, reporter: Reporter, outcome: PassesResult) -> int:
    failure = outcome.failure
    assert failure is not None and failure.failed is not None and failure.failed_index is not None
    result = failure.failed.result
    masker = setup.store.masker
    error = masker.text(result.error or f"exit code {result.exit_code}")
    setup.store.sessions.set_status(setup.session_id, RunStatus.FAILED, error=error)
    where = "before its steps"  # a sub-workflow failed; the error names it
    if failure.failed_index != SUB_WORKFLOW_FAILED:
        step = setup.workflow.steps[failure.failed_index]
        where = f"at step {failure.failed_index + 1} ({step.location})"
    lines = [f"Session failed {where}: {error}"]
    tail = masker.text(result.tail())
    if tail:
        lines.append("Last output:\n" + "\n".join(f"  | {line}" for line in tail.splitlines()))
    if result.log_path:
        lines.append(f"Log: {result.log_path}")
    lines.append(f"The worktree is kept at {setup.worktree}; nothing was merged.")
    lines.append(f"Resume with: prodigy resume {setup.session_id}")
    reporter.emit(Note("error", "\n".join(lines)))
    return EXIT_FAILED


def _budget_spent(setup: SessionSetup, reporter: Reporter, detail: str) -> int:
    """The session's budget is spent before a step: paused (75), or failed (on_exhausted)."""
    budget = setup.workflow.budget
    spent = spend_of(setup.store.usage.for_session(setup.session_id))
    what = f"budget exhausted ({amounts_text(spent, budget.job, spent=True)})"
    flag = "--max-cost-usd" if budget.job.max_cost_usd is not None else "--max-tokens"
    command = f"prodigy resume {setup.session_id}"
    if budget.on_exhausted == "fail":
        error = setup.store.masker.text(f"{what}: {detail}")
        setup.store.sessions.set_status(setup.session_id, RunStatus.FAILED, error=error)
        reporter.emit(
            Note("error", f"Session failed: {error}\nRaise the limit and go on: {command} {flag}")
        )
        return EXIT_FAILED
    reporter.emit(Note("info", setup.store.masker.text(detail)))
    return end_run_paused(setup, reporter, Pause(BUDGET, detail=what, hint=f"{flag} <higher>"))


def report_usage(setup: SessionSetup, reporter: Reporter) -> None:
    usage: Usage = setup.store.usage.for_session(setup.session_id)
    if usage.total_tokens or usage.cost_usd:
        reporter.emit(
            Note(
                "info",
                f"Agent usage: {usage.input_tokens} in / {usage.output_tokens} out tokens"
                f" ({usage.cache_read_input_tokens} cache read), {cost_text(usage)},"
                f" {usage.turns} turn(s)",
            )
        )


async def merge_back(
    setup: SessionSetup, ctx: StepContext, scope: Scope, reporter: Reporter, read_line: ReadLine
) -> int:
    plan = setup.plan()
    # nothing to merge: no question to ask (merge_and_clean says so and cleans up)
    asking = not setup.options.yes and await _has_commits_to_merge(plan)
    if asking and not ask_to_merge(plan, read_line):
        reporter.emit(
            Note(
                "info", f"Kept {setup.worktree} unmerged. Merge later with: {plan.merge_command()}"
            )
        )
        return 0
    return await merge_and_clean(setup, ctx, scope, reporter)


async def _has_commits_to_merge(plan: MergePlan) -> bool:
    try:
        return await pending_commits(plan) > 0
    except GitError:  # the target is gone, say: the merge explains it
        return True


async def merge_and_clean(
    setup: SessionSetup,
    ctx: StepContext,
    scope: Scope,
    reporter: Reporter,
    *,
    default_merge: bool = False,
) -> int:
    """Merge the session into its target and remove its worktree; report either way.

    `default_merge` runs prodigy's own merge instead of the workflow's `merge:` block (the
    way out when that block does not merge). The session is `merging` until the merge
    landed or failed having changed nothing; a run stopped in between leaves it `merging`,
    and `prodigy resume` finishes the merge.
    """
    plan = setup.plan()
    custom = None if default_merge else setup.workflow.merge
    sessions = setup.store.sessions
    if sessions.require(setup.session_id).status is not RunStatus.MERGING:
        sessions.set_status(setup.session_id, RunStatus.MERGING)
    tally: list[Usage] = []
    try:
        # every agent call of the merge (Claude resolving a conflict, a merge: block's
        # steps) is one usage record, so the session's usage and budget count it
        with tracked_steps(setup.store, setup.session_id), step_tally() as tally:
            result = await merge_session(plan, ctx, scope, custom)
    except asyncio.CancelledError:
        raise await _interrupted_merge(setup, reporter) from None
    except GitError as exc:
        result = SessionMergeResult(False, str(exc))
    if tally:
        setup.store.usage.record(
            UsageRecord(session_id=setup.session_id, step_id="merge", usage=total_usage(tally))
        )
    sessions.set_status(setup.session_id, RunStatus.COMPLETED)
    if not result.merged:
        # the session stays completed, and is shown `unmerged` while this error stands
        setup.store.sessions.set_error(setup.session_id, f"{NOT_MERGED}{result.message}")
        way_out = f"Fix the cause, then run: {plan.merge_command()}"
        if result.custom_unmerged:
            way_out = (
                f"Fix the merge: block and run: {plan.merge_command()}\n"
                f"or merge with prodigy's default merge instead: "
                f"{plan.merge_command(default=True)}"
            )
        reporter.emit(
            Note(
                "error",
                f"Merge failed: {result.message}\nThe worktree is kept at {setup.worktree};"
                f" the session is unmerged.\n{way_out}",
            )
        )
        return EXIT_FAILED
    if is_unmerged(setup.store.sessions.require(setup.session_id)):
        setup.store.sessions.set_error(setup.session_id, None)
    if result.nothing_to_merge:
        reporter.emit(Note("info", f"No changes to merge: {result.message}"))
    else:
        reporter.emit(Note("success", "Worktree changes merged successfully!"))
    if setup.config.auto_cleanup:
        await remove_session_worktree(plan)
    return 0


async def _interrupted_merge(setup: SessionSetup, reporter: Reporter) -> InterruptedRunError:
    """What a stop during the merge leaves: either it landed whole, or nothing changed."""
    if await git.is_ancestor(setup.repo, setup.branch, setup.target):
        setup.store.sessions.set_status(setup.session_id, RunStatus.COMPLETED)
        reporter.emit(
            Note(
                "warn",
                f"Interrupted after the merge into {setup.target} landed; the worktree is kept"
                f" at {setup.worktree} (`prodigy worktree clean {setup.session_id}` removes it)",
            )
        )
        return InterruptedRunError("interrupted after the merge landed")
    hint = f"prodigy resume {setup.session_id}"
    reporter.emit(
        Note(
            "warn",
            f"Interrupted during the merge into {setup.target}; {setup.target} and your"
            f" checkout are unchanged. Resume with: {hint}",
        )
    )
    return InterruptedRunError(f"interrupted; resume with: {hint}")
