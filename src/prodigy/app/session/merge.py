"""Merging a finished session back into the branch it started from."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from prodigy.app.session.default_merge import (
    default_merge,
    discard_scratch,
    finish_interrupted_landing,
    target_checkout,
)
from prodigy.app.session.merge_plan import MergePlan, SessionMergeResult
from prodigy.core.errors import LockedError
from prodigy.core.progress import Note
from prodigy.core.records import repo_key
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import MergeConfig
from prodigy.runtime import git
from prodigy.runtime.checkout_state import busy_reason
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.sequence import run_sequence
from prodigy.runtime.worktrees import remove_worktree

# Asks the user one question and returns the answer (`input` on a terminal).
ReadLine = Callable[[str], str]

_MERGE_LOCK_WAIT = 600.0  # seconds to wait for another session's merge into this repository


def merge_variables(plan: MergePlan) -> dict[str, JsonValue]:
    """`${merge.*}` for a custom merge block."""
    return {
        "merge": {
            "worktree": plan.worktree.name,
            "worktree_path": str(plan.worktree),
            "source_branch": plan.branch,
            "target_branch": plan.target,
            "session_id": plan.session_id,
        }
    }


async def pending_commits(plan: MergePlan) -> int:
    return await git.commit_count(plan.repo, plan.target, plan.branch)


async def merge_session(
    plan: MergePlan, ctx: StepContext, scope: Scope, custom: MergeConfig | None
) -> SessionMergeResult:
    """Merge the session branch into its target; on any failure leave both sides clean.

    Sessions of one repository merge one at a time: two merges into the same checkout at
    once would fight over its index.
    """
    async with _repo_merge_lock(plan):
        return await _merge_locked(plan, ctx, scope, custom)


@asynccontextmanager
async def _repo_merge_lock(plan: MergePlan) -> AsyncIterator[None]:
    path = lock_path(plan.lock_dir, f"merge-{repo_key(str(plan.repo))}")
    waited = 0.0
    while True:
        try:
            handle = acquire_lock(path, owner=f"merge of {plan.session_id}")
            break
        except LockedError:
            if waited >= _MERGE_LOCK_WAIT:
                raise
            await asyncio.sleep(0.2)
            waited += 0.2
    try:
        yield
    finally:
        handle.release()


async def _merge_locked(
    plan: MergePlan, ctx: StepContext, scope: Scope, custom: MergeConfig | None
) -> SessionMergeResult:
    if not await git.branch_exists(plan.repo, plan.target):
        return SessionMergeResult(False, f"target branch {plan.target} no longer exists")
    finished = await finish_interrupted_landing(plan)
    if finished is not None:
        return finished
    await discard_scratch(plan)  # an attempt stopped before it landed: merge from the start
    if await pending_commits(plan) == 0:
        return SessionMergeResult(True, f"no new commits to merge into {plan.target}", True)
    checkout = await target_checkout(plan)
    if checkout is not None and (busy := await busy_reason(checkout, "merge")):
        return SessionMergeResult(False, busy)
    if custom is None:
        return await default_merge(plan, ctx, checkout)
    outcome = await _custom_merge(plan, ctx, scope, custom)
    if outcome is not None:
        return outcome
    if not await git.is_ancestor(plan.repo, plan.branch, plan.target):
        return SessionMergeResult(False, custom_block_did_not_merge(plan), custom_unmerged=True)
    return SessionMergeResult(True, f"merged {plan.branch} into {plan.target}")


def custom_block_did_not_merge(plan: MergePlan) -> str:
    return (
        f"the workflow's merge: steps ran without error but did not merge {plan.branch}"
        f" into {plan.target}. A merge: block replaces prodigy's merge, so its steps must"
        " merge the branch themselves (for example"
        " `claude: /prodigy-merge-worktree ${merge.source_branch} ${merge.target_branch}`)"
    )


async def _custom_merge(
    plan: MergePlan, ctx: StepContext, scope: Scope, custom: MergeConfig
) -> SessionMergeResult | None:
    ctx.reporter.emit(Note("info", f"Running the workflow's merge steps for {plan.session_id}"))
    merge_scope = scope.with_values(merge_variables(plan))
    try:
        async with asyncio.timeout(custom.timeout):
            result = await run_sequence(custom.steps, merge_scope, ctx)
    except TimeoutError:
        return SessionMergeResult(False, f"merge steps did not finish within {custom.timeout} s")
    if not result.ok:
        assert result.failed is not None
        return SessionMergeResult(False, f"merge step failed: {result.failed.result.error}")
    return None


async def remove_session_worktree(plan: MergePlan) -> None:
    """The merged session's worktree and branch are no longer needed."""
    await remove_worktree(
        plan.repo, plan.worktree, delete_branch=True, force=True, branch=plan.branch
    )


def ask_to_merge(plan: MergePlan, read_line: ReadLine = input) -> bool:
    """`Merge session-x to main [Y/n]`: empty answer or end of input means yes (as prodigy)."""
    try:
        answer = str(read_line(f"Merge {plan.session_id} to {plan.target} [Y/n]: "))
    except EOFError:
        return True
    return answer.strip().lower() in {"", "y", "yes"}
