"""Creating a session and reopening a stored one: the one place a SessionSetup comes from.

`prodigy run` creates a session here; resume, resume-job, dlq retry and `worktree merge`
reopen one here, with the workflow loaded, its environment resolved and the secrets known
to the store exactly as the run had them.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from prodigy.app.config import load_config
from prodigy.app.paths import logs_dir, prodigy_home, worktrees_dir
from prodigy.app.scratch import remove_scratch
from prodigy.app.session.environment import child_env, initial_scope
from prodigy.app.session.options import RunOptions, with_run_limits
from prodigy.app.session.preflight import ensure_supported
from prodigy.app.session.setup import SessionSetup, setup_from_record
from prodigy.app.session.workflow_env import ResolvedEnvironment, resolve_environment
from prodigy.app.templates.registry import template_dirs
from prodigy.core.config import Config
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import SessionRecord, repo_key
from prodigy.core.retry import with_retry_defaults
from prodigy.core.variables import Scope, env_values
from prodigy.core.workflow import Workflow, load_workflow
from prodigy.runtime import git
from prodigy.runtime.worktrees import create_worktree
from prodigy.store import Store


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


def refuse_changed_workflow(record: SessionRecord, *, force: bool) -> None:
    """Resuming with a different workflow could run different steps: refused unless forced."""
    path = Path(record.workflow_path)
    diff = changed_workflow(record, path)
    if diff is not None and not force:
        raise UsageError(
            f"{path} changed since {record.id} started; resuming could run different steps.\n"
            f"{diff}\nUse --force to resume with the file as it is now."
        )


def stored_options(
    store: Store,
    record: SessionRecord,
    *,
    yes: bool = False,
    verbosity: int = 0,
    **overrides: Any,
) -> RunOptions:
    """How the session was run, with this invocation's `-y`, verbosity and overrides
    (`--executor`, `--max-cost-usd`, ...: None keeps the run's)."""
    return RunOptions.from_json(
        store.sessions.run_options(record.id),
        workflow=Path(record.workflow_path),
        yes=yes,
        verbosity=verbosity,
        **overrides,
    )


def keep_raised_limits(store: Store, record: SessionRecord, invocation: Limited) -> None:
    """A resume's --max-cost-usd / --max-tokens are saved with the session, so a later
    resume (or a crash recovery) keeps the raised limit instead of the first run's."""
    raised = {
        name: value
        for name in ("max_cost_usd", "max_tokens")
        if (value := getattr(invocation, name)) is not None
    }
    if raised:
        store.sessions.set_run_options(
            record.id, {**store.sessions.run_options(record.id), **raised}
        )


def session_repo(store: Store, record: SessionRecord) -> Path:
    """The repository the session was started in."""
    repo_record = store.repos.get(record.repo_key)
    assert repo_record is not None  # a session row is only written after its repo row
    return Path(repo_record.path)


def saved_scope(store: Store, record: SessionRecord, env: Mapping[str, str]) -> Scope | None:
    """The variables at the session's last checkpoint, with the process environment."""
    # the real values: a variable that held a secret is stored masked (issue 12 item 4)
    checkpoint = store.checkpoints.latest(record.id, unmasked=True)
    if checkpoint is None:
        return None
    return Scope(checkpoint.variables).with_values(env_values(env))


async def create_session(  # noqa: PLR0917 - the facts of a new session, each required
    store: Store,
    session_id: str,
    repo: Path,
    target: str,
    options: RunOptions,
    config: Config,
    environment: ResolvedEnvironment,
    env: Mapping[str, str],
    scope: Scope,
    mode: str,
) -> SessionSetup:
    """A new session: its record, its branch and its worktree from the repository's HEAD.

    The agent's availability is checked before anything is created."""
    home = prodigy_home(env)
    key = repo_key(str(repo))
    worktree = worktrees_dir(home) / key / session_id
    branch = f"prodigy-{session_id}"
    workflow = environment.workflow
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
        mode=mode,
        worktree_path=str(worktree),
        branch=branch,
        target_branch=target,
        options=options.to_json(),
        workflow_text=options.workflow.read_text(encoding="utf-8"),
    )
    head = await git.head_sha(repo)
    await create_worktree(repo, worktree, branch, head)
    return setup


class Reopened(NamedTuple):
    setup: SessionSetup
    scope: Scope  # the variables the session continues with


class Limited(Protocol):
    """A resume-like command's --max-cost-usd and --max-tokens (None: keep the run's)."""

    @property
    def max_cost_usd(self) -> float | None: ...
    @property
    def max_tokens(self) -> int | None: ...


class Invocation(Limited, Protocol):
    """What a resume-like command was invoked with: `-y`, verbosity, the executor, limits."""

    @property
    def yes(self) -> bool: ...
    @property
    def verbosity(self) -> int: ...
    @property
    def executor(self) -> str | None: ...
    @property
    def ray_address(self) -> str | None: ...


async def reopen_as_invoked(
    store: Store,
    record: SessionRecord,
    invocation: Invocation,
    reporter: Reporter,
    env: Mapping[str, str],
) -> SessionSetup:
    """A job's session, reopened with the options it ran with and this invocation's."""
    options = stored_options(
        store,
        record,
        yes=invocation.yes,
        verbosity=invocation.verbosity,
        executor=invocation.executor,
        ray_address=invocation.ray_address,
        max_cost_usd=invocation.max_cost_usd,
        max_tokens=invocation.max_tokens,
    )
    keep_raised_limits(store, record, invocation)
    setup, _ = await reopen_session(store, record, options, reporter, env)
    return setup


async def reopen_session(
    store: Store,
    record: SessionRecord,
    options: RunOptions,
    reporter: Reporter,
    env: Mapping[str, str],
    *,
    saved: Scope | None = None,
    check_agent: bool = True,
) -> Reopened:
    """A stored session as its run had it: workflow, environment, secrets, configuration.

    `saved` is the scope to continue with (default: the workflow's initial scope);
    `check_agent` refuses, before anything runs, an agent that is not available. The caller
    holds the session's lock (a dead run's scratch files are removed here)."""
    repo = session_repo(store, record)
    remove_scratch(prodigy_home(env), record.id)  # a dead run's large values (issue 12)
    environment = await load_environment(options, reporter, env, repo)
    workflow = environment.workflow
    config = load_config(repo_root=repo, env=env)
    store.add_secrets(config.secrets())
    store.add_secrets(environment.masked)
    scope = (
        saved if saved is not None else initial_scope(workflow, args=options.args, process_env=env)
    )
    setup = setup_from_record(store, record, repo, workflow, options, config.values, env, scope)
    setup = replace(setup, env=environment.apply(setup.env))
    if check_agent:
        await setup.check_agent()
    return Reopened(setup, scope)
