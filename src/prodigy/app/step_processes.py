"""Step processes recorded in the store while they run, and stopped on resume after a crash.

See prodigy.runtime.step_tracking: a SIGKILLed prodigy leaves its running step alive (it is
in its own process session); resume stops it (SIGTERM to the group, the grace period,
SIGKILL, and a wait until it is gone) before any step runs again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prodigy.core.progress import Note, Reporter
from prodigy.runtime.step_tracking import RecordedStep, stop_steps, tracking
from prodigy.store import Store


class StoreStepTracker:
    """Records each step process of one session in the store (one transaction each)."""

    def __init__(self, store: Store, session_id: str) -> None:
        self._store = store
        self._session_id = session_id

    def starting(self, marker: str) -> None:
        self._store.step_processes.starting(marker, self._session_id)

    def spawned(self, marker: str, pgid: int, start_ticks: int | None) -> None:
        self._store.step_processes.spawned(marker, pgid, start_ticks)

    def ended(self, marker: str) -> None:
        self._store.step_processes.ended(marker)


@contextmanager
def tracked_steps(store: Store, session_id: str) -> Iterator[None]:
    """Every step process started in this block is recorded for the session."""
    with tracking(StoreStepTracker(store, session_id)):
        yield


async def stop_left_steps(store: Store, session_id: str, reporter: Reporter, grace: float) -> None:
    """Stop the steps a dead run of the session left running, then forget them."""
    rows = store.step_processes.for_session(session_id)
    if not rows:
        return
    stopped = await stop_steps([RecordedStep(r.marker, r.pgid, r.start_ticks) for r in rows], grace)
    for row in rows:
        store.step_processes.ended(row.marker)
    if stopped:
        reporter.emit(
            Note("warn", f"stopped {len(stopped)} step process(es) left running by the dead run")
        )
