"""Kernel locks (flock): one writer per session or job; a dead holder frees it automatically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from prodigy.core.errors import LockedError, StoreError, UsageError

# Lock names become file names, so they are checked, never escaped (no `..`, no `/`).
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class UnsafeLockNameError(UsageError):
    """A session or job id that cannot be used as a file name."""


@dataclass(frozen=True, slots=True)
class HolderInfo:
    """What the holder wrote into the lock file; for messages only, never for decisions."""

    pid: int | None
    host: str | None
    started: str | None
    owner: str | None

    def describe(self) -> str:
        parts = [f"pid {self.pid}" if self.pid is not None else "pid unknown"]
        if self.host:
            parts.append(f"on {self.host}")
        if self.started:
            parts.append(f"started {self.started}")
        return ", ".join(parts)


def lock_path(lock_dir: Path, name: str) -> Path:
    """`lock_dir/<name>.lock` after checking that `name` is a plain, safe file name."""
    if not _SAFE_NAME.fullmatch(name):
        raise UnsafeLockNameError(
            f"invalid id {name!r}: use letters, digits, '.', '_' and '-' "
            "(at most 128, starting with a letter or digit)"
        )
    return lock_dir / f"{name}.lock"


class LockHandle:
    """A held lock; release() (or leaving the `with` block) gives it up."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            # Empty the file before unlocking so no reader sees our details after we are gone;
            # the file itself stays: unlinking a lock file lets two processes lock two inodes.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> LockHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def acquire_lock(path: Path, *, owner: str, subject: str | None = None) -> LockHandle:
    """Take the lock at `path` now or raise LockedError naming the live holder.

    `owner` describes us to later readers (e.g. "prodigy run session-x"); `subject` names
    what is locked in the error message (default: the file's stem).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # a read-only PRODIGY_HOME, say
        raise StoreError(
            f"{path}: cannot create the lock file ({exc.strerror}); this command needs a "
            "writable PRODIGY_HOME"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = read_holder(path)
        what = subject or path.stem
        raise LockedError(
            f"{what} is locked by a running prodigy ({holder.describe()}); "
            "wait for it to finish or stop it"
            + (f" (kill {holder.pid})" if holder.pid is not None else "")
        ) from None
    except BaseException:
        os.close(fd)
        raise
    _write_holder(fd, owner)
    return LockHandle(path, fd)


def _write_holder(fd: int, owner: str) -> None:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "owner": owner,
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)


def read_holder(path: Path) -> HolderInfo:
    """The details in a lock file; empty, partial or foreign content gives unknowns."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")

    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) else None

    return HolderInfo(
        pid=pid if isinstance(pid, int) else None,
        host=text("host"),
        started=text("started"),
        owner=text("owner"),
    )


def holder(path: Path) -> HolderInfo | None:
    """Who holds the lock at `path` right now, or None when it is free (or does not exist)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing drops our probe lock if we got it
    return None


class FileLock:
    """`with FileLock(path, owner=...) as handle:` - acquire_lock as a context manager."""

    def __init__(self, path: Path, *, owner: str, subject: str | None = None) -> None:
        self.path = path
        self.owner = owner
        self.subject = subject
        self._handle: LockHandle | None = None

    def __enter__(self) -> LockHandle:
        self._handle = acquire_lock(self.path, owner=self.owner, subject=self.subject)
        return self._handle

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.release()
            self._handle = None
