"""Read-only, bounded queries for the dashboard (docs/dashboard.md).

The connection is opened with SQLite's `mode=ro` URI, so a bug here cannot write: SQLite
itself refuses. Every query has a LIMIT (or reads one row by key), so a job of a million
items or events costs the page no more than its bound. Rows come back as plain JSON-ready
dicts; JSON columns are decoded.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from prodigy.core.errors import StoreError
from prodigy.store.db import DB_NAME

# Upper bounds callers may ask for; larger requests are cut to these.
MAX_ROWS = 1000
MAX_EVENTS = 500
# How many of a job's newest events are scanned for each item's last activity.
ACTIVITY_WINDOW = 5000

Row = dict[str, Any]

# Named columns, never `*`: the sealed copies of secrets (sealed_* BLOBs) and the stored
# workflow text and options are never read by the dashboard.
_JOB_COLUMNS = ", ".join(
    f"j.{c}"
    for c in ("id", "session_id", "phase", "status", "parent_branch", "total_items",
              "created_at", "updated_at", "finished_at", "error")
)  # fmt: skip
_SESSION_COLUMNS = (
    "id", "repo_key", "workflow_path", "workflow_hash", "status", "mode", "worktree_path",
    "branch", "target_branch", "started_at", "updated_at", "finished_at", "error",
    "iteration", "job_id",
)  # fmt: skip


def _bound(limit: int, ceiling: int = MAX_ROWS) -> int:
    return max(1, min(int(limit), ceiling))


def _decode(row: sqlite3.Row, *json_columns: str) -> Row:
    out = dict(row)
    for name in json_columns:
        if name in out and isinstance(out[name], str):
            # an undecodable value is shown as stored text: one odd row must not fail a page
            with contextlib.suppress(ValueError):
                out[name] = json.loads(out[name])
    return out


class ReadOnlyStore:
    """One read-only connection to `<home>/prodigy.db`; `open_readonly` makes one."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._columns: dict[str, frozenset[str]] = {}

    # --- plumbing --------------------------------------------------------------------------
    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: could not read: {exc}") from exc

    def columns(self, table: str) -> frozenset[str]:
        """The table's column names: later schema versions add some (e.g. pause_reason)."""
        if table not in self._columns:
            rows = self._rows("SELECT name FROM pragma_table_info(?)", (table,))
            self._columns[table] = frozenset(r["name"] for r in rows)
        return self._columns[table]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ReadOnlyStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- jobs ------------------------------------------------------------------------------
    def _job_sql(self) -> str:
        # pause_reason/resume_at come with the budget/quota pause; older stores lack them
        pause = (
            ", s.pause_reason, s.resume_at"
            if {"pause_reason", "resume_at"} <= self.columns("sessions")
            else ""
        )
        columns = _JOB_COLUMNS + ", s.workflow_path, s.repo_key, s.status AS session_status" + pause
        return (
            f"SELECT {columns},"  # noqa: S608 - constant text only
            " (SELECT COUNT(*) FROM dlq d WHERE d.job_id = j.id) AS dlq_count,"
            " (SELECT TOTAL(cost_usd) FROM usage u WHERE u.job_id = j.id) AS cost_usd,"
            " (SELECT ts FROM events e WHERE e.job_id = j.id ORDER BY seq DESC LIMIT 1)"
            "   AS last_event_at"
            " FROM jobs j JOIN sessions s ON s.id = j.session_id"
        )

    def jobs(self, limit: int = 100) -> list[Row]:
        """The newest jobs with their DLQ count, cost and last event time."""
        rows = self._rows(
            self._job_sql() + " ORDER BY j.created_at DESC, j.id DESC LIMIT ?", (_bound(limit),)
        )
        jobs = [dict(r) for r in rows]
        counts = self.item_counts([j["id"] for j in jobs])
        for job in jobs:
            job["item_counts"] = counts.get(job["id"], {})
        return jobs

    def job(self, job_id: str) -> Row | None:
        rows = self._rows(self._job_sql() + " WHERE j.id = ?", (job_id,))
        if not rows:
            return None
        job = dict(rows[0])
        job["item_counts"] = self.item_counts([job_id]).get(job_id, {})
        return job

    def item_counts(self, job_ids: list[str]) -> dict[str, dict[str, int]]:
        """Items per state for each job (the states present only)."""
        if not job_ids:
            return {}
        marks = ", ".join("?" * len(job_ids))
        rows = self._rows(
            f"SELECT job_id, state, COUNT(*) AS n FROM items WHERE job_id IN ({marks})"  # noqa: S608
            " GROUP BY job_id, state",
            job_ids,
        )
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["job_id"], {})[r["state"]] = r["n"]
        return out

    # --- items -----------------------------------------------------------------------------
    def items(self, job_id: str, limit: int = 500) -> list[Row]:
        """A job's items in input order, each with its cost so far."""
        rows = self._rows(
            "SELECT i.job_id, i.item_id, i.idx, i.state, i.attempts, i.agent_branch,"
            " i.agent_worktree, i.error, i.merge_commit, i.created_at, i.updated_at,"
            " i.started_at, i.finished_at, COALESCE(u.cost_usd, 0) AS cost_usd"
            " FROM items i LEFT JOIN (SELECT item_id, TOTAL(cost_usd) AS cost_usd FROM usage"
            "   WHERE job_id = ? GROUP BY item_id) u ON u.item_id = i.item_id"
            " WHERE i.job_id = ? ORDER BY i.idx LIMIT ?",
            (job_id, job_id, _bound(limit)),
        )
        return [dict(r) for r in rows]

    def item_activity(self, job_id: str) -> dict[str, str]:
        """Each item's newest event time, from the job's newest ACTIVITY_WINDOW events."""
        rows = self._rows(
            "SELECT json_extract(payload, '$.item_id') AS item_id, MAX(ts) AS ts FROM"
            " (SELECT payload, ts FROM events WHERE job_id = ? ORDER BY seq DESC LIMIT ?)"
            " GROUP BY 1",
            (job_id, ACTIVITY_WINDOW),
        )
        return {str(r["item_id"]): r["ts"] for r in rows if r["item_id"] is not None}

    # --- events ----------------------------------------------------------------------------
    def events_after(self, *, job_id: str | None, after_seq: int, limit: int = 200) -> list[Row]:
        """Events appended after `after_seq`, oldest first (the SSE stream's next batch)."""
        where, params = "seq > ?", list[Any]([after_seq])
        if job_id is not None:
            where, params = "job_id = ? AND seq > ?", [job_id, after_seq]
        rows = self._rows(
            f"SELECT * FROM events WHERE {where} ORDER BY seq LIMIT ?",  # noqa: S608
            [*params, _bound(limit, MAX_EVENTS)],
        )
        return [_decode(r, "payload") for r in rows]

    def recent_events(self, *, job_id: str | None, limit: int = 100) -> list[Row]:
        """The newest events, returned oldest first."""
        where, params = ("WHERE job_id = ?", [job_id]) if job_id is not None else ("", [])
        rows = self._rows(
            f"SELECT * FROM events {where} ORDER BY seq DESC LIMIT ?",  # noqa: S608
            [*params, _bound(limit, MAX_EVENTS)],
        )
        return [_decode(r, "payload") for r in reversed(rows)]

    def event_seq(self, event_id: str) -> int | None:
        """The position of the event with this id (UUID), or None if there is none."""
        rows = self._rows("SELECT seq FROM events WHERE id = ?", (event_id,))
        return int(rows[0]["seq"]) if rows else None

    def last_seq(self, *, job_id: str | None = None) -> int:
        if job_id is None:
            rows = self._rows("SELECT COALESCE(MAX(seq), 0) AS seq FROM events")
        else:
            rows = self._rows(
                "SELECT seq FROM events WHERE job_id = ? ORDER BY seq DESC LIMIT 1", (job_id,)
            )
        return int(rows[0]["seq"]) if rows else 0

    # --- DLQ -------------------------------------------------------------------------------
    def dlq(self, *, job_id: str | None = None, limit: int = 500) -> list[Row]:
        """Dead-lettered items, most recent failure first."""
        where, params = ("WHERE job_id = ?", [job_id]) if job_id is not None else ("", [])
        rows = self._rows(
            f"SELECT * FROM dlq {where}"  # noqa: S608
            " ORDER BY last_attempt DESC, job_id, item_id LIMIT ?",
            [*params, _bound(limit)],
        )
        return [_decode(r, "item_data", "failure_history", "worktree_artifacts") for r in rows]

    # --- sessions --------------------------------------------------------------------------
    def _session_columns(self) -> str:
        pause = [c for c in ("pause_reason", "resume_at") if c in self.columns("sessions")]
        return ", ".join(f"s.{c}" for c in (*_SESSION_COLUMNS, *pause))

    def sessions(self, limit: int = 100) -> list[Row]:
        """The newest sessions with their cost; without the stored workflow text."""
        rows = self._rows(
            f"SELECT {self._session_columns()}, (SELECT TOTAL(cost_usd) FROM usage u"  # noqa: S608
            " WHERE u.session_id = s.id) AS cost_usd FROM sessions s"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT ?",
            (_bound(limit),),
        )
        return [dict(r) for r in rows]

    def session(self, session_id: str) -> Row | None:
        rows = self._rows(
            f"SELECT {self._session_columns()}, (SELECT TOTAL(cost_usd) FROM usage u"  # noqa: S608
            " WHERE u.session_id = s.id) AS cost_usd FROM sessions s WHERE s.id = ?",
            (session_id,),
        )
        return dict(rows[0]) if rows else None

    def steps(self, session_id: str, limit: int = 200) -> list[Row]:
        rows = self._rows(
            "SELECT * FROM steps WHERE session_id = ? ORDER BY iteration, step_index LIMIT ?",
            (session_id, _bound(limit)),
        )
        return [_decode(r, "captured") for r in rows]

    def usage(self, session_id: str, limit: int = 200) -> list[Row]:
        """The session's agent steps (tokens, cost, log path), oldest first."""
        rows = self._rows(
            "SELECT * FROM usage WHERE session_id = ? ORDER BY id LIMIT ?",
            (session_id, _bound(limit)),
        )
        return [dict(r) for r in rows]

    def repo_path(self, repo_key: str) -> str | None:
        rows = self._rows("SELECT path FROM repositories WHERE key = ?", (repo_key,))
        return str(rows[0]["path"]) if rows else None


def open_readonly(home: Path, *, busy_timeout_s: float = 5.0) -> ReadOnlyStore | None:
    """A read-only view of `<home>/prodigy.db`, or None when there is no database yet.

    Never creates, migrates or repairs the file: that is for the commands that write.
    """
    path = home / DB_NAME
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=busy_timeout_s,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open read-only: {exc}") from exc
    conn.row_factory = sqlite3.Row
    return ReadOnlyStore(conn, path)
