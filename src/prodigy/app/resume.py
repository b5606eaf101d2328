"""`prodigy resume`: continue a session from the first step it did not complete."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.ids import resolve_session
from prodigy.app.mapreduce.resume import JobResumeRequest, resume_locked
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.scratch import remove_scratch
from prodigy.app.session.execute import START, execute_session
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.opening import (
    keep_raised_limits,
    refuse_changed_workflow,
    reopen_session,
    saved_scope,
    session_repo,
    stored_options,
)
from prodigy.app.session.options import map_inputs
from prodigy.app.session.passes import Position
from prodigy.app.session.quota_wait import countdown, resume_wait
from prodigy.app.session.worktree_merge import merge_recorded
from prodigy.app.step_processes import stop_left_steps
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import RunStatus, SessionRecord
from prodigy.runtime.checkout_state import refuse_if_busy
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.store import Store, open_store

_RESUMABLE = frozenset(
    {
        RunStatus.FAILED,
        RunStatus.INTERRUPTED,
        RunStatus.RUNNING,
        RunStatus.MERGING,
        RunStatus.PAUSED,
    }
)


def latest_resumable(store: Store) -> SessionRecord:
    """The newest session that can be resumed, for `prodigy resume` without an id."""
    for record in store.sessions.find():
        if record.status in _RESUMABLE:
            return record
    raise UsageError("no session to resume; `prodigy sessions ls` lists sessions")


@dataclass(frozen=True, slots=True)
class ResumeRequest:
    session_id: str | None
    force: bool = False
    yes: bool = False
    verbosity: int = 0
    # --max-cost-usd / --max-tokens: raise the budget and go on (saved for later resumes)
    max_cost_usd: float | None = None
    max_tokens: int | None = None


async def resume(
    request: ResumeRequest, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """Continue a failed, interrupted or crashed session; returns the exit code."""
    session_id = request.session_id
    home = prodigy_home(env)
    with open_store(home) as store:
        record = resolve_session(store, session_id) if session_id else latest_resumable(store)
        if record.status in {RunStatus.COMPLETED, RunStatus.CANCELLED}:
            hint = f"; merge it with: prodigy worktree merge {record.id}" if _kept(record) else ""
            reporter.emit(
                Note("info", f"{record.id} already {record.status}: nothing to resume{hint}")
            )
            return 0
        with acquire_lock(
            lock_path(locks_dir(home), record.id),
            owner=f"prodigy resume {record.id}",
            subject=record.id,
        ):
            try:
                if record.status is RunStatus.MERGING:  # the steps are done; the merge is not
                    return await merge_recorded(store, record, reporter, env)
                if record.mode == "mapreduce":
                    job_request = JobResumeRequest(
                        session_id=record.id,
                        force=request.force,
                        yes=request.yes,
                        verbosity=request.verbosity,
                        max_cost_usd=request.max_cost_usd,
                        max_tokens=request.max_tokens,
                    )
                    return await resume_locked(store, record, job_request, reporter, env, read_line)
                return await _resume_locked(store, record, request, reporter, env, read_line)
            finally:
                remove_scratch(home, record.id)


def _kept(record: SessionRecord) -> bool:
    return bool(record.worktree_path) and Path(str(record.worktree_path)).exists()


async def _resume_locked(  # noqa: PLR0917 - one call site, all required
    store: Store,
    record: SessionRecord,
    request: ResumeRequest,
    reporter: Reporter,
    env: Mapping[str, str],
    read_line: ReadLine,
) -> int:
    refuse_changed_workflow(record, force=request.force)
    if not _kept(record):
        raise UsageError(
            f"the worktree of {record.id} is gone ({record.worktree_path}); it cannot be resumed"
        )
    options = stored_options(
        store,
        record,
        yes=request.yes,
        verbosity=request.verbosity,
        max_cost_usd=request.max_cost_usd,
        max_tokens=request.max_tokens,
    )
    keep_raised_limits(store, record, request)
    checkpoint = store.checkpoints.latest(record.id)
    start = Position(checkpoint.iteration, checkpoint.next_step_index) if checkpoint else START
    await refuse_if_busy(session_repo(store, record), "resume")
    setup, scope = await reopen_session(
        store, record, options, reporter, env, saved=saved_scope(store, record, env)
    )
    await stop_left_steps(store, record.id, reporter, setup.config.grace_period)
    until = resume_wait(record, setup.workflow.quota, force=request.force)
    if until is not None:  # it was waiting out a usage limit: wait for the rest
        await countdown(reporter, until, command=f"prodigy resume {record.id}")
    if record.status is not RunStatus.RUNNING:
        store.sessions.set_status(record.id, RunStatus.RUNNING)
    reporter.emit(
        Note(
            "info", f"Resuming {record.id} at step {start.step_index + 1} of pass {start.iteration}"
        )
    )
    inputs = map_inputs(setup.repo, options.map_globs)
    return await execute_session(
        setup, reporter, scope, inputs, read_line, fresh=False, start=start
    )
