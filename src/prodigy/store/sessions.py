"""Sessions: one row per `prodigy run`, with its status transitions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping

from prodigy.core.errors import StoreError
from prodigy.core.records import RUN_TRANSITIONS, IllegalTransitionError, RunStatus, SessionRecord
from prodigy.store.db import Db


class Sessions:
    def __init__(self, db: Db) -> None:
        self._db = db

    def create(
        self,
        *,
        session_id: str,
        repo_key: str,
        workflow_path: str,
        workflow_hash: str,
        mode: str = "standard",
        worktree_path: str | None = None,
        branch: str | None = None,
        target_branch: str | None = None,
        job_id: str | None = None,
        options: Mapping[str, object] | None = None,
        workflow_text: str | None = None,
    ) -> SessionRecord:
        """A new session in status `running`."""
        now = self._db.now()
        shown, sealed = self._db.json_sealed(dict(options or {}), _context(session_id))
        with self._db.transaction() as conn:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
                raise StoreError(f"{self._db.path}: session {session_id} already exists")
            conn.execute(
                "INSERT INTO sessions (id, repo_key, workflow_path, workflow_hash, status, mode,"
                " worktree_path, branch, target_branch, started_at, updated_at, job_id,"
                " options, sealed_options, workflow_text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id, repo_key, workflow_path, workflow_hash, RunStatus.RUNNING, mode,
                    worktree_path, branch, target_branch, now, now, job_id,
                    shown, sealed, self._db.text(workflow_text),
                ),
            )  # fmt: skip
        return self.require(session_id)

    def get(self, session_id: str) -> SessionRecord | None:
        rows = self._db.query("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return _record(rows[0]) if rows else None

    def run_options(self, session_id: str) -> dict[str, object]:
        """The run's options with their real values (unsealed: `--args` may hold a secret),
        to run the session again; never show them."""
        rows = self._db.query(
            "SELECT options, sealed_options FROM sessions WHERE id = ?", (session_id,)
        )
        if not rows:
            self.require(session_id)
        return dict(
            self._db.unsealed_json(
                rows[0]["options"],
                rows[0]["sealed_options"],
                _context(session_id),
                f"the options of {session_id}",
            )
        )

    def set_run_options(self, session_id: str, options: Mapping[str, object]) -> None:
        """Replace the run's options (a resume raised its budget: later resumes keep it)."""
        shown, sealed = self._db.json_sealed(dict(options), _context(session_id))
        with self._db.transaction() as conn:
            self.require(session_id)
            conn.execute(
                "UPDATE sessions SET options = ?, sealed_options = ?, updated_at = ? WHERE id = ?",
                (shown, sealed, self._db.now(), session_id),
            )

    def require(self, session_id: str) -> SessionRecord:
        found = self.get(session_id)
        if found is None:
            raise StoreError(
                f"no session {session_id} in {self._db.path}; `prodigy sessions list` shows them"
            )
        return found

    def find(self, *, repo_key: str | None = None, limit: int | None = None) -> list[SessionRecord]:
        """Newest first."""
        sql = "SELECT * FROM sessions"
        params: tuple[object, ...] = ()
        if repo_key is not None:
            sql, params = sql + " WHERE repo_key = ?", (repo_key,)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql, params = sql + " LIMIT ?", (*params, limit)
        return [_record(r) for r in self._db.query(sql, params)]

    def set_status(
        self, session_id: str, status: RunStatus, *, error: str | None = None
    ) -> SessionRecord:
        """Moves the session along RUN_TRANSITIONS; terminal states set `finished_at`."""
        now = self._db.now()
        with self._db.transaction() as conn:
            current = self.require(session_id).status
            if status not in RUN_TRANSITIONS[current]:
                raise IllegalTransitionError(
                    f"session {session_id}: cannot go from {current} to {status}"
                )
            finished = None if status in (RunStatus.RUNNING, RunStatus.PAUSED) else now
            conn.execute(
                "UPDATE sessions SET status = ?, error = ?, updated_at = ?, finished_at = ?,"
                " pause_reason = NULL, resume_at = NULL WHERE id = ?",
                (status, self._db.text(error), now, finished, session_id),
            )
        return self.require(session_id)

    def set_error(self, session_id: str, error: str | None) -> SessionRecord:
        """Sets (or clears) the error of a session whatever its status: a completed
        session whose merge back failed keeps its status and says why it is unmerged."""
        with self._db.transaction() as conn:
            self.require(session_id)
            conn.execute(
                "UPDATE sessions SET error = ?, updated_at = ? WHERE id = ?",
                (self._db.text(error), self._db.now(), session_id),
            )
        return self.require(session_id)

    def pause(
        self, session_id: str, reason: str, *, resume_at: str | None = None, note: str | None = None
    ) -> SessionRecord:
        """Paused by its budget or by a usage limit (reason "budget" or "quota"); a quota
        pause says when the limit resets. Pausing a paused session updates both."""
        now = self._db.now()
        with self._db.transaction() as conn:
            current = self.require(session_id).status
            if current is not RunStatus.PAUSED and RunStatus.PAUSED not in RUN_TRANSITIONS[current]:
                raise IllegalTransitionError(
                    f"session {session_id}: cannot go from {current} to paused"
                )
            conn.execute(
                "UPDATE sessions SET status = ?, pause_reason = ?, resume_at = ?, error = ?,"
                " updated_at = ?, finished_at = NULL WHERE id = ?",
                (RunStatus.PAUSED, reason, resume_at, self._db.text(note), now, session_id),
            )
        return self.require(session_id)

    def update(
        self,
        session_id: str,
        *,
        worktree_path: str | None = None,
        branch: str | None = None,
        target_branch: str | None = None,
        iteration: int | None = None,
        job_id: str | None = None,
    ) -> SessionRecord:
        """Sets the given fields; None leaves a field as it is."""
        fields = {
            "worktree_path": worktree_path,
            "branch": branch,
            "target_branch": target_branch,
            "iteration": iteration,
            "job_id": job_id,
        }
        changes = {name: value for name, value in fields.items() if value is not None}
        with self._db.transaction() as conn:
            self.require(session_id)
            assignments = "".join(f"{name} = ?, " for name in changes)
            conn.execute(
                f"UPDATE sessions SET {assignments}updated_at = ? WHERE id = ?",  # noqa: S608 - column names are constants, values are parameters
                (*changes.values(), self._db.now(), session_id),
            )
        return self.require(session_id)

    def delete(self, session_id: str) -> bool:
        """Removes a session with its steps, checkpoints, usage, jobs and items (not its DLQ)."""
        with self._db.transaction() as conn:
            cursor = conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cursor.rowcount > 0


def _context(session_id: str) -> str:
    return f"sessions.options:{session_id}"


def _record(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        repo_key=row["repo_key"],
        workflow_path=row["workflow_path"],
        workflow_hash=row["workflow_hash"],
        status=RunStatus(row["status"]),
        mode=row["mode"],
        worktree_path=row["worktree_path"],
        branch=row["branch"],
        target_branch=row["target_branch"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        error=row["error"],
        iteration=row["iteration"],
        job_id=row["job_id"],
        options=json.loads(row["options"]),
        workflow_text=row["workflow_text"],
        pause_reason=row["pause_reason"],
        resume_at=row["resume_at"],
    )
