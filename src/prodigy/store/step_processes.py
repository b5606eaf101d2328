"""The process groups of running steps, recorded so a resume can stop what a crash left."""

from __future__ import annotations

from dataclasses import dataclass

from prodigy.store.db import Db


@dataclass(frozen=True, slots=True)
class StepProcess:
    marker: str  # PRODIGY_STEP_MARKER in the step's environment
    session_id: str
    pgid: int | None  # None: recorded before the spawn, the crash came before the pid
    start_ticks: int | None  # the leader's start time (clock ticks since boot)


class StepProcesses:
    def __init__(self, db: Db) -> None:
        self._db = db

    def starting(self, marker: str, session_id: str) -> None:
        """Before the spawn: a crash right after it still leaves the marker to search for."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO step_processes (marker, session_id, created_at) VALUES (?, ?, ?)",
                (marker, session_id, self._db.now()),
            )

    def spawned(self, marker: str, pgid: int, start_ticks: int | None) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE step_processes SET pgid = ?, start_ticks = ? WHERE marker = ?",
                (pgid, start_ticks, marker),
            )

    def ended(self, marker: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM step_processes WHERE marker = ?", (marker,))

    def for_session(self, session_id: str) -> list[StepProcess]:
        rows = self._db.query(
            "SELECT * FROM step_processes WHERE session_id = ? ORDER BY created_at",
            (session_id,),
        )
        return [
            StepProcess(r["marker"], r["session_id"], r["pgid"], r["start_ticks"]) for r in rows
        ]
