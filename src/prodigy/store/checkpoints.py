"""Finished steps and checkpoints of sessions: the resume point, saved in one transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

from prodigy.core.records import Checkpoint, StepRecord, UsageRecord
from prodigy.store.db import Db
from prodigy.store.usage import insert_usage


class Checkpoints:
    def __init__(self, db: Db) -> None:
        self._db = db

    def save(
        self,
        checkpoint: Checkpoint,
        *,
        step: StepRecord | None = None,
        usage: UsageRecord | None = None,
    ) -> Checkpoint:
        """Records the finished step, its usage and the new resume point atomically."""
        now = self._db.now()
        variables, sealed = self._db.json_sealed(
            checkpoint.variables, _context(checkpoint.session_id)
        )
        with self._db.transaction() as conn:
            if step is not None:
                self._insert_step(conn, step)
            if usage is not None:
                insert_usage(self._db, conn, usage)
            cursor = conn.execute(
                "INSERT INTO checkpoints (session_id, iteration, next_step_index,"
                " completed_step_ids, variables, sealed_variables, git_head, workflow_hash,"
                " saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    checkpoint.session_id,
                    checkpoint.iteration,
                    checkpoint.next_step_index,
                    self._db.json(list(checkpoint.completed_step_ids)),
                    variables,
                    sealed,
                    checkpoint.git_head,
                    checkpoint.workflow_hash,
                    now,
                ),
            )
            conn.execute(
                "UPDATE sessions SET updated_at = ?, iteration = ? WHERE id = ?",
                (now, checkpoint.iteration, checkpoint.session_id),
            )
            seq = cursor.lastrowid
        assert seq is not None
        found = self.get(seq)
        assert found is not None
        return found

    def record_step(self, step: StepRecord) -> None:
        """Records a finished step without moving the resume point (e.g. a failed step)."""
        with self._db.transaction() as conn:
            self._insert_step(conn, step)

    def _insert_step(self, conn: sqlite3.Connection, step: StepRecord) -> None:
        # REPLACE: a resumed run may finish the same step again; the latest outcome wins.
        conn.execute(
            "INSERT OR REPLACE INTO steps (session_id, iteration, step_index, step_id, success,"
            " started_at, finished_at, output, error, captured)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                step.session_id,
                step.iteration,
                step.step_index,
                self._db.text(step.step_id),
                int(step.success),
                step.started_at,
                step.finished_at,
                self._db.text(step.output),
                self._db.text(step.error),
                self._db.json(step.captured),
            ),
        )

    def latest(self, session_id: str, *, unmasked: bool = False) -> Checkpoint | None:
        """The resume point. `unmasked`: variables with their real values (unsealed), for
        running again only; never show them."""
        rows = self._db.query(
            "SELECT * FROM checkpoints WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
            (session_id,),
        )
        return self._checkpoint(rows[0], unmasked) if rows else None

    def get(self, seq: int) -> Checkpoint | None:
        rows = self._db.query("SELECT * FROM checkpoints WHERE seq = ?", (seq,))
        return self._checkpoint(rows[0], False) if rows else None

    def history(self, session_id: str, *, unmasked: bool = False) -> list[Checkpoint]:
        """Oldest first; `unmasked` as for latest()."""
        rows = self._db.query(
            "SELECT * FROM checkpoints WHERE session_id = ? ORDER BY seq", (session_id,)
        )
        return [self._checkpoint(r, unmasked) for r in rows]

    def _checkpoint(self, row: sqlite3.Row, unmasked: bool) -> Checkpoint:
        found = _checkpoint(row)
        if not unmasked or row["sealed_variables"] is None:
            return found
        variables = self._db.unsealed_json(
            row["variables"],
            row["sealed_variables"],
            _context(found.session_id),
            f"a checkpoint of {found.session_id}",
        )
        return replace(found, variables=variables)

    def steps(self, session_id: str) -> list[StepRecord]:
        rows = self._db.query(
            "SELECT * FROM steps WHERE session_id = ? ORDER BY iteration, step_index",
            (session_id,),
        )
        return [_step(r) for r in rows]

    def delete(self, session_id: str) -> int:
        """Removes the session's checkpoints; returns how many there were."""
        with self._db.transaction() as conn:
            cursor = conn.execute("DELETE FROM checkpoints WHERE session_id = ?", (session_id,))
        return cursor.rowcount


def _context(session_id: str) -> str:
    return f"checkpoints.variables:{session_id}"


def _checkpoint(row: sqlite3.Row) -> Checkpoint:
    return Checkpoint(
        seq=row["seq"],
        session_id=row["session_id"],
        iteration=row["iteration"],
        next_step_index=row["next_step_index"],
        completed_step_ids=tuple(json.loads(row["completed_step_ids"])),
        variables=json.loads(row["variables"]),
        git_head=row["git_head"],
        workflow_hash=row["workflow_hash"],
        saved_at=row["saved_at"],
    )


def _step(row: sqlite3.Row) -> StepRecord:
    return StepRecord(
        session_id=row["session_id"],
        iteration=row["iteration"],
        step_index=row["step_index"],
        step_id=row["step_id"],
        success=bool(row["success"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        output=row["output"],
        error=row["error"],
        captured=json.loads(row["captured"]),
    )
