"""The paused ending of a run: the session is `paused` with its reason, exit code 75.

One place for every cause (a usage limit, a spent budget) and both run kinds (a MapReduce
job, a sequential session): the session stays resumable, `sessions ls` shows why and until
when, and the last line says what to run next (docs/budgets-and-quotas.md).
"""

from __future__ import annotations

from prodigy.core.errors import EXIT_PAUSED
from prodigy.core.pause import Pause
from prodigy.core.progress import Note, Reporter
from prodigy.store import Store


def end_paused(
    store: Store, session_id: str, pause: Pause, reporter: Reporter, *, what: str, command: str
) -> int:
    """Mark the session paused, say so with the command that continues it; EXIT_PAUSED."""
    persist_pause(store, session_id, pause)
    reporter.emit(Note("warn", pause.summary(what, command)))
    return EXIT_PAUSED


def persist_pause(store: Store, session_id: str, pause: Pause) -> None:
    """The session is paused for `pause.reason` until `pause.resume_at` (survives a crash)."""
    store.sessions.pause(
        session_id, pause.reason, resume_at=pause.resume_at_text, note=pause.detail or None
    )
