"""`prodigy run` of a MapReduce workflow: setup, map with parallel agents, reduce, merge back.

Exit codes: 0 when the job completed, even with failed items (they are counted in the
summary and kept in the DLQ: `on_item_failure: dlq` and `skip` accept failures); 1 when a
phase failed (setup, input, reduce) or the error policy stopped the job (`stop`,
`continue_on_failure: false`, `max_failures`, `failure_threshold`); 2 for a bad setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.mapreduce.inputs import load_items
from prodigy.app.mapreduce.items import MapJob
from prodigy.app.mapreduce.map_phase import MapRunner, MapSummary
from prodigy.app.mapreduce.phase_quota import answer_quota
from prodigy.app.mapreduce.phases import reduce_phase, setup_phase, with_env
from prodigy.app.mapreduce.plan import map_config
from prodigy.app.mapreduce.ray_runner import (
    RayChoice,
    RayRunner,
    check_ray,
    ray_choice,
    refuse_ray_budget,
)
from prodigy.app.session.execute import merge_back, report_usage
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.paused import end_paused
from prodigy.app.session.setup import SessionSetup
from prodigy.app.spending import JobSpending, job_spending
from prodigy.core import event_payloads as ev
from prodigy.core.budget import amounts_text, spend_of
from prodigy.core.clock import timestamp, utc_now
from prodigy.core.errors import (
    EXIT_FAILED,
    BudgetSpentError,
    InterruptedRunError,
    ProdigyError,
)
from prodigy.core.mapreduce.job_plan import MapLimits, item_id, new_job_id, timed_template
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.core.pause import BUDGET, Pause
from prodigy.core.progress import Note, Reporter, SessionStarted
from prodigy.core.quota import QuotaReachedError
from prodigy.core.records import ItemState, JobPhase, RunStatus, repo_key
from prodigy.core.variables import JsonValue, Scope, map_values
from prodigy.runtime import git
from prodigy.runtime.executor import AgentRunner
from prodigy.runtime.map_agent import AgentSetting, AgentSpec, AgentTask, local_runner
from prodigy.runtime.merge_queue import MergeQueue
from prodigy.runtime.steps.context import StepContext


async def execute_mapreduce(
    setup: SessionSetup, reporter: Reporter, scope: Scope, read_line: ReadLine, limits: MapLimits
) -> int:
    """Run the job in the session's (parent) worktree; returns the exit code."""
    store, workflow = setup.store, setup.workflow
    job_id = new_job_id(utc_now(), secrets.token_hex(3))
    store.jobs.create(
        job_id=job_id,
        session_id=setup.session_id,
        parent_worktree=str(setup.worktree),
        parent_branch=setup.branch,
        parent_head=await git.head_sha(setup.worktree),
    )
    events = JobEvents(store, job_id, setup.session_id, reporter)
    reporter.emit(
        SessionStarted(
            session_id=setup.session_id,
            workflow=workflow.name,
            worktree=str(setup.worktree),
            branch=setup.branch,
            target_branch=setup.target,
        )
    )
    reporter.emit(Note("info", f"Executing MapReduce workflow: {workflow.name} (job {job_id})"))
    events.record(
        ev.JOB_STARTED,
        ev.job_started(job_id, map_config(workflow), limits, workflow.error_policy, timestamp()),
    )
    return await drive_job(setup, reporter, scope, read_line, limits, job_id)


@dataclass(frozen=True, slots=True)
class JobStart:
    """Where a job's phases begin: the setup phase of a new job, or a resumed job's phase."""

    phase: JobPhase = JobPhase.SETUP
    rerun: Mapping[int, int] | None = None  # map phase: only these items, from these attempts
    ramp: bool = False  # after a usage limit: start with one agent, double with each landing


def remove_empty_agents_root(setup: SessionSetup, job_id: str) -> None:
    """<worktrees>/<repo-key>/<job-id> holds the agents' worktrees; once none is left
    (every agent landed or was cleaned up) it goes, so `worktree ls` does not show each
    past job as a directory git does not know. rmdir never removes a kept worktree."""
    with contextlib.suppress(OSError):
        (setup.worktree.parent / job_id).rmdir()


async def drive_job(  # noqa: PLR0917 - the run and resume entry points share it
    setup: SessionSetup,
    reporter: Reporter,
    scope: Scope,
    read_line: ReadLine,
    limits: MapLimits,
    job_id: str,
    start: JobStart = JobStart(),
) -> int:
    """The job's phases from `start` to the end, its final status and the merge back."""
    try:
        store = setup.store
        events = JobEvents(store, job_id, setup.session_id, reporter)
        spending = job_spending(setup.workflow.budget, store, job_id)
        ctx = replace(setup.context(reporter), spend=spending)
        began = time.monotonic()
        try:
            ended = await _phases_through_quota(
                _JobRun(setup, events, limits, job_id, spending), ctx=ctx, scope=scope, start=start
            )
        except asyncio.CancelledError:
            if store.sessions.require(setup.session_id).status is RunStatus.PAUSED:
                # interrupted while waiting out a usage limit: it stays paused until the reset
                _interrupted_wait(setup, events, reporter, job_id)
            _finish(setup, job_id, RunStatus.INTERRUPTED, "interrupted")
            events.record(ev.JOB_FAILED, ev.job_failed(job_id, "interrupted", 0))
            reporter.emit(Note("warn", f"Job {job_id} interrupted; its state is kept."))
            raise InterruptedRunError(
                f"interrupted; resume with: prodigy resume {setup.session_id}"
            ) from None
        except BudgetSpentError as exc:
            report_usage(setup, reporter)
            return _budget_spent(setup, events, reporter, job_id, str(exc))
        except ProdigyError as exc:
            error = store.masker.text(str(exc))
            _finish(setup, job_id, RunStatus.FAILED, error)
            events.record(ev.JOB_FAILED, ev.job_failed(job_id, error, 0))
            raise
        report_usage(setup, reporter)
        if isinstance(ended, Pause):  # a usage limit in the setup or reduce phase
            return _pause_job(setup, events, reporter, job_id, ended, not_started=0)
        summary, scope = ended
        if summary.stop_reason is not None:
            return _stopped(setup, events, reporter, job_id, summary)
        if summary.drain_reason is not None:
            return _drained(setup, events, reporter, job_id, summary)
        _finish(setup, job_id, RunStatus.COMPLETED, None)
        usage = store.usage.for_job(job_id)
        events.record(
            ev.JOB_COMPLETED,
            ev.job_completed(
                job_id, time.monotonic() - began, summary.successful, summary.failed, usage
            ),
        )
        _summary_table(reporter, summary)
        reporter.emit(Note("success", f"MapReduce job {job_id} completed"))
        return await merge_back(setup, ctx, scope, reporter, read_line)
    finally:
        remove_empty_agents_root(setup, job_id)


@dataclass(frozen=True, slots=True)
class _JobRun:
    """What every phase of one run of a job works with."""

    setup: SessionSetup
    events: JobEvents
    limits: MapLimits
    job_id: str
    spending: JobSpending | None = None


async def _phases_through_quota(
    run: _JobRun, *, ctx: StepContext, scope: Scope, start: JobStart
) -> tuple[MapSummary, Scope] | Pause:
    """The phases, with the setup or reduce step that hits a usage limit waited out and run
    again (from the phase's checkpoint), or the pause the job ends with (phase_quota.py)."""
    hits_in_row = 0
    while True:
        try:
            return await _phases(run, ctx=ctx, scope=scope, start=start)
        except QuotaReachedError as reached:
            hits_in_row += 1
            reporter = ctx.reporter
            pause = await answer_quota(
                run.setup, run.events, reporter, run.job_id, reached, hits_in_row
            )
            if pause is not None:
                return pause
            start = JobStart(run.setup.store.jobs.require(run.job_id).phase)


async def _phases(
    run: _JobRun, *, ctx: StepContext, scope: Scope, start: JobStart
) -> tuple[MapSummary, Scope]:
    """setup -> items -> map -> reduce from `start`; returns the map summary and final scope."""
    setup, events, job_id = run.setup, run.events, run.job_id
    store, workflow = setup.store, setup.workflow
    if start.phase is JobPhase.SETUP:
        if workflow.setup is not None and workflow.setup.steps:
            scope, ctx = await setup_phase(setup, ctx, events, scope, job_id)
        items = await load_items(map_config(workflow), scope, ctx)
        store.items.add(job_id, [(item_id(i), item) for i, item in enumerate(items)])
        store.jobs.set_phase(job_id, JobPhase.MAP)
    else:  # resumed after setup: its captures come from the job record
        # with their real values: the stored text has `***` for secrets (issue 12 item 4)
        captures = store.jobs.setup_captures(job_id)
        scope, ctx = scope.with_values(captures), with_env(ctx, captures)
        items = store.items.data_of(job_id)
    if start.phase in {JobPhase.SETUP, JobPhase.MAP}:
        summary = await _map(run, ctx, scope, items, start)
        if summary.stop_reason is not None or summary.drain_reason is not None:
            return summary, scope
        store.jobs.set_phase(job_id, JobPhase.REDUCE)
    else:
        summary = MapSummary(settled_outcomes(setup, job_id))
    scope = scope.with_values(
        map_values(
            total=len(items),
            successful=summary.successful,
            failed=summary.failed,
            results=summary.results(),
        )
    )
    if workflow.reduce and start.phase is not JobPhase.DONE:
        scope = await reduce_phase(
            setup,
            ctx,
            events=events,
            scope=scope,
            job_id=job_id,
            counts=(len(items), summary.successful, summary.failed),
        )
    store.jobs.set_phase(job_id, JobPhase.DONE)
    return summary, scope


async def _map(
    run: _JobRun,
    ctx: StepContext,
    scope: Scope,
    items: list[JsonValue],
    start: JobStart,
) -> MapSummary:
    """The map phase: every item, or on resume just `rerun` next to what had settled."""
    setup, events, limits, job_id = run.setup, run.events, run.limits, run.job_id
    rerun = start.rerun
    reporter = ctx.reporter
    todo = len(items) if rerun is None else len(rerun)
    parallel = min(limits.max_parallel, max(1, todo))
    reporter.emit(Note("info", f"Processing {todo} items with {parallel} parallel agents"))
    events.record(ev.MAP_STARTED, ev.phase(job_id, total_items=len(items), timestamp=timestamp()))
    job = map_job(
        setup,
        ctx=ctx,
        events=events,
        scope=scope,
        limits=limits,
        job_id=job_id,
        spending=run.spending,
    )
    runner = MapRunner(job, items, only=rerun)
    if start.ramp:
        runner.quota.start_ramp()
    summary = await runner.run()
    # read after the run, not before its first agent (0.65 s at 9,000 landed items); items
    # that settled before the resume are in final states nothing here changes
    settled = {} if rerun is None else settled_outcomes(setup, job_id, skip=set(rerun))
    summary.outcomes = {**settled, **summary.outcomes}
    counts = f"{summary.successful} successful, {summary.failed} failed (total: {len(items)})"
    done = Note("success" if summary.failed == 0 else "warn", f"Map phase completed: {counts}")
    reporter.emit(done)
    events.record(
        ev.MAP_COMPLETED,
        ev.phase(
            job_id, successful=summary.successful, failed=summary.failed, timestamp=timestamp()
        ),
    )
    return summary


def settled_outcomes(
    setup: SessionSetup, job_id: str, *, skip: set[int] | None = None
) -> dict[int, AgentOutcome]:
    """The recorded outcomes of items that finished for good (landed or dead-lettered)."""
    final = (ItemState.MERGED, ItemState.DEAD_LETTERED)
    return {
        record.index: AgentOutcome.from_json(record.result)
        for record in setup.store.items.find(job_id, states=final, unmasked=True)
        if isinstance(record.result, dict) and record.index not in (skip or set())
    }


def map_job(
    setup: SessionSetup,
    *,
    ctx: StepContext,
    events: JobEvents,
    scope: Scope,
    limits: MapLimits,
    job_id: str,
    spending: JobSpending | None = None,
) -> MapJob:
    def on_step(task: object, label: str, index: int, total: int) -> None:
        agent_id, item = getattr(task, "agent_id", ""), getattr(task, "item_id", "")
        events.record(
            ev.AGENT_PROGRESS,
            ev.agent_progress(job_id, agent_id, item, step=label, index=index, total=total),
            agent_id=agent_id,
        )

    choice = ray_choice(setup)
    refuse_ray_budget(choice.executor, setup.workflow.budget)  # a resume with --executor ray
    agents_root = setup.worktree.parent / job_id  # <worktrees>/<repo-key>/<job-id>
    if limits.grace_period is not None:  # timeout_config.cleanup_grace_period_secs
        ctx = replace(ctx, grace_period=limits.grace_period)
    spec = AgentSpec(
        agent=setup.agent_name,
        template=tuple(timed_template(map_config(setup.workflow).agent_template, limits)),
        variables=dict(scope.items()),
        env_names=tuple(sorted(ctx.env)),
        timeout=limits.agent_timeout,
        grace_period=limits.grace_period,
    )
    queue = MergeQueue(
        setup.worktree,
        ctx.agent,
        ctx.env,
        setup.log_dir / job_id,
        timeout=setup.config.merge_timeout,
    )
    setting = AgentSetting(
        repo=setup.repo,
        parent=setup.worktree,
        parent_head=queue.parent_head,
        agents_root=agents_root,
        ctx=ctx,
        on_step=on_step if limits.monitoring else None,
        gate=None if spending is None else (lambda task: spending.running[task.item_id]),
    )
    return MapJob(
        store=setup.store,
        events=events,
        reporter=ctx.reporter,
        job_id=job_id,
        session_id=setup.session_id,
        policy=setup.workflow.error_policy,
        max_parallel=limits.max_parallel,
        setting=setting,
        spec=spec,
        runner=_runner(setup, setting, job_id, choice),
        remote=choice.executor == "ray",
        timeout_action=limits.timeout_action,
        repo_key=repo_key(str(setup.repo)),
        dlq_capacity=setup.config.dlq.capacity,
        quota=setup.workflow.quota,
        spending=spending,
        queue=queue,
    )


def _runner(
    setup: SessionSetup, setting: AgentSetting, job_id: str, choice: RayChoice
) -> AgentRunner[AgentTask, AgentOutcome]:
    """Agents in this process, or (`--executor ray`) on the nodes of a Ray cluster."""
    if choice.executor != "ray":
        return local_runner(setting)
    check_ray(choice)
    root = setup.store.jobs.require(job_id).parent_head or ""
    return RayRunner(setup, setting, job_id, root, choice.resources or {"CPU": 1.0})


def _finish(setup: SessionSetup, job_id: str, status: RunStatus, error: str | None) -> None:
    setup.store.jobs.set_status(job_id, status, error=error)
    setup.store.sessions.set_status(setup.session_id, status, error=error)


def _stopped(
    setup: SessionSetup, events: JobEvents, reporter: Reporter, job_id: str, summary: MapSummary
) -> int:
    reason = summary.stop_reason or "stopped"
    _finish(setup, job_id, RunStatus.FAILED, f"stopped by the error policy: {reason}")
    events.record(ev.JOB_FAILED, ev.job_failed(job_id, reason, summary.successful))
    _summary_table(reporter, summary)
    reporter.emit(
        Note(
            "error",
            f"Job {job_id} stopped by the error policy: {reason}. Running agents were"
            f" cancelled; the parent worktree {setup.worktree} keeps what was merged and"
            " nothing was merged into your branch.",
        )
    )
    return EXIT_FAILED


def _drained(
    setup: SessionSetup, events: JobEvents, reporter: Reporter, job_id: str, summary: MapSummary
) -> int:
    """The map phase was drained (`MapRunner.drain`): what ran has landed, the rest waits
    for a resume. The job and its session end paused with the drain's reason (quota,
    budget), exit code 75 (a spent budget with `on_exhausted: fail`: failed, exit 1)."""
    pause = summary.pause or Pause(summary.drain_reason or "drained")
    _summary_table(reporter, summary)
    landed = (
        f"The agents that were running finished and landed in {setup.worktree};"
        f" {summary.not_started} item(s) wait for the resume."
    )
    if pause.reason == BUDGET:
        return _budget_spent(setup, events, reporter, job_id, landed, summary.not_started)
    reporter.emit(Note("info", landed))
    return _pause_job(setup, events, reporter, job_id, pause, summary.not_started)


def _pause_job(  # noqa: PLR0917 - the facts of one pause
    setup: SessionSetup,
    events: JobEvents,
    reporter: Reporter,
    job_id: str,
    pause: Pause,
    not_started: int,
) -> int:
    setup.store.jobs.set_status(job_id, RunStatus.PAUSED, error=f"paused: {pause.reason}")
    events.record(
        ev.JOB_PAUSED,
        {
            **ev.job_paused(job_id, pause.reason, pause.resume_at_text, pause.detail),
            "not_started": not_started,
        },
    )
    return end_paused(
        setup.store,
        setup.session_id,
        pause,
        reporter,
        what=f"Job {job_id}",
        command=f"prodigy resume-job {job_id}",
    )


def _interrupted_wait(
    setup: SessionSetup, events: JobEvents, reporter: Reporter, job_id: str
) -> None:
    """Ctrl-C during a usage-limit wait: the session stays paused with its resume_at,
    the job is paused too; raises InterruptedRunError (exit 130)."""
    session = setup.store.sessions.require(setup.session_id)
    setup.store.jobs.set_status(job_id, RunStatus.PAUSED, error="paused: quota")
    events.record(
        ev.JOB_PAUSED,
        ev.job_paused(job_id, session.pause_reason or "quota", session.resume_at, "interrupted"),
    )
    when = f" until {session.resume_at}" if session.resume_at else ""
    reporter.emit(Note("warn", f"Job {job_id} interrupted while waiting; it stays paused{when}."))
    raise InterruptedRunError(
        f"interrupted during the usage-limit wait; continue with: prodigy resume-job {job_id}"
        " (it waits for the rest of the reset)"
    )


def _budget_spent(  # noqa: PLR0917 - the facts of one ending
    setup: SessionSetup,
    events: JobEvents,
    reporter: Reporter,
    job_id: str,
    detail: str,
    not_started: int = 0,
) -> int:
    """The job's budget is spent: paused (exit 75), or failed with `on_exhausted: fail`."""
    budget = setup.workflow.budget
    spent = spend_of(setup.store.usage.for_job(job_id))
    what = f"budget exhausted ({amounts_text(spent, budget.job, spent=True)})"
    flag = "--max-cost-usd" if budget.job.max_cost_usd is not None else "--max-tokens"
    if budget.on_exhausted == "fail":
        error = setup.store.masker.text(f"{what}: {detail}")
        _finish(setup, job_id, RunStatus.FAILED, error)
        events.record(ev.JOB_FAILED, ev.job_failed(job_id, error, 0))
        reporter.emit(
            Note(
                "error",
                f"Job {job_id} failed: {error}\nRaise the limit and go on:"
                f" prodigy resume-job {job_id} {flag} <higher>",
            )
        )
        return EXIT_FAILED
    reporter.emit(Note("info", detail))
    pause = Pause(BUDGET, detail=what, hint=f"{flag} <higher>")
    return _pause_job(setup, events, reporter, job_id, pause, not_started)


def _summary_table(reporter: Reporter, summary: MapSummary) -> None:
    if summary.failed:
        reporter.emit(
            Note("info", f"{summary.failed} failed item(s) are in the DLQ: prodigy dlq list")
        )
