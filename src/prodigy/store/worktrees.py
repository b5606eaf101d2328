"""Records of the worktrees prodigy created, so `worktree ls/clean` can find them and orphans."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from prodigy.core.errors import StoreError
from prodigy.core.records import WorktreeRecord, WorktreeState
from prodigy.store.db import Db


class Worktrees:
    def __init__(self, db: Db) -> None:
        self._db = db

    def record(
        self,
        *,
        path: str,
        repo_key: str,
        branch: str,
        session_id: str | None = None,
        job_id: str | None = None,
        item_id: str | None = None,
    ) -> WorktreeRecord:
        """Records a new worktree as in_progress (a reused path starts over)."""
        now = self._db.now()
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO worktrees (path, repo_key, branch, state, session_id,"
                " job_id, item_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    path, repo_key, branch, WorktreeState.IN_PROGRESS, session_id, job_id,
                    item_id, now, now,
                ),
            )  # fmt: skip
        return self.require(path)

    def get(self, path: str) -> WorktreeRecord | None:
        rows = self._db.query("SELECT * FROM worktrees WHERE path = ?", (path,))
        return _record(rows[0]) if rows else None

    def require(self, path: str) -> WorktreeRecord:
        found = self.get(path)
        if found is None:
            raise StoreError(f"no worktree {path} recorded in {self._db.path}")
        return found

    def set_state(self, path: str, state: WorktreeState) -> WorktreeRecord:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE worktrees SET state = ?, updated_at = ? WHERE path = ?",
                (state, self._db.now(), path),
            )
            if cursor.rowcount == 0:
                self.require(path)
        return self.require(path)

    def find(
        self,
        *,
        repo_key: str | None = None,
        session_id: str | None = None,
        job_id: str | None = None,
        states: Sequence[WorktreeState] = (),
    ) -> list[WorktreeRecord]:
        """Oldest first."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("repo_key", repo_key), ("session_id", session_id),
                              ("job_id", job_id)):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if states:
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(str(s) for s in states)
        sql = "SELECT * FROM worktrees"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return [
            _record(r) for r in self._db.query(sql + " ORDER BY created_at, path", tuple(params))
        ]

    def forget(self, path: str) -> bool:
        """Drops the record once the worktree is gone from disk and git."""
        with self._db.transaction() as conn:
            cursor = conn.execute("DELETE FROM worktrees WHERE path = ?", (path,))
        return cursor.rowcount > 0


def _record(row: sqlite3.Row) -> WorktreeRecord:
    return WorktreeRecord(
        path=row["path"],
        repo_key=row["repo_key"],
        branch=row["branch"],
        state=WorktreeState(row["state"]),
        session_id=row["session_id"],
        job_id=row["job_id"],
        item_id=row["item_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
