"""The event log: append-only rows with a monotonic `seq`, queried by job, type and time."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from prodigy.core.records import EventRecord
from prodigy.store.db import Db


class StoredEvent(NamedTuple):
    """An event row as stored: the payload is its JSON text."""

    seq: int
    id: str
    ts: str
    job_id: str | None
    session_id: str | None
    agent_id: str | None
    event_type: str
    payload: str


class Events:
    def __init__(self, db: Db) -> None:
        self._db = db

    def append(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        job_id: str | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        event_id: str | None = None,
        ts: str | None = None,
    ) -> EventRecord:
        """Appends one event; the id is a new UUID4 and ts is now unless given."""
        row = (
            event_id or str(uuid.uuid4()), ts or self._db.now(), job_id, session_id, agent_id,
            event_type, self._db.json(payload),
        )  # fmt: skip
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (id, ts, job_id, session_id, agent_id, event_type, payload)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        seq = cursor.lastrowid
        assert seq is not None
        return _record_from(seq, row)

    def query(
        self,
        *,
        job_id: str | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        event_types: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        after_seq: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[EventRecord]:
        """Events matching every given filter, in append order (or newest first).

        `since`/`until` are RFC 3339 UTC strings compared as text (inclusive / exclusive);
        `after_seq` returns only events appended after that one (for `events follow`).
        """
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("job_id", job_id), ("session_id", session_id),
                              ("agent_id", agent_id)):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if event_types:
            clauses.append(f"event_type IN ({', '.join('?' * len(event_types))})")
            params.extend(event_types)
        bounds: tuple[tuple[str, object], ...] = (
            ("ts >= ?", since), ("ts < ?", until), ("seq > ?", after_seq),
        )  # fmt: skip
        for clause, bound in bounds:
            if bound is not None:
                clauses.append(clause)
                params.append(bound)
        sql = "SELECT * FROM events"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_record(r) for r in self._db.query(sql, tuple(params))]

    def agent_totals(self, job_id: str | None, types: Sequence[str]) -> dict[str, Any]:
        """Sums over the events of `types` in SQL, for `events stats` (no payload is decoded
        in Python): how many of each type, durations (`{"secs", "nanos"}`: count and total
        seconds) and the usage's tokens and cost."""
        marks = ", ".join("?" * len(types))
        where = f"event_type IN ({marks})"
        params: tuple[Any, ...] = tuple(types)
        if job_id is not None:
            where, params = f"job_id = ? AND {where}", (job_id, *params)
        # json_extract of a missing path is NULL, which COUNT and TOTAL skip
        secs = "json_extract(payload, '$.duration.secs')"
        sql = (
            "SELECT event_type, COUNT(*) AS n,"  # noqa: S608 - placeholders and constants only
            f" COUNT({secs}) AS timed,"
            f" TOTAL({secs} + COALESCE(json_extract(payload, '$.duration.nanos'), 0) / 1e9)"
            " AS seconds,"
            " TOTAL(json_extract(payload, '$.usage.input_tokens')) AS input_tokens,"
            " TOTAL(json_extract(payload, '$.usage.output_tokens')) AS output_tokens,"
            " TOTAL(json_extract(payload, '$.usage.cost_usd')) AS cost_usd"
            f" FROM events WHERE {where} GROUP BY event_type"
        )
        rows = self._db.query(sql, params)
        return {
            "counts": {row["event_type"]: row["n"] for row in rows},
            "timed": sum(row["timed"] for row in rows),
            "seconds": sum(row["seconds"] for row in rows),
            "input_tokens": int(sum(row["input_tokens"] for row in rows)),
            "output_tokens": int(sum(row["output_tokens"] for row in rows)),
            "cost_usd": sum(row["cost_usd"] for row in rows),
        }

    def stored(self, *, job_id: str | None = None, batch: int = 2000) -> Iterator[StoredEvent]:
        """Every event (of a job) oldest first with its payload as the stored JSON text,
        read in batches: for export, which writes that text as it is."""
        sql = "SELECT seq, id, ts, job_id, session_id, agent_id, event_type, payload FROM events"
        params: tuple[Any, ...] = ()
        if job_id is not None:
            sql, params = sql + " WHERE job_id = ?", (job_id,)
        last = 0
        while True:
            page = self._db.query(
                sql
                + (" AND" if job_id is not None else " WHERE")
                + " seq > ? ORDER BY seq LIMIT ?",
                (*params, last, batch),
            )
            for row in page:
                yield StoredEvent(*row)
            if len(page) < batch:
                return
            last = page[-1]["seq"]

    def count_by_type(self, *, job_id: str | None = None) -> dict[str, int]:
        sql, params = "SELECT event_type, COUNT(*) AS n FROM events", tuple[str, ...]()
        if job_id is not None:
            sql, params = sql + " WHERE job_id = ?", (job_id,)
        rows = self._db.query(sql + " GROUP BY event_type ORDER BY event_type", params)
        return {row["event_type"]: row["n"] for row in rows}

    def delete(self, *, before: str | None = None, job_id: str | None = None) -> int:
        """Removes matching events (`events clean`); returns the count."""
        clauses, params = ["1"], []
        if before is not None:
            clauses.append("ts < ?")
            params.append(before)
        if job_id is not None:
            clauses.append("job_id = ?")
            params.append(job_id)
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM events WHERE " + " AND ".join(clauses),  # noqa: S608 - clauses are constants, values are parameters
                tuple(params),
            )
        return cursor.rowcount


def _record(row: sqlite3.Row) -> EventRecord:
    return EventRecord(
        seq=row["seq"],
        id=row["id"],
        ts=row["ts"],
        job_id=row["job_id"],
        session_id=row["session_id"],
        agent_id=row["agent_id"],
        event_type=row["event_type"],
        payload=json.loads(row["payload"]),
    )


def _record_from(seq: int, row: tuple[Any, ...]) -> EventRecord:
    event_id, ts, job_id, session_id, agent_id, event_type, payload = row
    return EventRecord(
        seq=seq, id=event_id, ts=ts, job_id=job_id, session_id=session_id, agent_id=agent_id,
        event_type=event_type, payload=json.loads(payload),
    )  # fmt: skip
