"""`prodigy resume SESSION` / `prodigy resume-job JOB` for MapReduce: continue where it stopped.

Git is the truth for what landed: every `Prodigy-Item: <job>/<item>` trailer on the parent
branch counts as merged even if the store missed it (reconciled, with an event). Before new
work starts, the dead run's processes are killed and its leftovers repaired: a merge left in
progress is aborted, stale index.lock files removed, half-created agent worktrees and
branches removed. Then: setup resumes at its first unfinished step (or is skipped), items
not yet landed run again in fresh worktrees, DLQ items stay unless `--max-retries` allows
another try, reduce resumes at its first unfinished step, and the merge back runs as in a
normal run. The caller holds the session's lock for the whole time.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from prodigy.app.ids import resolve_job
from prodigy.app.mapreduce import dead_letters
from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.mapreduce.inputs import load_items
from prodigy.app.mapreduce.items import to_pending
from prodigy.app.mapreduce.job import JobStart, drive_job
from prodigy.app.mapreduce.plan import check_mapreduce, map_config
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.scratch import remove_scratch
from prodigy.app.session.environment import initial_scope
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.opening import refuse_changed_workflow, reopen_as_invoked
from prodigy.app.session.quota_wait import countdown, resume_wait
from prodigy.app.session.setup import SessionSetup
from prodigy.app.session.worktree_merge import merge_recorded
from prodigy.app.step_processes import stop_left_steps
from prodigy.core import event_payloads as ev
from prodigy.core.errors import UsageError
from prodigy.core.interpolation import interpolate
from prodigy.core.mapreduce.job_plan import agent_branch, agent_dir_name, item_id
from prodigy.core.mapreduce.resume_plan import ResumePlan, input_changes, plan_resume
from prodigy.core.pause import QUOTA
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import ItemRecord, ItemState, JobPhase, JobRecord, RunStatus
from prodigy.core.records import SessionRecord as Session
from prodigy.core.variables import Scope
from prodigy.runtime import crash_repair as repair
from prodigy.runtime import git
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.runtime.map_agent import discard_agent_worktree
from prodigy.runtime.remote.coordinator import INCOMING, drop_incoming
from prodigy.store import Store, open_store


@dataclass(frozen=True, slots=True)
class JobResumeRequest:
    session_id: str | None = None  # `prodigy resume SESSION`
    job_id: str | None = None  # `prodigy resume-job JOB`
    force: bool = False  # resume even though the workflow file or the input changed
    max_retries: int = 0  # DLQ items that failed at most this often run again
    yes: bool = False
    verbosity: int = 0
    executor: str | None = None  # --executor: default the run's, then config
    ray_address: str | None = None
    # --max-cost-usd / --max-tokens: raise the budget and go on (saved for later resumes)
    max_cost_usd: float | None = None
    max_tokens: int | None = None


async def resume_job(
    request: JobResumeRequest, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """`prodigy resume-job JOB`: find the job's session, lock it, resume; the exit code."""
    home = prodigy_home(env)
    with open_store(home) as store:
        job = resolve_job(store, request.job_id or "")
        session = store.sessions.require(job.session_id)
        if session.status in {RunStatus.COMPLETED, RunStatus.CANCELLED}:
            reporter.emit(
                Note(
                    "info",
                    f"{job.id} already {session.status}: nothing to resume (failed items:"
                    f" prodigy dlq retry {job.id})",
                )
            )
            return 0
        with acquire_lock(
            lock_path(locks_dir(home), session.id),
            owner=f"prodigy resume-job {job.id}",
            subject=session.id,
        ):
            try:
                if session.status is RunStatus.MERGING:  # the job is done; its merge is not
                    return await merge_recorded(store, session, reporter, env)
                return await resume_locked(store, session, request, reporter, env, read_line)
            finally:
                remove_scratch(home, session.id)


async def resume_locked(  # noqa: PLR0917 - one call site each in resume and resume-job
    store: Store,
    session: Session,
    request: JobResumeRequest,
    reporter: Reporter,
    env: Mapping[str, str],
    read_line: ReadLine,
) -> int:
    """Resume the session's MapReduce job; the caller holds the session's lock."""
    job = next(iter(store.jobs.find(session_id=session.id)), None)
    path = Path(session.workflow_path)
    refuse_changed_workflow(session, force=request.force)
    if job is None:
        raise UsageError(
            f"{session.id} has no MapReduce job yet (it stopped before the job started);"
            f" start it again with: prodigy run {path}"
        )
    killed = await repair.stop_job_processes(job.id)
    if killed:
        reporter.emit(Note("warn", f"stopped {len(killed)} process(es) left by the dead run"))
    setup = await reopen_as_invoked(store, session, request, reporter, env)
    # paused by a usage limit whose reset is ahead: refused, or (policy wait) waited out
    until = resume_wait(
        store.sessions.require(session.id), setup.workflow.quota, force=request.force
    )
    await stop_left_steps(store, session.id, reporter, setup.config.grace_period)
    events = JobEvents(store, job.id, session.id, reporter)
    await _repair(setup, job, events, reporter)
    scope = initial_scope(setup.workflow, args=setup.options.args, process_env=env)
    captures = store.jobs.setup_captures(job.id)  # real values, not the masked text
    limits = check_mapreduce(setup.workflow, scope.with_values(captures), setup.env)
    if job.phase is not JobPhase.SETUP:
        await _check_input(setup, job, scope, request.force, reporter)
    plan = await _reconcile(setup, job, events, reporter, request.max_retries)
    start = _start(setup, job, plan)
    if store.sessions.require(session.id).pause_reason == QUOTA:
        start = replace(start, ramp=True)  # the account comes back from its limit gently
    if until is not None:
        await countdown(reporter, until, command=f"prodigy resume-job {job.id}")
    _running(store, job, session)
    events.record(
        ev.JOB_RESUMED,
        {
            "job_id": job.id,
            "phase": str(start.phase),
            "rerun": len(plan.rerun),
            "reconciled": sorted(plan.reconcile),
            "kept_in_dlq": list(plan.kept_in_dlq),
        },
    )
    reporter.emit(
        Note(
            "info",
            f"Resuming {job.id} in the {start.phase} phase: {len(plan.done)} item(s) landed,"
            f" {len(plan.rerun)} to run, {len(plan.kept_in_dlq)} left in the DLQ",
        )
    )
    try:
        return await drive_job(setup, reporter, scope, read_line, limits, job.id, start)
    finally:
        _drop_landed_from_dlq(store, job.id)


async def _repair(
    setup: SessionSetup, job: JobRecord, events: JobEvents, reporter: Reporter
) -> None:
    """Leftovers in the parent and the user's checkout: interrupted merge, stale locks,
    half-created agent worktrees."""
    places = [setup.worktree.parent]  # the session's and the agents' worktrees
    await repair.settle_git(setup.repo, places)
    notes = await repair.clear_stale_locks(setup.repo, places)
    notes += await repair.repair_worktree_admin(setup.repo, setup.worktree.parent / job.id)
    aborted = await repair.abort_interrupted_merge(setup.worktree)
    for note in [*notes, *([aborted] if aborted else [])]:
        reporter.emit(Note("warn", f"repaired: {note}"))
        events.record(ev.LEFTOVER_REPAIRED, {"job_id": job.id, "repair": note})


async def _check_input(
    setup: SessionSetup, job: JobRecord, scope: Scope, force: bool, reporter: Reporter
) -> None:
    """Items are identified by what was stored at start; a changed input file is refused
    (or, with --force, its new items are added) so nothing is silently skipped or redone."""
    phase = map_config(setup.workflow)
    scope = scope.with_values(setup.store.jobs.setup_captures(job.id))
    source = interpolate(phase.input, scope).strip()
    file = Path(source) if Path(source).is_absolute() else setup.worktree / source
    if not source or not file.is_file():
        return  # a command's output is not read again: it may have side effects
    ctx = setup.context(reporter)
    current = await load_items(phase, scope, ctx)
    # compared by their real values: masked text would make every item holding a secret
    # look both missing and new (issue 12 item 4)
    stored = setup.store.items.data_of(job.id)
    added, removed = input_changes(stored, current, identity=setup.store.masker.value)
    if not added and not removed:
        return
    what = f"{len(added)} new and {len(removed)} missing item(s)"
    if not force:
        raise UsageError(
            f"the map input {file} changed since {job.id} started: {what}."
            " Resume with --force to add the new items (missing ones are still processed),"
            " or restore the file."
        )
    count = len(stored)
    setup.store.items.add(job.id, [(item_id(count + i), item) for i, item in enumerate(added)])
    reporter.emit(Note("warn", f"input changed ({what}); --force: new items added"))


async def _reconcile(
    setup: SessionSetup,
    job: JobRecord,
    events: JobEvents,
    reporter: Reporter,
    max_retries: int,
) -> ResumePlan:
    """Git's landings into the store, then the plan; items to run again are made pending
    and their old worktrees and branches removed."""
    store = setup.store
    landed = await repair.landed_items(setup.worktree, job.id)
    records = store.items.find(job.id, payload=False)  # read once, states only
    failures = store.dlq.failure_counts(job.id)
    plan = plan_resume(records, landed, failures, max_retries=max_retries)
    for item, commit in plan.reconcile.items():
        store.items.reconcile_merged(job.id, item, commit)
        events.record(
            ev.ITEM_RECONCILED, {"job_id": job.id, "item_id": item, "merge_commit": commit}
        )
        reporter.emit(Note("info", f"{item} had landed ({commit[:10]}); recorded as merged"))
    _drop_landed_from_dlq(store, job.id)
    agents_root = setup.worktree.parent / job.id
    # What git holds, read once: per item, only the leftovers that exist are removed, so a
    # job of 100,000 landed items costs two git processes here, not two per item.
    leftovers = await _git_leftovers(setup.repo, job.id)
    for record in records:
        rerun = record.index in plan.rerun
        if rerun:
            to_pending(store, record)
        if rerun or record.state is ItemState.MERGED or record.item_id in plan.reconcile:
            await _discard(setup, agents_root, record, leftovers)
    return plan


@dataclass(frozen=True, slots=True)
class _Leftovers:
    branches: frozenset[str]  # local branch names
    incoming: frozenset[str]  # item ids with refs of a remote attempt


async def _git_leftovers(repo: Path, job_id: str) -> _Leftovers:
    branches = await git.refs_under(repo, "refs/heads/")
    incoming = await git.refs_under(repo, f"{INCOMING}/{job_id}/")
    return _Leftovers(
        branches=frozenset(ref.removeprefix("refs/heads/") for ref in branches),
        incoming=frozenset(ref.split("/")[-2] for ref in incoming),  # .../<item>/<attempt>
    )


async def _discard(
    setup: SessionSetup, agents_root: Path, record: ItemRecord, leftovers: _Leftovers
) -> None:
    """The item's old worktree and branch, whatever state the crash left them in."""
    path = agents_root / agent_dir_name(record.index)
    branch = agent_branch(record.job_id, record.index)
    if path.exists() or branch in leftovers.branches:
        await discard_agent_worktree(setup.repo, path, branch)
    if path.exists():  # half checked out, never registered: only prodigy writes here
        shutil.rmtree(path, ignore_errors=True)
    setup.store.worktrees.forget(str(path))
    if record.item_id in leftovers.incoming:  # a remote attempt's commits
        await drop_incoming(setup.repo, record.job_id, record.item_id)


def _drop_landed_from_dlq(store: Store, job_id: str) -> None:
    """An item that landed is not also in the DLQ (a retry that crashed before removing it)."""
    merged = store.items.ids(job_id, states=(ItemState.MERGED,))
    landed = merged.intersection(store.dlq.failure_counts(job_id))
    stale = [found for item in sorted(landed) if (found := store.dlq.get(job_id, item))]
    if stale:
        dead_letters.remove(store, stale, "landed")


def _start(setup: SessionSetup, job: JobRecord, plan: ResumePlan) -> JobStart:
    """Where the job continues: its recorded phase, or the map again when items must run."""
    if job.phase is JobPhase.SETUP:
        return JobStart(JobPhase.SETUP)
    if plan.rerun or job.phase is JobPhase.MAP:
        if job.phase in {JobPhase.REDUCE, JobPhase.DONE}:
            # reduce must see the new results: its earlier progress no longer counts
            setup.store.checkpoints.delete(setup.session_id)
        setup.store.jobs.set_phase(job.id, JobPhase.MAP)
        return JobStart(JobPhase.MAP, rerun=dict(plan.rerun))
    return JobStart(job.phase)


def _running(store: Store, job: JobRecord, session: Session) -> None:
    if store.jobs.require(job.id).status is not RunStatus.RUNNING:
        store.jobs.set_status(job.id, RunStatus.RUNNING)
    if store.sessions.require(session.id).status is not RunStatus.RUNNING:
        store.sessions.set_status(session.id, RunStatus.RUNNING)
