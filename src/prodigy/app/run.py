"""`prodigy run`: a workflow in a fresh session worktree, then the merge back."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from prodigy.app.config import load_config
from prodigy.app.mapreduce.job import execute_mapreduce
from prodigy.app.mapreduce.plan import check_mapreduce, dry_run_mapreduce
from prodigy.app.mapreduce.ray_runner import RayChoice, check_ray
from prodigy.app.paths import locks_dir, logs_dir, prodigy_home, worktrees_dir
from prodigy.app.scratch import remove_scratch, sweep_scratch
from prodigy.app.session.environment import child_env, initial_scope
from prodigy.app.session.options import RunOptions, with_run_limits
from prodigy.app.session.preflight import ensure_supported
from prodigy.app.session.setup import SessionSetup, execute_session
from prodigy.app.session.workflow_env import ResolvedEnvironment, resolve_environment
from prodigy.app.templates.registry import template_dirs
from prodigy.core.errors import UsageError
from prodigy.core.interpolation import interpolate
from prodigy.core.mapreduce.item_checks import BadItemsError
from prodigy.core.masking import Masker
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import repo_key
from prodigy.core.retry import with_retry_defaults
from prodigy.core.workflow import Workflow, all_steps, load_workflow
from prodigy.runtime import git
from prodigy.runtime.checkout_state import refuse_if_busy
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.runtime.steps.runner import commit_validation_off
from prodigy.runtime.steps.sequence import shown_command
from prodigy.runtime.worktrees import create_worktree, remove_worktree
from prodigy.store import open_store

ReadLine = Callable[[str], str]


def workflow_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(options: RunOptions, reporter: Reporter) -> Workflow:
    """The workflow, with its warnings reported; refuses features not built yet."""
    registries = template_dirs(os.environ)  # `template: {source: NAME}` looks here
    result = load_workflow(options.workflow, params=options.params, template_dirs=registries)
    for warning in result.warnings:
        reporter.emit(Note("warn", str(warning)))
    workflow = with_run_limits(with_retry_defaults(result.workflow), options)
    ensure_supported(workflow, registries)
    return workflow


def map_inputs(repo: Path, patterns: tuple[str, ...]) -> list[str]:
    """`--map GLOB`: each match's file stem up to the first `-` (prodigy's rule)."""
    inputs: list[str] = []
    for pattern in patterns:
        matches = sorted(str(p.relative_to(repo)) for p in repo.glob(pattern))
        inputs.extend(Path(m).stem.split("-", 1)[0] for m in matches)
    if patterns and not inputs:
        raise UsageError(f"no files match --map {' '.join(patterns)} in {repo}")
    return inputs


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


async def load_environment(
    options: RunOptions, reporter: Reporter, env: Mapping[str, str], repo: Path
) -> ResolvedEnvironment:
    """The workflow, checked, with its environment resolved (secrets, env_files, profile)."""
    return await resolve_environment(
        load(options, reporter),
        process_env=env,
        base_dir=repo,
        profile=options.profile,
        args=options.args,
        reporter=reporter,
    )


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
    key = repo_key(str(repo))
    worktree = worktrees_dir(home) / key / session_id
    branch = f"prodigy-{session_id}"
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
        setup = SessionSetup(
            store=store,
            repo=repo,
            workflow=workflow,
            workflow_hash=workflow_hash(options.workflow),
            session_id=session_id,
            worktree=worktree,
            branch=branch,
            target=target,
            options=options,
            config=config,
            env=child_env(env, workflow, scope, session_id=session_id, worktree=str(worktree)),
            log_dir=logs_dir(home) / key / session_id,
        )
        setup = replace(setup, env=environment.apply(setup.env))
        store.add_secrets(environment.masked)
        await setup.check_agent()
        store.repos.ensure(str(repo))
        store.sessions.create(
            session_id=session_id,
            repo_key=key,
            workflow_path=str(options.workflow.resolve()),
            workflow_hash=setup.workflow_hash,
            mode="mapreduce" if limits else ("iterative" if inputs else "standard"),
            worktree_path=str(worktree),
            branch=branch,
            target_branch=target,
            options=options.to_json(),
            workflow_text=options.workflow.read_text(encoding="utf-8"),
        )
        head = await git.head_sha(repo)
        await create_worktree(repo, worktree, branch, head)
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
