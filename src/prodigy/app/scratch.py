"""Sweeping sessions' scratch files (large values handed to steps, which can hold secrets).

Each step removes its own scratch directory when it ends; a SIGKILL cannot. So whoever
next owns the session (resume, resume-job, dlq retry) removes what a dead run left, and
`sessions clean` removes the scratch of every session no live process runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from prodigy.app.paths import scratch_dir
from prodigy.app.session.state import live_holder


def remove_scratch(home: Path, session_id: str) -> None:
    """The session's scratch directory; call only while holding the session's lock."""
    shutil.rmtree(scratch_dir(home, session_id), ignore_errors=True)


def sweep_scratch(home: Path) -> list[str]:
    """Scratch directories of sessions no live process holds; the session ids removed."""
    root = scratch_dir(home, "x").parent
    if not root.is_dir():
        return []
    removed = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and live_holder(home, entry.name) is None:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
