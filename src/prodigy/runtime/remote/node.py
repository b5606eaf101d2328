"""The worker node's half of a remote attempt: `run_remote_attempt(task) -> RemoteResult`.

Everything lives under the node's own PRODIGY_HOME (`remote/<repo-key>/`): a bare cache
repository that keeps what earlier bundles brought (so later bundles can be incremental), and
the attempt's worktree, removed when the attempt ends whatever happened. Each attempt writes
an owner file next to its worktree; the next task on the node sweeps the leftovers of owners
that died (a coordinator or worker killed hard): their processes, worktree and branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import json
import os
import secrets as token_source
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path

from prodigy.core.errors import ProdigyError
from prodigy.core.mapreduce.job_plan import agent_branch, agent_dir_name, agent_id
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.core.masking import Masker, secret_named
from prodigy.core.progress import Note, ProgressEvent
from prodigy.core.variables import Scope, env_values
from prodigy.runtime import git
from prodigy.runtime.agents import plugin_for
from prodigy.runtime.crash_repair import kill_pids, tagged_processes
from prodigy.runtime.map_agent import (
    AgentSetting,
    AgentSpec,
    AgentTask,
    discard_agent_worktree,
    run_map_agent,
)
from prodigy.runtime.remote.bundles import (
    MissingPrerequisitesError,
    create_bundle,
    fetch_bundle,
    has_commit,
)
from prodigy.runtime.remote.task import RemoteEvent, RemoteResult, RemoteTask, SecretRef
from prodigy.runtime.steps.context import StepContext

ATTEMPT_TAG = "PRODIGY_REMOTE_ATTEMPT"  # in every agent process's env: how sweeps find them
FullBundle = Callable[[], Awaitable[bytes]]
OnEvent = Callable[[RemoteEvent], None]

_ACTIVE: set[str] = set()  # attempt tokens running in this process (Ray reuses workers)


class NodeSetupError(ProdigyError):
    """The node cannot run the attempt (its cache, a secret): fails the attempt, not the job."""


async def run_remote_attempt(
    task: RemoteTask,
    *,
    home: Path,
    node: str,
    full_bundle: FullBundle,
    node_env: Mapping[str, str] | None = None,
    on_event: OnEvent | None = None,
) -> RemoteResult:
    """Run one attempt on this node; failures come back in the outcome, cancellation kills
    the attempt's processes and removes its worktree before it propagates."""
    env = dict(os.environ if node_env is None else node_env)
    root = home / "remote" / task.repo_key
    cache = root / "cache.git"
    agents_root = root / "work" / task.job_id
    path = agents_root / agent_dir_name(task.index)
    branch = agent_branch(task.job_id, task.index)
    owner = path.with_name(path.name + ".owner.json")
    token = token_source.token_hex(8)
    try:
        await _ensure_cache(cache)
        secret_values = resolve_secrets(task.secrets, env, home)
        async with _cache_lock(cache):
            # one lock for sweeping and claiming: a sweep in another worker process must
            # never see this attempt half made (its directory without its owner file)
            await sweep(root)
            if _alive(owner):
                raise NodeSetupError(f"another attempt of {task.item_id} still runs on this node")
            _ACTIVE.add(token)
            agents_root.mkdir(parents=True, exist_ok=True)
            _write_owner(owner, token, branch)
    except ProdigyError as exc:
        return _setup_failed(task, node, str(exc))
    try:
        try:
            await _ensure_base(cache, task, full_bundle)
        except ProdigyError as exc:
            return _setup_failed(task, node, str(exc))
        outcome = await _run(
            task,
            env=env,
            secret_values=secret_values,
            cache=cache,
            agents_root=agents_root,
            token=token,
            on_event=on_event,
        )
        bundle = None
        if outcome.ok and outcome.commits:
            async with _cache_lock(cache):
                bundle = await create_bundle(cache, branch, exclude=(task.base,))
        # the coordinator owns the outcome now: no node path or branch in it
        outcome = replace(outcome, worktree_path=None, branch=None)
        return RemoteResult(outcome=outcome.to_json(), node=node, bundle=bundle)
    finally:
        # also on cancellation: the runner killed the step's group; anything that left it dies here
        kill_pids(tagged_processes(ATTEMPT_TAG, token))
        async with _cache_lock(cache):  # git in the cache one at a time (see worktree_guard)
            with contextlib.suppress(ProdigyError):
                await discard_agent_worktree(cache, path, branch)
            owner.unlink(missing_ok=True)
        _ACTIVE.discard(token)


async def _run(
    task: RemoteTask,
    *,
    env: dict[str, str],
    secret_values: dict[str, str],
    cache: Path,
    agents_root: Path,
    token: str,
    on_event: OnEvent | None,
) -> AgentOutcome:
    masked = [*secret_values.values(), *(v for k, v in env.items() if secret_named(k))]
    masker = Masker(masked)
    child_env = {**env, **task.env, **secret_values, ATTEMPT_TAG: token}
    child_env["PRODIGY_AUTOMATION"] = "true"
    child_env["PRODIGY_SESSION_ID"] = task.session_id
    emit = on_event or (lambda _event: None)

    def on_step(_task: AgentTask, label: str, index: int, total: int) -> None:
        emit(RemoteEvent("step", label=masker.text(label), index=index, total=total))

    plugin = plugin_for(task.agent)
    settings = replace(plugin.coerce(task.agent_settings), grace_period=task.grace_period)
    agent = plugin.create(settings)
    ctx = StepContext(
        worktree=agents_root,
        env=child_env,
        agent=agent,
        git_variables=task.git_variables,
        reporter=_Lines(emit, masker),
        masker=masker,
        log_dir=cache.parent / "logs",
        session_id=task.session_id,
        default_timeout=task.step_timeout,
        grace_period=task.grace_period,
        verbosity=task.verbosity,
        _log_seq=itertools.count(1),
    )
    setting = AgentSetting(
        repo=cache,
        parent=cache,
        agents_root=agents_root,
        ctx=ctx,
        on_step=on_step,
        agent=agent,
        base=task.base,
        worktree_guard=lambda: _cache_lock(cache),
    )
    agent_task = AgentTask(
        job_id=task.job_id,
        item_id=task.item_id,
        index=task.index,
        item=task.item,
        attempt=task.attempt,
        spec=AgentSpec(
            agent=task.agent,
            template=task.template,
            variables=dict(Scope(dict(task.variables)).with_values(env_values(env)).items()),
            env_names=tuple(sorted(child_env)),
            timeout=task.timeout,
            grace_period=task.grace_period,
        ),
    )
    outcome = await run_map_agent(agent_task, setting)
    return replace(outcome, output=masker.text(outcome.output), error=_mask(masker, outcome.error))


class _Lines:
    """The agent's live output lines, masked here, sent back to the coordinator."""

    def __init__(self, send: OnEvent, masker: Masker) -> None:
        self.send, self.masker = send, masker

    def emit(self, event: ProgressEvent) -> None:
        if isinstance(event, Note):
            self.send(RemoteEvent("line", line=self.masker.text(event.text)))


def _mask(masker: Masker, text: str | None) -> str | None:
    return None if text is None else masker.text(text)


def resolve_secrets(
    refs: Mapping[str, SecretRef], env: Mapping[str, str], home: Path
) -> dict[str, str]:
    """The task's secrets from this node's environment or files; a missing one is an error."""
    values = {}
    for name, ref in refs.items():
        if ref.provider == "env":
            if ref.key not in env:
                raise NodeSetupError(
                    f"secret {name}: {ref.key} is not set on this node; set it in the"
                    " environment of `ray start` on every worker node"
                )
            values[name] = env[ref.key]
        else:
            path = Path(ref.key) if Path(ref.key).is_absolute() else home / ref.key
            try:
                values[name] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise NodeSetupError(
                    f"secret {name}: cannot read {path} on this node ({exc.strerror})"
                ) from exc
    return values


@contextlib.asynccontextmanager
async def _cache_lock(cache: Path) -> AsyncIterator[None]:
    """One fetch into the node's cache at a time, across the node's worker processes."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache.parent / "cache.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


async def _ensure_cache(cache: Path) -> None:
    async with _cache_lock(cache):
        if not (cache / "HEAD").is_file():
            cache.mkdir(parents=True, exist_ok=True)
            await git.git(cache, "init", "--quiet", "--bare")


async def _ensure_base(cache: Path, task: RemoteTask, full_bundle: FullBundle) -> None:
    """The base commit in the cache: the incremental bundle, or the full one when the cache
    lacks its prerequisites (first task of a repository on this node)."""
    async with _cache_lock(cache):
        if await has_commit(cache, task.base):
            return
        if task.bundle is not None:
            with contextlib.suppress(MissingPrerequisitesError):
                await fetch_bundle(cache, task.bundle, f"refs/prodigy/base/{task.base}")
                return
        await fetch_bundle(cache, await full_bundle(), f"refs/prodigy/root/{task.root}")
        if task.bundle is not None:
            await fetch_bundle(cache, task.bundle, f"refs/prodigy/base/{task.base}")
        if not await has_commit(cache, task.base):
            raise NodeSetupError(f"the bundles did not bring the base commit {task.base}")


async def sweep(root: Path) -> list[str]:
    """Remove what attempts whose owner died left under `root`: processes, worktree, branch.
    The caller holds the cache lock (attempts claim their place under it)."""
    swept = []
    cache = root / "cache.git"
    for owner in sorted(root.glob("work/*/*.owner.json")):
        if _alive(owner):
            continue
        try:
            data = json.loads(owner.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if token := data.get("token"):
            kill_pids(tagged_processes(ATTEMPT_TAG, token))
        path = owner.with_name(owner.name.removesuffix(".owner.json"))
        with contextlib.suppress(ProdigyError):
            await discard_agent_worktree(cache, path, str(data.get("branch", "")))
        owner.unlink(missing_ok=True)
        swept.append(str(path))
    for job_dir in root.glob("work/*"):
        with contextlib.suppress(OSError):
            job_dir.rmdir()  # only when empty
    return swept


def _write_owner(owner: Path, token: str, branch: str) -> None:
    data = {"pid": os.getpid(), "started": _start_time(os.getpid()), "token": token}
    temp = owner.with_name(owner.name + ".tmp")
    temp.write_text(json.dumps({**data, "branch": branch}), encoding="utf-8")
    temp.replace(owner)  # atomic: a sweep never reads half an owner file


def _alive(owner: Path) -> bool:
    """Whether the attempt that wrote `owner` still runs (same process and start time)."""
    try:
        data = json.loads(owner.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return False
    pid = int(data.get("pid", 0))
    if pid == os.getpid():
        return data.get("token") in _ACTIVE
    return pid > 0 and _start_time(pid) == data.get("started")


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks: tells a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _setup_failed(task: RemoteTask, node: str, error: str) -> RemoteResult:
    outcome = AgentOutcome(
        item_id=task.item_id,
        index=task.index,
        agent_id=agent_id(task.job_id, task.index),
        attempt=task.attempt,
        status="failed",
        failure_kind="worktree",
        error=f"on node {node}: {error}",
    )
    return RemoteResult(outcome=outcome.to_json(), node=node)
