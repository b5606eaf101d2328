"""Repositories, keyed by their resolved path (never by directory name alone)."""

from __future__ import annotations

import sqlite3

from prodigy.core.records import RepoRecord, repo_key
from prodigy.store.db import Db


class Repos:
    def __init__(self, db: Db) -> None:
        self._db = db

    def ensure(self, resolved_path: str) -> RepoRecord:
        """The record for this repository, created on first use."""
        key = repo_key(resolved_path)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO repositories (key, path, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO NOTHING",
                (key, resolved_path, self._db.now()),
            )
        found = self.get(key)
        assert found is not None
        return found

    def get(self, key: str) -> RepoRecord | None:
        rows = self._db.query("SELECT * FROM repositories WHERE key = ?", (key,))
        return _record(rows[0]) if rows else None

    def all(self) -> list[RepoRecord]:
        return [_record(r) for r in self._db.query("SELECT * FROM repositories ORDER BY key")]


def _record(row: sqlite3.Row) -> RepoRecord:
    return RepoRecord(key=row["key"], path=row["path"], created_at=row["created_at"])
