"""The default merge back: computed in a scratch worktree, landed on the user's branch at once.

The user's checkout never holds a half-done merge. prodigy merges the session branch into a
scratch branch `prodigy-merge-<session>` that starts at the target's tip, in its own worktree
next to the session's (a conflict goes to Claude's /prodigy-merge-worktree there). Only the
finished merge commit reaches the target: one `git update-ref` guarded by the old tip, then
the checkout that has the target checked out follows with a two-tree `read-tree -m -u`. That
pair runs shielded from Ctrl-C; a SIGKILL between the two is repaired by the next attempt
(resume or `prodigy worktree merge`), which finds the scratch branch equal to the target and
brings the checkout along. The scratch branch is deleted last, so it is the record.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from prodigy.app.session.merge_plan import MergePlan, SessionMergeResult
from prodigy.core.errors import GitError
from prodigy.core.progress import Note
from prodigy.runtime import git
from prodigy.runtime.agents.base import AgentRequest
from prodigy.runtime.branch_move import branch_tip, checkout_blocker, follow_branch, move_branch
from prodigy.runtime.checkout_state import busy_reason
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.tally import add_usage
from prodigy.runtime.worktrees import create_worktree, list_worktrees, remove_worktree

SCRATCH_PREFIX = "prodigy-merge-"  # + session id: the branch a merge is computed on


def scratch(plan: MergePlan) -> tuple[Path, str]:
    """Where the merge is computed: a worktree beside the session's, and its branch."""
    return plan.worktree.with_name(f"merge-{plan.session_id}"), SCRATCH_PREFIX + plan.session_id


async def target_checkout(plan: MergePlan) -> Path | None:
    """The worktree that has the target branch checked out (None: the ref alone moves)."""
    for info in await list_worktrees(plan.repo):
        if info.branch == plan.target:
            return info.path
    return None


async def discard_scratch(plan: MergePlan) -> None:
    path, branch = scratch(plan)
    await remove_worktree(plan.repo, path, delete_branch=True, force=True, branch=branch)


async def finish_interrupted_landing(plan: MergePlan) -> SessionMergeResult | None:
    """An earlier attempt moved the target but died before the checkout followed: finish it.

    None when there is nothing of the kind (the caller then merges from the start).
    """
    _, branch = scratch(plan)
    tip = await branch_tip(plan.repo, branch)
    if tip is None or tip != await branch_tip(plan.repo, plan.target):
        return None
    # a scratch branch still at the target's tip holds no merge yet (stopped before it)
    if not await git.is_ancestor(plan.repo, plan.branch, tip):
        return None
    old = (await git.git(plan.repo, "rev-parse", f"{tip}^1")).stdout.strip()
    checkout = await target_checkout(plan)
    if checkout is not None:
        try:
            await follow_branch(checkout, old, tip)
        except GitError as exc:
            return SessionMergeResult(
                False,
                f"{plan.target} already has the merge ({tip[:12]}), but {checkout} could not be"
                f" brought up to date: {exc}",
            )
    await discard_scratch(plan)
    return SessionMergeResult(
        True, f"finished the interrupted merge of {plan.branch} into {plan.target}"
    )


async def default_merge(
    plan: MergePlan, ctx: StepContext, checkout: Path | None
) -> SessionMergeResult:
    """Merge the session branch into the target as described above; never leaves a merge
    in progress anywhere, and leaves the target untouched unless the merge landed whole."""
    old = await branch_tip(plan.repo, plan.target)
    if old is None:
        return SessionMergeResult(False, f"target branch {plan.target} no longer exists")
    path, branch = scratch(plan)
    await discard_scratch(plan)  # a stale one from an attempt that was stopped
    await create_worktree(plan.repo, path, branch, old)
    try:
        merged = await _merge_in_scratch(plan, ctx, path, branch, old)
        if isinstance(merged, SessionMergeResult):
            return merged
        # checked again: the user may have started something while the merge was computed
        if checkout is not None and (busy := await busy_reason(checkout, "merge")):
            return SessionMergeResult(False, busy)
        if checkout is not None and (why := await checkout_blocker(checkout, old, merged)):
            return SessionMergeResult(
                False,
                f"{checkout} has local changes the merge would overwrite; commit or stash"
                f" them, then merge again:\n{why}",
            )
        try:
            await _land_shielded(plan, checkout, old, merged)
        except GitError as exc:
            return SessionMergeResult(False, f"{plan.target} was left as it was: {exc}")
        return SessionMergeResult(True, f"merged {plan.branch} into {plan.target}")
    finally:
        with contextlib.suppress(GitError):
            await discard_scratch(plan)


async def _merge_in_scratch(
    plan: MergePlan, ctx: StepContext, path: Path, branch: str, old: str
) -> str | SessionMergeResult:
    """The merge commit (parents: old target tip, session tip), or why there is none."""
    message = f"Merge {plan.session_id} into {plan.target}"
    try:
        outcome = await git.merge_no_ff(path, plan.branch, message)
    except GitError as exc:
        return SessionMergeResult(False, f"git merge refused: {exc}")
    if not outcome.ok:
        await git.abort_merge(path)  # prodigy's own merge, in prodigy's own worktree
        conflicts = ", ".join(outcome.conflicted_paths)
        ctx.reporter.emit(
            Note("warn", f"merge conflict in {conflicts}; asking Claude (/prodigy-merge-worktree)")
        )
        result = await ctx.agent.run(
            AgentRequest(
                prompt=ctx.agent.merge_prompt(plan.branch, branch),
                cwd=path,
                env=ctx.env,
                log_path=ctx.log_path("merge"),
                label="merge",
                mask=ctx.masker.text,
            )
        )
        add_usage(result.usage)  # the merge's usage record (merge_and_clean) and budget
        if ctx.spend is not None:
            ctx.spend.charge(result.usage)
        if not result.success:
            return SessionMergeResult(
                False, f"conflict in {conflicts}; Claude merge failed: {result.error_message}"
            )
        if await git.is_merge_in_progress(path) or await git.is_dirty(path):
            return SessionMergeResult(
                False, f"conflict in {conflicts}; Claude left the merge unfinished"
            )
    tip = await branch_tip(plan.repo, branch)
    source = await branch_tip(plan.repo, plan.branch)
    if tip is None or source is None or not await git.is_ancestor(plan.repo, source, tip):
        return SessionMergeResult(False, f"{plan.branch} is not merged into {branch}")
    if not await git.is_ancestor(plan.repo, old, tip):
        return SessionMergeResult(False, f"the merge in {path} does not build on {plan.target}")
    if outcome.ok:
        return tip
    # Claude may have committed in several steps: land one merge commit with its tree.
    commit = await git.git(
        plan.repo, "commit-tree", f"{tip}^{{tree}}", "-p", old, "-p", source, "-m", message
    )
    merged = commit.stdout.strip()
    await git.git(plan.repo, "update-ref", f"refs/heads/{branch}", merged, tip)
    return merged


async def _land_shielded(plan: MergePlan, checkout: Path | None, old: str, new: str) -> None:
    """Move the target and its checkout; a Ctrl-C meanwhile waits for both (milliseconds)."""
    landing = asyncio.ensure_future(_land(plan, checkout, old, new))
    try:
        await asyncio.shield(landing)
    except asyncio.CancelledError:
        with contextlib.suppress(GitError):
            await landing
        raise


async def _land(plan: MergePlan, checkout: Path | None, old: str, new: str) -> None:
    await move_branch(plan.repo, plan.target, new, old, f"prodigy: merge {plan.session_id}")
    crash_point("after-branch-move")
    if checkout is None:
        return
    try:
        await follow_branch(checkout, old, new)
    except GitError:
        # the checkout must not stay behind its branch: put the branch back
        await move_branch(plan.repo, plan.target, old, new, f"prodigy: undo {plan.session_id}")
        raise
