"""Git worktrees: create with full clean-up on failure, remove idempotently, find orphans."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.runtime import git as g

# `git worktree add/remove` and branch deletion race on .git/config.lock and the worktree
# admin directory when run in parallel (docs/reliability.md), so one process runs them
# one at a time per repository. Other processes on the same repository are rare and retried.
_REPO_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_ADD_ATTEMPTS = 3
_TRANSIENT = ("could not lock config file", ".lock': File exists", "Unable to create")


@dataclass(frozen=True, slots=True)
class Worktree:
    repo: Path
    path: Path
    branch: str
    base_sha: str


@dataclass(frozen=True, slots=True)
class WorktreeInfo:
    path: Path
    head: str | None = None
    branch: str | None = None  # short name; None when detached or bare
    bare: bool = False
    detached: bool = False
    locked: str | None = None  # the lock reason ("" when locked without one)
    prunable: str | None = None  # why git would prune it (e.g. its directory is gone)


@dataclass(frozen=True, slots=True)
class Orphans:
    branches: tuple[str, ...] = ()  # prefixed branches checked out nowhere
    unknown_dirs: tuple[Path, ...] = ()  # directories under root that git does not know
    stale_locks: tuple[Path, ...] = ()  # index.lock files older than the age limit
    merges_in_progress: tuple[Path, ...] = ()  # worktrees with MERGE_HEAD
    prunable: tuple[WorktreeInfo, ...] = ()  # registered worktrees under root, dir missing

    def __bool__(self) -> bool:
        return any(
            (
                self.branches,
                self.unknown_dirs,
                self.stale_locks,
                self.merges_in_progress,
                self.prunable,
            )
        )


def _repo_lock(common: Path) -> asyncio.Lock:
    # Per event loop: an asyncio.Lock is bound to the loop that first waited on it.
    per_loop = _REPO_LOCKS.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(str(common), asyncio.Lock())


class BranchExistsError(GitError):
    """`create_worktree` was asked for a new branch that already exists (nothing was made)."""


async def create_worktree(repo: Path, path: Path, branch: str, start: str) -> Worktree:
    """`git worktree add -b branch path start`; on failure nothing it made is left behind.

    An existing `branch` is refused (BranchExistsError) and left alone: `worktree add -b`
    says so itself, so it is not looked up first.
    """
    path = path.resolve()
    # a full object name needs no `rev-parse`: `worktree add` refuses one that is no commit
    base_sha = start if _FULL_SHA.fullmatch(start) else await _commit_of(repo, start)
    path_existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    async with _repo_lock(await g.common_dir(repo)):
        for attempt in range(1, _ADD_ATTEMPTS + 1):
            result = await g.git(
                repo,
                "worktree",
                "add",
                "--no-track",
                "-b",
                branch,
                str(path),
                base_sha,
                check=False,
            )
            if result.ok:
                return Worktree(repo=repo, path=path, branch=branch, base_sha=base_sha)
            if f"a branch named '{branch}' already exists" in result.stderr:
                # git checked the branch before making anything; the branch is not ours
                raise BranchExistsError(
                    f"cannot create worktree {path}: branch {branch!r} already exists; "
                    f"remove it (`git branch -D {branch}`) or use `prodigy worktree clean`"
                )
            await _undo_add(repo, path, branch, remove_dir=not path_existed)
            if attempt == _ADD_ATTEMPTS or not any(t in result.stderr for t in _TRANSIENT):
                break
            await asyncio.sleep(0.1 * attempt)
    raise GitError(
        f"cannot create worktree {path} on new branch {branch!r} from {start}:\n{result.tail()}"
    )


_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


async def _commit_of(repo: Path, start: str) -> str:
    commit = f"{start}^{{commit}}"
    result = await g.git(repo, "rev-parse", "--verify", "--quiet", commit, check=False)
    if not result.ok:
        raise GitError(
            f"cannot create a worktree from {start!r}: not a commit in {repo}\n{result.tail()}"
        )
    return result.stdout.strip()


async def _undo_add(repo: Path, path: Path, branch: str, *, remove_dir: bool) -> None:
    """Remove whatever a failed `worktree add` left: registration, admin dir, branch, dir."""
    if any(info.path.resolve() == path for info in await list_worktrees(repo)):
        await g.git(repo, "worktree", "remove", "--force", "--force", str(path), check=False)
    admin = await g.common_dir(repo) / "worktrees"
    for gitdir in admin.glob("*/gitdir") if admin.is_dir() else ():
        with contextlib.suppress(OSError):
            if Path(gitdir.read_text().strip()).resolve() == path / ".git":
                shutil.rmtree(gitdir.parent, ignore_errors=True)
    await g.git(repo, "worktree", "prune", check=False)
    await g.delete_branch(repo, branch, force=True)
    if remove_dir:
        shutil.rmtree(path, ignore_errors=True)


async def remove_worktree(
    repo: Path,
    path: Path,
    *,
    delete_branch: bool,
    force: bool,
    branch: str | None = None,
) -> None:
    """Remove the worktree at `path` (and its branch); already gone is fine.

    Without force, git refuses a worktree with local changes. `branch` names the branch to
    delete when the worktree is already gone; otherwise it is read from git.
    """
    path = path.resolve()
    async with _repo_lock(await g.common_dir(repo)):
        if (branch or not delete_branch) and await _remove_known(repo, path, force=force):
            # one `worktree remove` did it: no listing, and nothing left for a prune
            if delete_branch and branch:
                await g.delete_branch(repo, branch, force=True)
            return
        # listed under the lock: a `worktree add` running next to it is read half written
        info = next((w for w in await list_worktrees(repo) if w.path.resolve() == path), None)
        branch = branch or (info.branch if info else None)
        if info is not None and info.prunable is None:
            args = ["worktree", "remove", *(["--force", "--force"] if force else []), str(path)]
            result = await g.git(repo, *args, check=False)
            if not result.ok:
                raise GitError(
                    f"cannot remove worktree {path}:\n{result.tail()}\n"
                    "Commit or discard its changes, or remove it with force "
                    "(`prodigy worktree clean --force`)."
                )
        await g.git(repo, "worktree", "prune")
        if force and _looks_like_worktree(path):
            shutil.rmtree(path, ignore_errors=True)
        if delete_branch and branch:
            await g.delete_branch(repo, branch, force=True)


async def _remove_known(repo: Path, path: Path, *, force: bool) -> bool:
    """The common case in one process: `path` is a live linked worktree (its `.git` file
    names an admin directory that names it back), and `git worktree remove` succeeds.
    False: anything else, for the careful path to list, remove and prune."""
    own = g.own_git_dir(path)
    if own is None or own == path / ".git":
        return False
    try:
        registered = Path((own / "gitdir").read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return False
    if registered != path / ".git":
        return False
    args = ["worktree", "remove", *(["--force", "--force"] if force else []), str(path)]
    return (await g.git(repo, *args, check=False)).ok


def _looks_like_worktree(path: Path) -> bool:
    # Only delete a directory git abandoned (a `.git` file) or an empty one, never user data.
    return path.is_dir() and ((path / ".git").is_file() or not any(path.iterdir()))


async def list_worktrees(repo: Path) -> list[WorktreeInfo]:
    for attempt in range(1, _ADD_ATTEMPTS + 1):
        result = await g.git(repo, "worktree", "list", "--porcelain", "-z", check=False)
        # another process's `worktree add` in progress leaves an entry half written for
        # a moment ("failed to read .git/worktrees/<name>/commondir"): read again
        if result.ok or "failed to read" not in result.stderr or attempt == _ADD_ATTEMPTS:
            break
        await asyncio.sleep(0.1 * attempt)
    if not result.ok:
        await g.git(repo, "worktree", "list", "--porcelain", "-z")  # raises with the output
    out = result.stdout
    return [_parse_entry(block) for block in out.split("\0\0") if block.strip("\0")]


def _parse_entry(block: str) -> WorktreeInfo:
    fields: dict[str, str | None] = {}
    for line in block.strip("\0").split("\0"):
        name, _, value = line.partition(" ")
        fields[name] = value if _ else None
    branch = fields.get("branch")
    return WorktreeInfo(
        path=Path(fields.get("worktree") or ""),
        head=fields.get("HEAD"),
        branch=branch.removeprefix("refs/heads/") if branch else None,
        bare="bare" in fields,
        detached="detached" in fields,
        locked=(fields["locked"] or "") if "locked" in fields else None,
        prunable=(fields["prunable"] or "") if "prunable" in fields else None,
    )


async def find_orphans(
    repo: Path,
    root: Path,
    branch_prefix: str = "prodigy-",
    *,
    lock_age: float = 60.0,
) -> Orphans:
    """What prodigy left behind under `root` and in branches named `branch_prefix*`."""
    root = root.resolve()
    worktrees = await list_worktrees(repo)
    checked_out = {w.branch for w in worktrees if w.branch}
    refs = await g.git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
    ours = [w for w in worktrees if w.path.resolve().is_relative_to(root)]
    live = [w for w in ours if w.prunable is None and w.path.is_dir()]
    return Orphans(
        branches=tuple(
            b for b in refs.stdout.split() if b.startswith(branch_prefix) and b not in checked_out
        ),
        unknown_dirs=_unknown_dirs(root, [w.path.resolve() for w in ours]),
        stale_locks=tuple(await _stale_locks(live, lock_age)),
        merges_in_progress=tuple([w.path for w in live if await g.is_merge_in_progress(w.path)]),
        prunable=tuple(w for w in ours if w.prunable is not None),
    )


def _unknown_dirs(root: Path, known: list[Path]) -> tuple[Path, ...]:
    if not root.is_dir():
        return ()
    return tuple(
        sorted(
            child
            for child in root.iterdir()
            if child.is_dir()
            and not child.name.startswith(".")
            and not any(k == child or k.is_relative_to(child) for k in known)
        )
    )


async def _stale_locks(worktrees: list[WorktreeInfo], lock_age: float) -> list[Path]:
    now = time.time()
    found = []
    for info in worktrees:
        lock = await g.git_path(info.path, "index.lock")
        with contextlib.suppress(FileNotFoundError):
            if now - lock.stat().st_mtime >= lock_age:
                found.append(lock)
    return found


@contextlib.asynccontextmanager
async def worktree(
    repo: Path,
    path: Path,
    branch: str,
    start: str,
    *,
    delete_branch_on_failure: bool = True,
) -> AsyncIterator[Worktree]:
    """A new worktree that is removed (with its branch) if the body raises or is cancelled."""
    created = await create_worktree(repo, path, branch, start)
    try:
        yield created
    except BaseException:
        await remove_worktree(
            repo, created.path, delete_branch=delete_branch_on_failure, force=True, branch=branch
        )
        raise
