"""`prodigy dlq retry JOB`: re-run a job's eligible dead-lettered items through its agent template.

The items run in new agent worktrees started from the job's parent branch (re-opened when
the run already merged and removed it), through the same map phase and merge queue as a
run; successes are merged into the parent branch and then, for a completed session, into
the user's branch as a run does. An item leaves the DLQ only after its retry landed; one
that fails again stays, with the new attempt appended to its history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from prodigy.app.dlq import queue as use
from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.mapreduce.items import to_pending
from prodigy.app.mapreduce.job import map_job, remove_empty_agents_root
from prodigy.app.mapreduce.map_phase import MapRunner, MapSummary
from prodigy.app.mapreduce.plan import check_mapreduce
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.scratch import remove_scratch
from prodigy.app.session.environment import initial_scope
from prodigy.app.session.execute import merge_back
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.opening import reopen_as_invoked
from prodigy.app.session.setup import SessionSetup
from prodigy.app.spending import JobSpending
from prodigy.core import event_payloads as ev
from prodigy.core.budget import Budget, Limits
from prodigy.core.errors import EXIT_FAILED, InterruptedRunError, UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import DlqRecord, ItemRecord, ItemState, JobRecord, RunStatus
from prodigy.core.records import SessionRecord as Session
from prodigy.runtime import git
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.runtime.worktrees import create_worktree, remove_worktree
from prodigy.store import Store, open_store

Reopened = Literal["existing", "reopened", "recreated"]


@dataclass(frozen=True, slots=True)
class RetryRequest:
    job_id: str
    item_ids: tuple[str, ...] = ()  # empty: every eligible item of the job
    max_parallel: int | None = None  # default: the workflow's map.max_parallel
    dry_run: bool = False
    yes: bool = False
    verbosity: int = 0
    executor: str | None = None  # --executor: default the run's, then config
    ray_address: str | None = None
    # --max-cost-usd / --max-tokens: a new cap for each retried item (its retry's spend only)
    item_cap: Limits = field(default_factory=Limits)

    # the job's own budget is not changed by a retry (reopen_as_invoked reads these)
    @property
    def max_cost_usd(self) -> float | None:
        return None

    @property
    def max_tokens(self) -> int | None:
        return None


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: DlqRecord
    item: ItemRecord


async def retry_items(
    request: RetryRequest, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """Retry the chosen items; 0 when all landed, 1 when some failed again."""
    home = prodigy_home(env)
    with open_store(home) as store:
        job = store.jobs.get(request.job_id)
        if job is None:
            raise UsageError(
                f"no job {request.job_id!r}; `prodigy dlq list` shows the jobs with failed items"
            )
        session = store.sessions.require(job.session_id)
        if request.dry_run:
            return _plan(job, choose(store, request, reporter), reporter, "Would retry")
        # the session's lock first: a run or resume still writing this job refuses the retry
        with acquire_lock(
            lock_path(locks_dir(home), session.id),
            owner=f"prodigy dlq retry {job.id}",
            subject=session.id,
        ):
            chosen = choose(store, request, reporter)
            if not chosen:
                return _plan(job, chosen, reporter, "Nothing to retry")
            try:
                return await _retry_locked(
                    store, job, session, chosen, request, reporter, env, read_line
                )
            finally:
                remove_scratch(home, session.id)


def _plan(job: JobRecord, chosen: list[Candidate], reporter: Reporter, verb: str) -> int:
    reporter.emit(Note("info", f"{verb}: {len(chosen)} item(s) of {job.id}"))
    for c in chosen:
        reporter.emit(Note("info", f"  {c.entry.item_id}  {c.entry.error_signature}"))
    return 0


def choose(store: Store, request: RetryRequest, reporter: Reporter) -> list[Candidate]:
    """The DLQ items to retry: named ones (or all) that are eligible and items of the job."""
    entries = {r.item_id: r for r in store.dlq.find(job_id=request.job_id)}
    unknown = [i for i in request.item_ids if i not in entries]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown)
        raise UsageError(
            f"not in the DLQ of {request.job_id}: {shown}; `prodigy dlq list --job"
            f" {request.job_id}` lists its items"
        )
    wanted = [entries[i] for i in dict.fromkeys(request.item_ids)] or list(entries.values())
    chosen: list[Candidate] = []
    for entry in sorted(wanted, key=lambda r: r.first_attempt):
        item = store.items.get(request.job_id, entry.item_id)
        if not entry.reprocess_eligible:
            reporter.emit(
                Note("warn", f"skipping {entry.item_id!r}: not eligible (manual review first)")
            )
        elif item is None:
            reporter.emit(Note("warn", f"skipping {entry.item_id!r}: not a work item of the job"))
        else:
            chosen.append(Candidate(entry, item))
    return chosen


async def _retry_locked(  # noqa: PLR0917 - one call site
    store: Store,
    job: JobRecord,
    session: Session,
    chosen: list[Candidate],
    request: RetryRequest,
    reporter: Reporter,
    env: Mapping[str, str],
    read_line: ReadLine,
) -> int:
    landed = [c for c in chosen if c.item.state is ItemState.MERGED]
    if landed:  # a crash after the merge but before the removal: git has it, finish the job
        use.remove(store, [c.entry for c in landed], "already merged")
    chosen = [c for c in chosen if c.item.state is not ItemState.MERGED]
    if not chosen:
        reporter.emit(Note("info", "Every chosen item had already landed; removed from the DLQ"))
        return 0
    setup = await _setup(store, job, session, request, reporter, env)
    reopened = await _reopen_parent(setup, reporter)
    scope = initial_scope(setup.workflow, args=setup.options.args, process_env=env)
    setup_captures = store.jobs.setup_captures(job.id)  # real values (issue 12 item 4)
    scope = scope.with_values(setup_captures)
    limits = check_mapreduce(setup.workflow, scope, env)
    if request.max_parallel is not None:
        limits = replace(limits, max_parallel=request.max_parallel)
    captures = {k: v for k, v in setup_captures.items() if isinstance(v, str)}
    ctx = setup.context(reporter)
    ctx = replace(ctx, env={**ctx.env, **captures})
    events = JobEvents(store, job.id, session.id, reporter)
    for c in chosen:
        to_pending(store, c.item)
    reporter.emit(Note("info", f"Retrying {len(chosen)} item(s) of {job.id} from the DLQ"))
    items = [r.data for r in store.items.find(job.id, unmasked=True)]  # in index order
    only = {c.item.index: c.entry.failure_count + 1 for c in chosen}
    mapped = map_job(
        setup,
        ctx=ctx,
        events=events,
        scope=scope,
        limits=limits,
        job_id=job.id,
        spending=retry_spending(setup.workflow.budget, request.item_cap),
    )
    try:
        summary = await MapRunner(mapped, items, only=only).run()
    except asyncio.CancelledError:
        raise InterruptedRunError(
            f"interrupted; the items stay in the DLQ: run `prodigy dlq retry {job.id}` again"
        ) from None
    finally:
        remove_empty_agents_root(setup, job.id)
    succeeded = _settle(store, chosen, summary)
    failed = len(chosen) - succeeded
    events.record(
        ev.DLQ_ITEMS_REPROCESSED,
        {"job_id": job.id, "count": len(chosen), "succeeded": succeeded, "failed": failed},
    )
    text = f"DLQ retry of {job.id}: {succeeded} landed, {failed} failed again"
    reporter.emit(Note("warn", text) if failed else Note("success", text))
    if not succeeded:
        await _close_parent(setup, reopened)
    code = await _merge(setup, session, reporter, read_line, succeeded=succeeded)
    return code or (EXIT_FAILED if failed else 0)


def retry_spending(budget: Budget, cap: Limits) -> JobSpending | None:
    """A retry is the user's explicit choice to spend again: each item gets the new cap (or
    the workflow's per-item cap) for this retry alone; the job's budget is not applied."""
    per_item = budget.per_item if cap.unlimited else cap
    if per_item.unlimited:
        return None
    return JobSpending(budget=Budget(per_item=per_item, on_exhausted=budget.on_exhausted))


def _settle(store: Store, chosen: list[Candidate], summary: MapSummary) -> int:
    """Remove from the DLQ exactly the items whose retry landed in the parent branch."""
    landed: list[DlqRecord] = []
    for c in chosen:
        outcome = summary.outcomes.get(c.item.index)
        current = store.items.get(c.item.job_id, c.item.item_id)
        if outcome is not None and outcome.ok and current and current.state is ItemState.MERGED:
            landed.append(c.entry)
    use.remove(store, landed, "reprocessed")
    return len(landed)


async def _setup(  # noqa: PLR0917 - one call site
    store: Store,
    job: JobRecord,
    session: Session,
    request: RetryRequest,
    reporter: Reporter,
    env: Mapping[str, str],
) -> SessionSetup:
    """The session as a run would have it, with the workflow it ran."""
    path = Path(session.workflow_path)
    if not path.exists():
        raise UsageError(f"the workflow file {path} of {job.id} no longer exists; restore it")
    return await reopen_as_invoked(store, session, request, reporter, env)


async def _reopen_parent(setup: SessionSetup, reporter: Reporter) -> Reopened:
    """The parent worktree, back where it was: from its branch, or anew from your branch
    when the run already merged and deleted it."""
    if setup.worktree.exists():
        return "existing"
    if await git.branch_exists(setup.repo, setup.branch):
        setup.worktree.parent.mkdir(parents=True, exist_ok=True)
        await git.git(setup.repo, "worktree", "add", str(setup.worktree), setup.branch)
        reporter.emit(Note("info", f"Re-opened {setup.worktree} on {setup.branch}"))
        return "reopened"
    if not await git.branch_exists(setup.repo, setup.target):
        raise UsageError(
            f"the job's branch {setup.branch} and your branch {setup.target} are both gone;"
            " nothing to retry into"
        )
    await create_worktree(setup.repo, setup.worktree, setup.branch, setup.target)
    reporter.emit(
        Note("info", f"Re-created {setup.branch} from {setup.target} at {setup.worktree}")
    )
    return "recreated"


async def _close_parent(setup: SessionSetup, reopened: Reopened) -> None:
    """Nothing landed: put the parent back as it was before the retry."""
    if reopened != "existing":
        await remove_worktree(
            setup.repo,
            setup.worktree,
            delete_branch=reopened == "recreated",
            force=True,
            branch=setup.branch,
        )


async def _merge(
    setup: SessionSetup,
    session: Session,
    reporter: Reporter,
    read_line: ReadLine,
    *,
    succeeded: int,
) -> int:
    """Into your branch as a run does, but only for a completed session."""
    current = setup.store.sessions.require(session.id)
    if not succeeded:
        return 0
    if current.status is not RunStatus.COMPLETED:
        reporter.emit(
            Note(
                "info",
                f"{session.id} is {current.status}: the retried items are in {setup.worktree}"
                f" ({setup.branch}); nothing was merged into {setup.target}.",
            )
        )
        return 0
    ctx = setup.context(reporter)
    scope = initial_scope(setup.workflow, args=setup.options.args, process_env=setup.env)
    return await merge_back(setup, ctx, scope, reporter, read_line)
