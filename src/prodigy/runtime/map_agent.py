"""One map agent: a worktree from the parent's HEAD, the agent template, its own commits.

Failures of every kind come back as a failed AgentOutcome (never raised), so one item cannot
take the job down; only cancellation propagates (and kills the agent's processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from prodigy.core.errors import ProdigyError
from prodigy.core.mapreduce.job_plan import agent_branch, agent_dir_name, agent_id
from prodigy.core.mapreduce.results import AgentOutcome, AgentStatus, FailureKind, StepUsage
from prodigy.core.progress import Note, ProgressEvent, Reporter, StepOutput, StepStarted
from prodigy.core.variables import JsonValue, Scope, item_values
from prodigy.core.workflow import Step
from prodigy.runtime import git
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.executor import OnStarted
from prodigy.runtime.steps.actions import step_label
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome
from prodigy.runtime.steps.sequence import run_sequence
from prodigy.runtime.worktrees import create_worktree, remove_worktree

StepWatch = Callable[["AgentTask", str, int, int], None]  # task, step label, index, total
LOCAL_NODE = "local"  # the `node` of attempts run by this process
_HANDLER_FAILED = "on_failure handler failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTask:
    """One attempt at one work item; plain data, so any executor can ship it."""

    job_id: str
    item_id: str
    index: int
    item: JsonValue
    attempt: int = 1

    @property
    def agent_id(self) -> str:
        return agent_id(self.job_id, self.index)

    @property
    def branch(self) -> str:
        return agent_branch(self.job_id, self.index)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSetting:
    """What every agent of one job shares (local services: a remote executor rebuilds them)."""

    repo: Path  # the user's repository, where worktrees are registered
    parent: Path  # the parent worktree; agents start from its HEAD
    agents_root: Path  # agent worktrees live in agents_root/agent-<index>
    template: Sequence[Step]
    scope: Scope  # workflow env, positional args, setup captures
    ctx: StepContext  # the parent's context; each agent gets its own copy
    timeout: float | None = None
    on_step: StepWatch | None = None
    base: str | None = None  # start here instead of the parent's HEAD (a remote node's cache)
    # held while the worktree is made: a node's cache is shared by several worker processes,
    # and a `git fetch` there reads every worktree's HEAD (a half-made one is a "bad object")
    worktree_guard: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext


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
            await discard_agent_worktree(setting.repo, path, task.branch)
            head = setting.base or await git.head_sha(setting.parent)
            created = await create_worktree(setting.repo, path, task.branch, head)
        crash_point("during-worktree-add")
    except ProdigyError as exc:
        return _failed(base, began, "worktree", f"cannot create the agent worktree: {exc}")
    ctx = _agent_context(task, setting, created.path)
    scope = setting.scope.with_values(item_values(task.item, task.index))
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
        async with asyncio.timeout(setting.timeout):
            sequence = await run_sequence(setting.template, scope, ctx, on_done=on_done)
        if sequence.failed is not None and sequence.failed_index is not None:
            step = setting.template[sequence.failed_index]
            failure.append((sequence.failed_index, step, sequence.failed))
    except _AgentStepFailedError:
        pass
    except TimeoutError:
        timed_out = replace(base, usage=tuple(usage), output="".join(outputs))
        limit = f" after {setting.timeout:g} s (agent_timeout_secs)" if setting.timeout else ""
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
    env = {
        **setting.ctx.env,
        "PRODIGY_JOB_ID": task.job_id,
        "PRODIGY_ITEM_ID": task.item_id,
        "PRODIGY_AGENT_ID": task.agent_id,
        "PRODIGY_WORKTREE": str(worktree),
    }
    return replace(
        setting.ctx,
        worktree=worktree,
        env=env,
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
    if result.timed_out:
        kind = "timeout"
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
