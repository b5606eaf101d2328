"""`prodigy resume`: continue a session from the first step it did not complete."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from prodigy.app.config import load_config
from prodigy.app.ids import resolve_session
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.run import load_environment, map_inputs, workflow_hash
from prodigy.app.scratch import remove_scratch
from prodigy.app.session.environment import initial_scope
from prodigy.app.session.options import RunOptions
from prodigy.app.session.passes import Position
from prodigy.app.session.setup import ReadLine, execute_session, setup_from_record
from prodigy.app.step_processes import stop_left_steps
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import RunStatus, SessionRecord
from prodigy.core.variables import Scope, env_values
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


def changed_workflow(record: SessionRecord, path: Path) -> str | None:
    """A short diff when the workflow file changed since the session started, else None."""
    if not path.exists():
        raise UsageError(f"the workflow file {path} of {record.id} no longer exists")
    if workflow_hash(path) == record.workflow_hash:
        return None
    before = (record.workflow_text or "").splitlines()
    after = path.read_text(encoding="utf-8").splitlines()
    diff = list(difflib.unified_diff(before, after, "at start", "now", lineterm="", n=1))
    shown = diff[:40] + ([f"... {len(diff) - 40} more lines"] if len(diff) > 40 else [])
    return "\n".join(shown)


@dataclass(frozen=True, slots=True)
class ResumeRequest:
    session_id: str | None
    force: bool = False
    yes: bool = False
    verbosity: int = 0


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
                    from prodigy.app.session.worktree_merge import merge_recorded

                    return await merge_recorded(store, record, reporter, env)
                if record.mode == "mapreduce":
                    from prodigy.app.mapreduce.resume import JobResumeRequest, resume_locked

                    job_request = JobResumeRequest(
                        session_id=record.id,
                        force=request.force,
                        yes=request.yes,
                        verbosity=request.verbosity,
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
    path = Path(record.workflow_path)
    diff = changed_workflow(record, path)
    if diff is not None and not request.force:
        raise UsageError(
            f"{path} changed since {record.id} started; resuming could run different steps.\n"
            f"{diff}\nUse --force to resume with the file as it is now."
        )
    if not _kept(record):
        raise UsageError(
            f"the worktree of {record.id} is gone ({record.worktree_path}); it cannot be resumed"
        )
    repo_record = store.repos.get(record.repo_key)
    assert repo_record is not None
    repo = Path(repo_record.path)
    remove_scratch(prodigy_home(env), record.id)  # a dead run's large values (issue 12)
    await refuse_if_busy(repo, "resume")
    options = RunOptions.from_json(
        store.sessions.run_options(record.id),
        workflow=path,
        yes=request.yes,
        verbosity=request.verbosity,
    )
    environment = await load_environment(options, reporter, env, repo)
    workflow = environment.workflow
    config = load_config(repo_root=repo, env=env)
    store.add_secrets(config.secrets())
    # the real values: a variable that held a secret is stored masked (issue 12 item 4)
    checkpoint = store.checkpoints.latest(record.id, unmasked=True)
    if checkpoint is None:
        scope, start = initial_scope(workflow, args=options.args, process_env=env), Position(1, 0)
    else:
        scope = Scope(checkpoint.variables).with_values(env_values(env))
        start = Position(checkpoint.iteration, checkpoint.next_step_index)
    setup = setup_from_record(store, record, repo, workflow, options, config.values, env, scope)
    setup = replace(setup, env=environment.apply(setup.env))
    store.add_secrets(environment.masked)
    await setup.check_agent()
    await stop_left_steps(store, record.id, reporter, setup.config.grace_period)
    if record.status is not RunStatus.RUNNING:
        store.sessions.set_status(record.id, RunStatus.RUNNING)
    reporter.emit(
        Note(
            "info", f"Resuming {record.id} at step {start.step_index + 1} of pass {start.iteration}"
        )
    )
    inputs = map_inputs(repo, options.map_globs)
    return await execute_session(
        setup, reporter, scope, inputs, read_line, fresh=False, start=start
    )
