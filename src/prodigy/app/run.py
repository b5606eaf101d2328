"""`prodigy run`: a workflow in a fresh session worktree, then the merge back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

from prodigy.app.config import load_config
from prodigy.app.mapreduce.job import execute_mapreduce
from prodigy.app.mapreduce.plan import check_mapreduce, dry_run_mapreduce
from prodigy.app.mapreduce.ray_runner import RayChoice, check_ray, refuse_ray_budget
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.scratch import remove_scratch, sweep_scratch
from prodigy.app.session.environment import initial_scope
from prodigy.app.session.execute import execute_session
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.opening import create_session, load_environment
from prodigy.app.session.options import RunOptions, map_inputs
from prodigy.app.session.setup import SessionSetup
from prodigy.core.errors import UsageError
from prodigy.core.interpolation import interpolate
from prodigy.core.mapreduce.item_checks import BadItemsError
from prodigy.core.masking import Masker
from prodigy.core.progress import Note, Reporter
from prodigy.core.workflow import Workflow, all_steps
from prodigy.runtime import git
from prodigy.runtime.checkout_state import refuse_if_busy
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.runtime.steps.runner import commit_validation_off
from prodigy.runtime.steps.sequence import shown_command
from prodigy.runtime.worktrees import remove_worktree
from prodigy.store import open_store


def dry_run(workflow: Workflow, options: RunOptions, env: Mapping[str, str], out: Reporter) -> int:
    """Print the plan with variables filled in where they are known; create nothing."""
    scope = initial_scope(workflow, args=options.args, process_env=env)
    out.emit(Note("info", f"[DRY RUN] {workflow.name}: {len(workflow.steps)} step(s)"))
    for index, step in enumerate(workflow.steps, start=1):
        out.emit(Note("info", f"[DRY RUN] Would execute {index}: {shown_command(step, scope)}"))
        if step.when:
            out.emit(Note("info", f"[DRY RUN]   when: {interpolate(step.when, scope)}"))
    if workflow.merge is not None:
        out.emit(Note("info", f"[DRY RUN] then {len(workflow.merge.steps)} custom merge step(s)"))
    out.emit(Note("info", "[DRY RUN] nothing was created or run"))
    return 0


def announce_switches(workflow: Workflow, env: Mapping[str, str], reporter: Reporter) -> None:
    """Say once, at the start, when an environment switch changes what steps must do."""
    if commit_validation_off(env) and any(s.commit_required for s in all_steps(workflow)):
        reporter.emit(
            Note(
                "warn",
                "PRODIGY_NO_COMMIT_VALIDATION=true: commit_required steps are not checked"
                " for a new commit in this run",
            )
        )


async def start_run(
    options: RunOptions, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """Run a workflow file from the start; returns the exit code."""
    repo = await git.repo_root((options.repo or Path.cwd()).expanduser())
    config = load_config(repo_root=repo, env=env).values
    environment = await load_environment(options, reporter, env, repo)
    workflow = environment.workflow
    announce_switches(workflow, env, reporter)
    limits = None
    if workflow.mode == "mapreduce":
        first = initial_scope(workflow, args=options.args, process_env=env)
        limits = check_mapreduce(workflow, first, env)
        if options.dry_run:
            return dry_run_mapreduce(workflow, first, limits, reporter)
    if options.dry_run:
        return dry_run(workflow, options, env, reporter)
    executor = options.executor or config.executor
    if executor == "ray" and limits is None and options.executor:
        raise UsageError("--executor ray runs the agents of MapReduce workflows; this one is not")
    if limits is not None:
        refuse_ray_budget(executor, workflow.budget)
    if executor == "ray" and limits is not None:  # before any work: Ray installed and reachable
        check_ray(RayChoice("ray", options.ray_address or config.ray.address))
    inputs = map_inputs(repo, options.map_globs)
    await refuse_if_busy(repo, "run prodigy")
    target = await git.current_branch(repo)
    if await git.is_dirty(repo):
        reporter.emit(
            Note(
                "warn",
                "your checkout has uncommitted changes; the run starts from the "
                f"last commit of {target} and does not see them",
            )
        )
    home = prodigy_home(env)
    session_id = f"session-{uuid.uuid4()}"
    store = open_store(home, masker=Masker(load_config(repo_root=repo, env=env).secrets()))
    sweep_scratch(home)  # large values SIGKILLed runs left behind (issue 12)
    with (
        store,
        acquire_lock(
            lock_path(locks_dir(home), session_id),
            owner=f"prodigy run {session_id}",
            subject=session_id,
        ),
    ):
        scope = initial_scope(workflow, args=options.args, process_env=env)
        mode = "mapreduce" if limits else ("iterative" if inputs else "standard")
        setup = await create_session(
            store, session_id, repo, target, options, config, environment, env, scope, mode
        )
        head = await git.head_sha(setup.worktree)  # the commit the session started from
        try:
            if limits is not None:
                return await execute_mapreduce(setup, reporter, scope, read_line, limits)
            return await execute_session(setup, reporter, scope, inputs, read_line, fresh=True)
        except BadItemsError:
            await _discard_if_untouched(setup, head)
            raise
        finally:
            remove_scratch(home, session_id)


async def _discard_if_untouched(setup: SessionSetup, head: str) -> None:
    """Bad map input stops a run before any agent: a session whose worktree holds nothing
    new (no commit, no change) is removed with its worktree and branch, leaving no trace.
    Work a setup phase did stays, with the session, for the user to inspect."""
    worktree = setup.worktree
    if await git.head_sha(worktree) != head or await git.is_dirty(worktree):
        return
    await remove_worktree(
        setup.repo, worktree, delete_branch=True, force=False, branch=setup.branch
    )
    setup.store.sessions.delete(setup.session_id)
