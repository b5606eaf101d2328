"""Waiting for child processes without a thread each (Python 3.11 on Linux).

Python 3.11's default child watcher starts a thread per subprocess to block in waitpid();
prodigy starts about ten git processes per work item, and the thread start and its lock
waits cost as much as the spawn itself (issue 18's profile: 1.1 s of lock waits for 2,400
spawns). A pidfd (Linux 5.3+) becomes readable when the process exits, so the event loop
waits for it like for a pipe. Python 3.12 does exactly this by default; this module is that
watcher for 3.11, used by whichever loop is running (any thread, any loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

ExitCallback = Callable[..., object]


class PidfdWatcher(asyncio.AbstractChildWatcher):
    """Python 3.12's PidfdChildWatcher: the running loop polls each child's pidfd."""

    def add_child_handler(self, pid: int, callback: ExitCallback, *args: Any) -> None:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        pidfd = os.pidfd_open(pid)
        loop._add_reader(pidfd, self._do_wait, pid, pidfd, callback, args)  # type: ignore[attr-defined]

    def _do_wait(self, pid: int, pidfd: int, callback: ExitCallback, args: tuple[Any, ...]) -> None:
        asyncio.get_running_loop()._remove_reader(pidfd)  # type: ignore[attr-defined]
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            returncode = 255  # reaped elsewhere; asyncio's watchers report the same
        else:
            returncode = os.waitstatus_to_exitcode(status)
        os.close(pidfd)
        callback(pid, returncode, *args)

    def remove_child_handler(self, pid: int) -> bool:
        # only asyncio's own bookkeeping calls this (never for a live process we wait on)
        return True

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        pass

    def close(self) -> None:
        pass

    def is_active(self) -> bool:
        return True

    def __enter__(self) -> PidfdWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def install() -> bool:
    """Use PidfdWatcher on Python 3.11 where the kernel has pidfds; True when installed."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return False  # 3.12 waits on pidfds already
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False  # an older kernel or a sandbox without the call: keep the threads
    with warnings.catch_warnings(), contextlib.suppress(NotImplementedError):
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_child_watcher(PidfdWatcher())
        return True
    return False
