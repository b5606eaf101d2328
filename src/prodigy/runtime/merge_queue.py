"""Merging agent branches into the parent worktree, one at a time, each with its item trailer.

A merge counts only when git proves it landed: HEAD is a merge commit whose second parent is
the branch's tip (a clean merge), or the branch is in HEAD's history (`merge-base
--is-ancestor`) with no conflict markers in what changed (a resolution by the agent). On a
conflict the merge is aborted, the session's agent gets one try in the parent with its merge
prompt (`/prodigy-merge-worktree <branch>` for claude and scripted), and if that does not
land the branch either, the parent is put back exactly where it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from prodigy.core.agent_result import AgentResult
from prodigy.core.errors import GitError
from prodigy.core.usage import Usage
from prodigy.runtime import git
from prodigy.runtime.agents.base import Agent, AgentRequest


@dataclass(frozen=True, slots=True)
class MergeRequest:
    job_id: str
    item_id: str
    branch: str
    bundle: str | None = None  # a git bundle to fetch `branch` from first (a remote agent's)


@dataclass(frozen=True, slots=True)
class BranchMergeResult:
    merged: bool
    commit: str | None = None  # the parent's HEAD after the merge
    conflicted_paths: tuple[str, ...] = ()
    used_claude: bool = False
    error: str | None = None
    usage: Usage = field(default_factory=Usage)  # of the agent that resolved a conflict
    log_path: str | None = None  # its log


def trailer(job_id: str, item_id: str) -> str:
    return f"{git.ITEM_TRAILER}: {job_id}/{item_id}"


def merge_message(request: MergeRequest) -> str:
    """`Merge agent <branch>` plus the trailer that makes landing exactly-once."""
    return (
        f"Merge agent {request.branch} ({request.item_id})\n\n"
        f"{trailer(request.job_id, request.item_id)}\n"
    )


class MergeQueue:
    """Serializes merges into one parent worktree; `waiting` is the queue length."""

    def __init__(
        self,
        parent: Path,
        agent: Agent,
        env: Mapping[str, str],
        log_dir: Path,
        *,
        timeout: float | None = None,
    ) -> None:
        self.parent = parent
        self.agent = agent
        self.env = env
        self.log_dir = log_dir
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self.waiting = 0
        # The parent's HEAD as the last clean merge left it; None: ask git. During the map
        # phase only this queue moves the parent, so each agent start needs no `rev-parse`.
        self._head: str | None = None
        self._merges = 0  # started so far: a HEAD read across a merge's start is not kept

    async def parent_head(self) -> str:
        """The parent's HEAD, where the next agent starts from."""
        if self._head is not None:
            return self._head
        merges = self._merges
        head = await git.head_sha(self.parent)
        if merges == self._merges and not self._lock.locked():
            self._head = head
        return head

    async def merge(self, request: MergeRequest) -> BranchMergeResult:
        """Merge `request.branch` into the parent once every earlier request is done."""
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1
        try:
            return await self._merge(request)
        finally:
            self._lock.release()

    async def _merge(self, request: MergeRequest) -> BranchMergeResult:
        self._head = None  # until this merge is known to have left it somewhere
        self._merges += 1
        await git.abort_merge(self.parent)  # a crashed earlier merge must not be committed
        if request.bundle is not None:
            try:
                await _fetch_bundle(self.parent, request.bundle, request.branch)
            except GitError as exc:
                return BranchMergeResult(False, error=f"cannot read the agent's bundle: {exc}")
        try:
            outcome = await git.merge_no_ff(self.parent, request.branch, merge_message(request))
        except GitError as exc:
            return BranchMergeResult(False, error=f"git merge refused: {exc}")
        if outcome.ok:
            # git merged without a conflict, so it wrote no conflict markers: proof that it
            # landed is HEAD's second parent being the branch's tip (one `rev-parse`)
            commit = await _clean_merge_commit(self.parent, request.branch)
            if commit is not None:
                self._head = commit
                return BranchMergeResult(True, commit=commit)
            return BranchMergeResult(False)
        conflicts = outcome.conflicted_paths
        await git.abort_merge(self.parent)
        # `merge --abort` put HEAD and the tracked files back as they were before the merge
        before = await git.head_sha(self.parent)
        was_dirty = await git.is_dirty(self.parent, include_untracked=False)
        helped = await self._ask_agent(request)
        await git.abort_merge(self.parent)
        spent = {"usage": helped.usage, "log_path": str(helped.log_path or "") or None}
        if helped.success:
            landed = await self._verified(request, before, used_claude=True, conflicts=conflicts)
            if landed.merged:
                return replace(landed, **spent)  # type: ignore[arg-type]
        await self._restore(before, was_dirty=was_dirty)
        paths = ", ".join(conflicts)
        return BranchMergeResult(
            False,
            **spent,  # type: ignore[arg-type]
            conflicted_paths=conflicts,
            used_claude=True,
            error=(
                f"merge conflict in {paths} merging {request.branch}; "
                f"the {self.agent.name} agent ({self.agent.merge_prompt(request.branch)})"
                " could not resolve it, the merge was aborted"
            ),
        )

    async def _ask_agent(self, request: MergeRequest) -> AgentResult:
        return await self.agent.run(
            AgentRequest(
                prompt=self.agent.merge_prompt(request.branch),
                cwd=self.parent,
                env=self.env,
                timeout=self.timeout,
                log_path=self.log_dir / f"merge-{request.item_id}.jsonl",
                label=f"merge {request.item_id}",
            )
        )

    async def _verified(
        self,
        request: MergeRequest,
        before: str,
        *,
        used_claude: bool,
        conflicts: tuple[str, ...] = (),
    ) -> BranchMergeResult:
        """Landed means: the branch is in HEAD's history, HEAD moved, no conflict markers."""
        head = await git.head_sha(self.parent)
        if head == before or not await git.is_ancestor(self.parent, request.branch, head):
            return BranchMergeResult(False, conflicted_paths=conflicts, used_claude=used_claude)
        if await _has_markers(self.parent, before, head):
            return BranchMergeResult(False, conflicted_paths=conflicts, used_claude=used_claude)
        if used_claude and trailer(request.job_id, request.item_id) not in await _message(
            self.parent
        ):
            # the agent wrote its own message; the trailer is what resume trusts, so add it.
            await git.git(
                self.parent,
                "commit",
                "--amend",
                "--no-edit",
                "--no-verify",
                "--trailer",
                trailer(request.job_id, request.item_id),
            )
            head = await git.head_sha(self.parent)
        return BranchMergeResult(
            True, commit=head, conflicted_paths=conflicts, used_claude=used_claude
        )

    async def _restore(self, before: str, *, was_dirty: bool) -> None:
        """Put the parent back at `before`: undo a wrong merge commit, and leftovers of the
        attempt in files, unless the tree already had changes (setup's, which we keep)."""
        moved = await git.head_sha(self.parent) != before
        if was_dirty:
            if moved:  # --merge keeps changes the merge did not touch
                await git.git(self.parent, "reset", "--merge", "--quiet", before)
        elif moved or await git.is_dirty(self.parent, include_untracked=False):
            await git.git(self.parent, "reset", "--hard", "--quiet", before)


async def _fetch_bundle(repo: Path, bundle: str, branch: str) -> None:
    """The branch a remote agent shipped as a bundle, as a local branch of the repository."""
    await git.git(repo, "bundle", "verify", "--quiet", bundle)
    await git.git(repo, "fetch", "--quiet", bundle, f"+refs/heads/{branch}:refs/heads/{branch}")


async def _clean_merge_commit(repo: Path, branch: str) -> str | None:
    """HEAD when it is a merge commit whose second parent is `branch`'s tip, else None."""
    # agent branch names never start with "-" (git refuses such branch names)
    result = await git.git(repo, "rev-parse", "HEAD", "HEAD^2", f"{branch}^{{commit}}", check=False)
    names = result.stdout.split()
    if not result.ok or len(names) != 3:
        return None
    head, second, tip = names
    return head if second == tip else None


async def _message(repo: Path) -> str:
    return (await git.git(repo, "log", "-1", "--format=%B")).stdout


async def _has_markers(repo: Path, before: str, head: str) -> bool:
    """Whether the merge left `<<<<<<<` conflict markers in the files it changed."""
    result = await git.git(
        repo, "diff", "-G", "^(<<<<<<<|>>>>>>>) ", "--name-only", before, head, check=False
    )
    return bool(result.stdout.strip())
