"""What a crashed run leaves in git and in the process table, found and repaired safely.

Only provably safe cases are repaired: a merge left in progress is aborted (never
committed), an `index.lock` is removed only while no live git process works there, a
worktree git left locked as "initializing" is unlocked so it can be removed, and the
processes of the dead run (tagged PRODIGY_JOB_ID=<job>) are killed before new work starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.core.mapreduce.resume_plan import parse_landed
from prodigy.runtime import git
from prodigy.runtime.proc_table import live_processes

LIVE_LOCK_WAIT = 5.0  # seconds to wait for a live git process to let go of its lock


async def landed_items(parent: Path, job_id: str) -> dict[str, str]:
    """Item id -> merge commit for every `Prodigy-Item: <job>/<item>` on the parent's
    first-parent history: what git says has landed."""
    fmt = f"%H%x01%(trailers:key={git.ITEM_TRAILER},valueonly,separator=%x02)%x00"
    result = await git.git(parent, "log", "--first-parent", f"--format={fmt}", "HEAD", "--")
    return parse_landed(result.stdout, job_id)


async def abort_interrupted_merge(worktree: Path) -> str | None:
    """A merge the crash left half done is aborted; its branch is merged again later."""
    if await git.abort_merge(worktree):
        return f"aborted a merge left in progress in {worktree}"
    return None


def git_users(places: list[Path]) -> list[int]:
    """Live `git` processes whose working directory is inside one of `places`."""
    roots = [p.resolve() for p in places]
    return [
        p.pid
        for p in live_processes()
        if p.comm == "git" and p.cwd is not None and any(p.cwd.is_relative_to(r) for r in roots)
    ]


async def settle_git(repo: Path, places: list[Path], *, wait: float = LIVE_LOCK_WAIT) -> None:
    """Wait (bounded) for git processes still working in the repository: a SIGKILLed
    orchestrator's git children live in their own sessions and finish what they started
    (a `worktree add` half done); repairing under them would race them."""
    common = await git.common_dir(repo)
    deadline = time.monotonic() + wait
    # other processes' state cannot be awaited as an event, only polled
    while git_users([repo, common, *places]) and time.monotonic() < deadline:  # noqa: ASYNC110 - see above
        await asyncio.sleep(0.1)


async def clear_stale_locks(
    repo: Path, places: list[Path], *, wait: float = LIVE_LOCK_WAIT
) -> list[str]:
    """Remove the `*.lock` files a killed git left in the repository's git directory (index,
    refs, config, the linked worktrees' index) when no live git process works in the
    repository or in `places`. While one does, wait up to `wait` seconds for the locks to
    go; then GitError names the files and git's manual fix."""
    common = await git.common_dir(repo)
    deadline = time.monotonic() + wait
    while locks := _lock_files(common):
        users = git_users([repo, common, *places])
        if not users:
            for lock in locks:
                lock.unlink(missing_ok=True)
            return [f"removed the stale {lock} (no git process was using it)" for lock in locks]
        if time.monotonic() > deadline:
            shown = " ".join(str(lock) for lock in locks)
            raise GitError(
                f"{shown} held while git is running (pid {', '.join(map(str, users))}) in"
                f" {repo}; let it finish and try again. If no git process is running, remove"
                f" the lock by hand: rm {shown}"
            )
        await asyncio.sleep(0.1)
    return []


def _lock_files(common: Path) -> list[Path]:
    found = [p for p in common.glob("*.lock") if p.is_file()]
    found += [p for p in (common / "refs").rglob("*.lock") if p.is_file()]
    found += [p for p in common.glob("worktrees/*/*.lock") if p.is_file()]
    return sorted(found)


async def repair_worktree_admin(repo: Path, under: Path) -> list[str]:
    """Admin directories (`.git/worktrees/<name>`) that a killed `git worktree add` left.

    git writes `locked` ("initializing"), then gitdir, commondir and HEAD, checks out, and
    unlocks. Killed part way, the entry is locked, or so incomplete that every `git worktree`
    command fails. An incomplete entry for a worktree under `under` (or one that does not
    even say where its worktree is, while no git process runs in the repository) is
    removed; a complete one still locked as "initializing" is unlocked so it can be removed.
    """
    common = await git.common_dir(repo)
    admin = common / "worktrees"
    root = under.resolve()
    notes: list[str] = []
    for entry in sorted(admin.iterdir()) if admin.is_dir() else ():
        gitdir = _read(entry / "gitdir")
        target = Path(gitdir).parent if gitdir else None
        ours = target is not None and target.resolve().is_relative_to(root)
        complete = all(_read(entry / name) for name in ("gitdir", "commondir", "HEAD"))
        if not complete and (ours or (target is None and not git_users([repo, common]))):
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"removed the admin directory {entry} of a half-created worktree")
        elif ours and "initializing" in _read(entry / "locked"):
            (entry / "locked").unlink(missing_ok=True)
            notes.append(f"unlocked the half-created worktree {target}")
    await git.git(repo, "worktree", "prune", check=False)
    return notes


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def job_processes(job_id: str) -> list[int]:
    """Live processes carrying the job's tag (agents and their children)."""
    return tagged_processes("PRODIGY_JOB_ID", job_id)


def tagged_processes(name: str, value: str) -> list[int]:
    """Live processes whose environment has `name=value` (inherited by every descendant)."""
    return [p.pid for p in live_processes() if p.has_variable(f"{name}={value}")]


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


async def stop_job_processes(job_id: str, *, passes: int = 2) -> list[int]:
    """SIGKILL what a dead run of the job left running; repeat until `passes` sweeps in a row
    find nothing (a dying parent may start children in between). Returns the pids killed."""
    killed: list[int] = []
    quiet = 0
    for _ in range(100):  # bounded: a process we may not kill must not hang resume
        if quiet >= passes:
            break
        pids = job_processes(job_id)
        if not pids:
            quiet += 1
            await asyncio.sleep(0.05)
            continue
        quiet = 0
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        await asyncio.sleep(0.1)
    return killed
