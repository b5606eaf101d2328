"""MapReduce jobs: phase, setup captures, parent HEAD after each merge, totals."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from prodigy.core.errors import StoreError
from prodigy.core.records import (
    RUN_TRANSITIONS,
    IllegalTransitionError,
    ItemState,
    JobPhase,
    JobRecord,
    RunStatus,
)
from prodigy.store.db import Db


class Jobs:
    def __init__(self, db: Db) -> None:
        self._db = db

    def create(
        self,
        *,
        job_id: str,
        session_id: str,
        parent_worktree: str | None = None,
        parent_branch: str | None = None,
        parent_head: str | None = None,
    ) -> JobRecord:
        """A new running job in the setup phase, linked from its session."""
        now = self._db.now()
        with self._db.transaction() as conn:
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone():
                raise StoreError(f"{self._db.path}: job {job_id} already exists")
            conn.execute(
                "INSERT INTO jobs (id, session_id, phase, status, setup_captures,"
                " parent_worktree, parent_branch, parent_head, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?)",
                (
                    job_id, session_id, JobPhase.SETUP, RunStatus.RUNNING, parent_worktree,
                    parent_branch, parent_head, now, now,
                ),
            )  # fmt: skip
            conn.execute(
                "UPDATE sessions SET job_id = ?, updated_at = ? WHERE id = ?",
                (job_id, now, session_id),
            )
        return self.require(job_id)

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._db.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _record(rows[0]) if rows else None

    def require(self, job_id: str) -> JobRecord:
        found = self.get(job_id)
        if found is None:
            raise StoreError(
                f"no MapReduce job {job_id} in {self._db.path}; `prodigy sessions list` shows "
                f"sessions and their job ids"
            )
        return found

    def find(self, *, session_id: str | None = None) -> list[JobRecord]:
        """Newest first."""
        if session_id is None:
            rows = self._db.query("SELECT * FROM jobs ORDER BY created_at DESC, id DESC")
        else:
            rows = self._db.query(
                "SELECT * FROM jobs WHERE session_id = ? ORDER BY created_at DESC", (session_id,)
            )
        return [_record(r) for r in rows]

    def set_phase(self, job_id: str, phase: JobPhase) -> JobRecord:
        return self._set(job_id, phase=str(phase))

    def set_setup_captures(self, job_id: str, captures: Mapping[str, Any]) -> JobRecord:
        text, sealed = self._db.json_sealed(dict(captures), _context(job_id))
        return self._set(job_id, setup_captures=text, sealed_setup_captures=sealed)

    def setup_captures(self, job_id: str) -> dict[str, Any]:
        """The setup captures with their real values (unsealed), for the agents and reduce
        of a resumed or retried job; never show them."""
        rows = self._db.query(
            "SELECT setup_captures, sealed_setup_captures FROM jobs WHERE id = ?", (job_id,)
        )
        if not rows:
            self.require(job_id)
        row = rows[0]
        return dict(
            self._db.unsealed_json(
                row["setup_captures"],
                row["sealed_setup_captures"],
                _context(job_id),
                f"a setup capture of {job_id}",
            )
        )

    def set_parent_head(self, job_id: str, head: str) -> JobRecord:
        """Records the parent worktree's HEAD after a merge landed."""
        return self._set(job_id, parent_head=head)

    def set_status(self, job_id: str, status: RunStatus, *, error: str | None = None) -> JobRecord:
        with self._db.transaction():
            current = self.require(job_id).status
            if status not in RUN_TRANSITIONS[current]:
                raise IllegalTransitionError(f"job {job_id}: cannot go from {current} to {status}")
            live = status in (RunStatus.RUNNING, RunStatus.PAUSED)
            finished = None if live else self._db.now()
            return self._set(
                job_id, status=str(status), error=self._db.text(error), finished_at=finished
            )

    def item_counts(self, job_id: str) -> dict[ItemState, int]:
        """How many items are in each state (every state present, zeros included)."""
        counts = dict.fromkeys(ItemState, 0)
        rows = self._db.query(
            "SELECT state, COUNT(*) AS n FROM items WHERE job_id = ? GROUP BY state", (job_id,)
        )
        for row in rows:
            counts[ItemState(row["state"])] = row["n"]
        return counts

    def _set(self, job_id: str, **columns: str | bytes | None) -> JobRecord:
        assignments = "".join(f"{name} = ?, " for name in columns)
        with self._db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {assignments}updated_at = ? WHERE id = ?",  # noqa: S608 - column names are constants, values are parameters
                (*columns.values(), self._db.now(), job_id),
            )
            if cursor.rowcount == 0:
                self.require(job_id)
        return self.require(job_id)


def _context(job_id: str) -> str:
    return f"jobs.setup_captures:{job_id}"


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        session_id=row["session_id"],
        phase=JobPhase(row["phase"]),
        status=RunStatus(row["status"]),
        setup_captures=json.loads(row["setup_captures"]),
        parent_worktree=row["parent_worktree"],
        parent_branch=row["parent_branch"],
        parent_head=row["parent_head"],
        total_items=row["total_items"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        error=row["error"],
    )
