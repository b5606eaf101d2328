"""One map agent: a worktree from the parent's HEAD, the agent template, its own commits.

Failures of every kind come back as a failed AgentOutcome (never raised), so one item cannot
take the job down; only cancellation propagates (and kills the agent's processes).

An `AgentTask` is plain data (it pickles: a remote executor ships it), and so is the
`AgentOutcome` it comes back as, with the agent's branch to merge (or a git bundle of it,
when the agent ran on another machine). `AgentSetting` holds what only this process has:
the repository's paths, the step context with its reporter and masker.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from prodigy.core.budget import SpendGate
from prodigy.core.config import Config
from prodigy.core.errors import ProdigyError
from prodigy.core.mapreduce.job_plan import agent_branch, agent_dir_name, agent_id
from prodigy.core.mapreduce.results import AgentOutcome, AgentStatus, FailureKind, StepUsage
from prodigy.core.progress import (
    Note,
    ProgressEvent,
    QuotaWarned,
    Reporter,
    StepOutput,
    StepStarted,
)
from prodigy.core.variables import JsonValue, Scope, item_values
from prodigy.core.workflow import Step
from prodigy.runtime import git
from prodigy.runtime.agents import agent_from_config
from prodigy.runtime.agents.base import Agent
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.executor import OnStarted
from prodigy.runtime.steps.actions import step_label
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome
from prodigy.runtime.steps.sequence import run_sequence
from prodigy.runtime.worktrees import (
    BranchExistsError,
    Worktree,
    create_worktree,
    remove_worktree,
)

StepWatch = Callable[["AgentTask", str, int, int], None]  # task, step label, index, total
LOCAL_NODE = "local"  # the `node` of attempts run by this process
_HANDLER_FAILED = "on_failure handler failed"


def read_only(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


def _reduce_mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[object, tuple[object]]:
    return read_only, (dict(proxy),)


# Workflow steps hold read-only mappings; a task crossing a process boundary (a remote
# executor pickles it) carries them as plain dicts and gets them back read-only.
copyreg.pickle(MappingProxyType, _reduce_mapping_proxy)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    """What every agent of one job runs; plain data, the same for each of its tasks."""

    agent: str  # the registered agent backend that runs `claude:` steps
    template: tuple[Step, ...]
    variables: Mapping[str, JsonValue]  # workflow env, positional args, setup captures
    # names of the environment variables the steps get; their values are taken where the
    # agent runs, so secrets never travel inside a task
    env_names: tuple[str, ...] = ()
    timeout: float | None = None  # agent_timeout_secs: the whole template
    grace_period: float | None = None  # SIGTERM -> SIGKILL; None: the configured one


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTask:
    """One attempt at one work item; plain data, so any executor can ship it."""

    job_id: str
    item_id: str
    index: int
    item: JsonValue
    spec: AgentSpec
    attempt: int = 1
    base_commit: str | None = None  # start here; None: the parent's HEAD when it starts

    @property
    def agent_id(self) -> str:
        return agent_id(self.job_id, self.index)

    @property
    def branch(self) -> str:
        return agent_branch(self.job_id, self.index)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSetting:
    """What the agents of one job share in this process (a remote executor has its own)."""

    repo: Path  # the user's repository, where worktrees are registered
    parent: Path  # the parent worktree; agents start from its HEAD
    # that HEAD as the merge queue knows it (no git process per agent); None: asked of git
    parent_head: Callable[[], Awaitable[str]] | None = None
    agents_root: Path  # agent worktrees live in agents_root/agent-<index>
    ctx: StepContext  # the parent's context; each agent gets its own copy
    on_step: StepWatch | None = None
    base: str | None = None  # start here instead of the parent's HEAD (a remote node's cache)
    # held while the worktree is made: a node's cache is shared by several worker processes,
    # and a `git fetch` there reads every worktree's HEAD (a half-made one is a "bad object")
    worktree_guard: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext
    # an agent already made from settings that travelled with a remote task; None: made here
    # from the context's configuration
    agent: Agent | None = None
    # the spending gate of one attempt (the item's and the job's budget); None: the context's
    gate: Callable[[AgentTask], SpendGate] | None = None


class _StepWatcher:
    """Step starts go to the job's display; live output (-vv) to the run's, tagged by item.

    Everything else a step reports stays quiet: with many agents at once, per-step lines
    would interleave into noise; the job events carry the same facts.
    """

    def __init__(self, task: AgentTask, watch: StepWatch | None, parent: Reporter) -> None:
        self.task, self.watch, self.parent = task, watch, parent

    def emit(self, event: ProgressEvent) -> None:
        if self.watch is not None and isinstance(event, StepStarted):
            self.watch(self.task, event.label, event.index, event.total)
        elif isinstance(event, StepOutput):
            self.parent.emit(Note("info", f"[{self.task.item_id}] {event.line}"))
        elif isinstance(event, QuotaWarned):  # shown and recorded as a quota_warning event
            self.parent.emit(replace(event, text=f"[{self.task.item_id}] {event.text}"))


async def run_map_agent(task: AgentTask, setting: AgentSetting) -> AgentOutcome:
    """Run the agent template for one item; commits stay on the agent's branch for merging."""
    began = time.monotonic()
    path = setting.agents_root / agent_dir_name(task.index)
    base = AgentOutcome(
        item_id=task.item_id,
        index=task.index,
        agent_id=task.agent_id,
        attempt=task.attempt,
        status="failed",
        worktree_path=str(path),
        branch=task.branch,
    )
    try:
        async with setting.worktree_guard():
            head = task.base_commit or setting.base or await _parent_head(setting)
            created = await _fresh_worktree(setting.repo, path, task.branch, head)
        crash_point("during-worktree-add")
    except ProdigyError as exc:
        return _failed(base, began, "worktree", f"cannot create the agent worktree: {exc}")
    ctx = _agent_context(task, setting, created.path)
    spec = task.spec
    scope = Scope(spec.variables).with_values(item_values(task.item, task.index))
    outputs: list[str] = []
    usage: list[StepUsage] = []
    failure: list[tuple[int, Step, StepOutcome]] = []

    async def on_done(index: int, step: Step, outcome: StepOutcome) -> None:
        result = outcome.result
        if result.stdout.strip() and not result.skipped:
            outputs.append(result.stdout if result.stdout.endswith("\n") else result.stdout + "\n")
        if result.log_path:
            label = step_label(step)
            usage.append(StepUsage(step=label, usage=result.usage, log_path=result.log_path))
        if not result.success and not result.skipped and _handler_failed(outcome):
            failure.append((index, step, outcome))
            raise _AgentStepFailedError

    try:
        async with asyncio.timeout(spec.timeout):
            sequence = await run_sequence(spec.template, scope, ctx, on_done=on_done)
        if sequence.failed is not None and sequence.failed_index is not None:
            step = spec.template[sequence.failed_index]
            failure.append((sequence.failed_index, step, sequence.failed))
    except _AgentStepFailedError:
        pass
    except TimeoutError:
        timed_out = replace(base, usage=tuple(usage), output="".join(outputs))
        limit = f" after {spec.timeout:g} s (agent_timeout_secs)" if spec.timeout else ""
        message = f"agent timed out{limit}"
        return _failed(timed_out, began, "timeout", message, status="timeout")
    except ProdigyError as exc:
        return _failed(replace(base, usage=tuple(usage)), began, "unknown", str(exc))
    done = replace(base, usage=tuple(usage), output="".join(outputs))
    if failure:
        return _step_failure(done, began, *failure[0])
    try:
        commits = tuple(await git.rev_list(created.path, head, "HEAD"))
        changed = await git.git(created.path, "diff", "--name-only", head, "HEAD")
    except ProdigyError as exc:
        return _failed(done, began, "worktree", f"cannot read the agent's commits: {exc}")
    return replace(
        done,
        status="success",
        commits=commits,
        files_modified=tuple(changed.stdout.split("\n")[:-1]),
        duration=time.monotonic() - began,
    )


def local_runner(
    setting: AgentSetting,
) -> Callable[[AgentTask, OnStarted], Awaitable[AgentOutcome]]:
    """The AgentRunner that runs agents in this process."""

    async def run(task: AgentTask, started: OnStarted) -> AgentOutcome:
        started(LOCAL_NODE)
        return replace(await run_map_agent(task, setting), node=LOCAL_NODE)

    return run


async def _parent_head(setting: AgentSetting) -> str:
    if setting.parent_head is not None:
        return await setting.parent_head()
    return await git.head_sha(setting.parent)


async def _fresh_worktree(repo: Path, path: Path, branch: str, head: str) -> Worktree:
    """The agent's worktree on its branch from `head`, replacing a previous attempt's.

    A leftover has its directory or its branch (`worktree add -b` makes both); the branch
    is not looked up first: `worktree add` refuses an existing one, and only then is it
    removed and the add tried again (one git process per new agent instead of three).
    """
    if path.exists():
        await remove_worktree(repo, path, delete_branch=True, force=True, branch=branch)
    try:
        return await create_worktree(repo, path, branch, head)
    except BranchExistsError:
        await remove_worktree(repo, path, delete_branch=True, force=True, branch=branch)
        return await create_worktree(repo, path, branch, head)


async def discard_agent_worktree(repo: Path, path: Path, branch: str) -> None:
    """Remove an agent's worktree and branch (a previous attempt's, or after its merge)."""
    # `worktree add -b` makes both, so a leftover has its directory or its branch
    if path.exists() or await git.branch_exists(repo, branch):
        await remove_worktree(repo, path, delete_branch=True, force=True, branch=branch)


class _AgentStepFailedError(Exception):
    """A step failed and its on_failure handler failed too: the agent stops here."""


def _handler_failed(outcome: StepOutcome) -> bool:
    # A failed step the sequence tolerated: only `on_failure: true` may let an agent go on.
    return _HANDLER_FAILED in outcome.result.error


def _agent_context(task: AgentTask, setting: AgentSetting, worktree: Path) -> StepContext:
    spec, ctx = task.spec, setting.ctx
    grace = ctx.grace_period if spec.grace_period is None else spec.grace_period
    env = {
        **{name: ctx.env[name] for name in spec.env_names if name in ctx.env},
        "PRODIGY_JOB_ID": task.job_id,
        "PRODIGY_ITEM_ID": task.item_id,
        "PRODIGY_AGENT_ID": task.agent_id,
        "PRODIGY_WORKTREE": str(worktree),
    }
    return replace(
        ctx,
        worktree=worktree,
        env=env,
        agent=setting.agent
        if setting.agent is not None
        else agent_from_config(spec.agent, ctx.agent_config or Config(), grace),
        grace_period=grace,
        spend=ctx.spend if setting.gate is None else setting.gate(task),
        reporter=_StepWatcher(task, setting.on_step, setting.ctx.reporter),
        log_dir=setting.ctx.log_dir / task.job_id / f"{task.item_id}-attempt-{task.attempt}",
        _log_seq=itertools.count(1),
    )


def _step_failure(
    base: AgentOutcome, began: float, index: int, step: Step, outcome: StepOutcome
) -> AgentOutcome:
    result = outcome.result
    label = step_label(step)
    detail = result.error or f"exit code {result.exit_code}"
    stderr = [line for line in result.stderr.splitlines() if line.strip()][-3:]
    if stderr and not any(line in detail for line in stderr):
        detail += " | " + " | ".join(stderr)
    kind: FailureKind = "command" if result.exit_code not in (0, -1) else "unknown"
    if result.error_kind == "quota":  # the account's usage limit, not the item's fault
        kind = "quota"
        base = replace(base, resets_at=result.resets_at, limit_type=result.limit_type)
    elif result.timed_out:
        kind = "timeout"
    elif result.error_kind == "budget":
        kind = "budget"
    elif "commit_required" in result.error:
        kind = "commit"
    failed = replace(
        base,
        exit_code=result.exit_code,
        failed_step=label,
        log_path=result.log_path,
    )
    return _failed(failed, began, kind, f"step {index + 1} ({label}) failed: {detail}")


def _failed(
    base: AgentOutcome,
    began: float,
    kind: FailureKind,
    error: str,
    *,
    status: AgentStatus = "failed",
) -> AgentOutcome:
    return replace(
        base,
        status=status,
        failure_kind=kind,
        error=error,
        duration=time.monotonic() - began,
    )
