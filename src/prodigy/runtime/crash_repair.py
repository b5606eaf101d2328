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
import signal
import time
from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.core.resume_plan import parse_landed
from prodigy.runtime import git

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


def _processes() -> list[tuple[int, str, Path | None, bytes]]:
    """(pid, command name, cwd, environ) of the processes we may inspect."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state in {"Z", "X"}:
            continue
        cwd: Path | None = None
        environ = b""
        with contextlib.suppress(OSError):
            cwd = (entry / "cwd").readlink()
        with contextlib.suppress(OSError):
            environ = (entry / "environ").read_bytes()
        found.append((int(entry.name), comm, cwd, environ))
    return found


def git_users(places: list[Path]) -> list[int]:
    """Live `git` processes whose working directory is inside one of `places`."""
    roots = [p.resolve() for p in places]
    return [
        pid
        for pid, comm, cwd, _ in _processes()
        if comm == "git" and cwd is not None and any(cwd.is_relative_to(r) for r in roots)
    ]


async def clear_stale_index_lock(worktree: Path, *, wait: float = LIVE_LOCK_WAIT) -> str | None:
    """Remove `index.lock` of `worktree` when no live git works there; a live one gets
    `wait` seconds, then GitError names the file and git's manual fix."""
    lock = await git.git_path(worktree, "index.lock")
    deadline = time.monotonic() + wait
    while lock.exists():
        users = git_users([worktree, lock.parent])
        if not users:
            lock.unlink(missing_ok=True)
            return f"removed a stale {lock} (no git process was using it)"
        if time.monotonic() > deadline:
            raise GitError(
                f"{lock} is held by a running git process (pid {', '.join(map(str, users))})"
                f" in {worktree}; let it finish and try again. If no git process is running,"
                f" remove the lock by hand: rm {lock}"
            )
        await asyncio.sleep(0.1)
    return None


async def unlock_initializing(repo: Path, under: Path) -> list[str]:
    """Worktrees under `under` that `git worktree add` left locked as "initializing" (it was
    killed before finishing) are unlocked, so removal and prune can deal with them."""
    admin = await git.common_dir(repo) / "worktrees"
    notes: list[str] = []
    root = under.resolve()
    for locked in sorted(admin.glob("*/locked")) if admin.is_dir() else ():
        with contextlib.suppress(OSError):
            gitdir = Path((locked.parent / "gitdir").read_text().strip())
            if "initializing" in locked.read_text() and gitdir.parent.resolve().is_relative_to(
                root
            ):
                locked.unlink()
                notes.append(f"unlocked the half-created worktree {gitdir.parent}")
    await git.git(repo, "worktree", "prune", check=False)
    return notes


def job_processes(job_id: str) -> list[int]:
    """Live processes carrying the job's tag (agents and their children)."""
    tag = f"PRODIGY_JOB_ID={job_id}".encode()
    return [pid for pid, _, _, environ in _processes() if tag in environ.split(b"\0")]


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
