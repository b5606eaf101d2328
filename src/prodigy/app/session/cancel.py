"""Stopping a running session or MapReduce job from outside its terminal.

A run holds its session's lock file (runtime/locks.py), which names its pid. Cancelling
sends that process SIGTERM, the signal `kill PID` sends: its Ctrl-C handler (cli/asyncrun.py)
cancels the running steps, stops their process groups (SIGTERM, grace period, SIGKILL) and
records the session and its job as `interrupted`, so `prodigy resume-job JOB` (or `prodigy
resume SESSION`) continues it later. Nothing is lost or marked final.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from prodigy.app.session.state import live_holder
from prodigy.core.errors import ProdigyError, UsageError
from prodigy.runtime.locks import HolderInfo


class NotRunningError(UsageError):
    """The session has no live process to stop."""


def cancel_session(home: Path, session_id: str) -> HolderInfo:
    """SIGTERM the live process holding the session's lock; returns what the lock named."""
    holder = live_holder(home, session_id)
    if holder is None:
        raise NotRunningError(
            f"{session_id} is not running: no prodigy process holds its lock, nothing to cancel"
        )
    if holder.pid is None:
        raise ProdigyError(
            f"{session_id} is locked by a process that did not record its pid; stop it by hand"
        )
    if holder.host and holder.host != socket.gethostname():
        raise ProdigyError(f"{session_id} runs on host {holder.host}, not here; cancel it there")
    try:
        os.kill(holder.pid, signal.SIGTERM)
    except ProcessLookupError:
        raise NotRunningError(f"{session_id}: its process {holder.pid} just ended") from None
    return holder
