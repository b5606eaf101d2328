"""Token and cost usage per agent step, rolled up per session, job and item."""

from __future__ import annotations

import sqlite3

from prodigy.core.records import UsageRecord
from prodigy.core.usage import Usage
from prodigy.store.db import Db

_COUNTS = (
    "duration_ms",
    "turns",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "reasoning_tokens",
)
# the weakest source wins a roll-up: unknown > estimated > reported (core.usage)
_SOURCE_RANK = (
    "MAX(CASE cost_source WHEN 'reported' THEN 1 WHEN 'estimated' THEN 2"
    " WHEN 'unknown' THEN 3 END) AS source_rank"
)
_SOURCES = {1: "reported", 2: "estimated", 3: "unknown"}
# built from the constant column names above, never from input
_SUMS = (
    "SELECT "  # noqa: S608 - constant column names
    + ", ".join(f"TOTAL({name}) AS {name}" for name in _COUNTS)
    + ", TOTAL(cost_usd) AS cost_usd, GROUP_CONCAT(DISTINCT model) AS models, "
    + _SOURCE_RANK
    + " FROM usage"
)


def insert_usage(db: Db, conn: sqlite3.Connection, record: UsageRecord) -> None:
    u = record.usage
    conn.execute(
        "INSERT INTO usage (session_id, job_id, item_id, step_id, duration_ms, turns,"
        " input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,"
        " cost_usd, model, claude_session_id, log_path, recorded_at, reasoning_tokens,"
        " cost_source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.session_id, record.job_id, record.item_id, db.text(record.step_id),
            u.duration_ms, u.turns, u.input_tokens, u.output_tokens,
            u.cache_creation_input_tokens, u.cache_read_input_tokens, u.cost_usd, u.model,
            record.claude_session_id, record.log_path, record.recorded_at or db.now(),
            u.reasoning_tokens, u.cost_source,
        ),
    )  # fmt: skip


class UsageLog:
    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, record: UsageRecord) -> None:
        with self._db.transaction() as conn:
            insert_usage(self._db, conn, record)

    def for_session(self, session_id: str) -> Usage:
        return self._total(" WHERE session_id = ?", (session_id,))

    def for_job(self, job_id: str) -> Usage:
        return self._total(" WHERE job_id = ?", (job_id,))

    def for_item(self, job_id: str, item_id: str) -> Usage:
        return self._total(" WHERE job_id = ? AND item_id = ?", (job_id, item_id))

    def per_item(self, job_id: str) -> dict[str, Usage]:
        """Cost and input/output tokens of each item of the job, all attempts together."""
        rows = self._db.query(
            "SELECT item_id, TOTAL(cost_usd) AS cost_usd, TOTAL(input_tokens) AS input_tokens,"
            " TOTAL(output_tokens) AS output_tokens FROM usage"
            " WHERE job_id = ? AND item_id IS NOT NULL GROUP BY item_id",
            (job_id,),
        )
        return {
            r["item_id"]: Usage(
                input_tokens=int(r["input_tokens"]),
                output_tokens=int(r["output_tokens"]),
                cost_usd=r["cost_usd"],
            )
            for r in rows
        }

    def entries(self, session_id: str) -> list[UsageRecord]:
        rows = self._db.query("SELECT * FROM usage WHERE session_id = ? ORDER BY id", (session_id,))
        return [_record(r) for r in rows]

    def _total(self, where: str, params: tuple[str, ...]) -> Usage:
        row = self._db.query(_SUMS + where, params)[0]
        models = sorted(set((row["models"] or "").split(",")) - {""})
        return Usage(
            **{name: int(row[name]) for name in _COUNTS},
            cost_usd=row["cost_usd"],
            model=",".join(models) or None,
            cost_source=_SOURCES.get(row["source_rank"]),  # type: ignore[arg-type]
        )


def _record(row: sqlite3.Row) -> UsageRecord:
    usage = Usage(
        **{name: row[name] for name in _COUNTS},
        cost_usd=row["cost_usd"],
        model=row["model"],
        cost_source=row["cost_source"],
    )
    return UsageRecord(
        session_id=row["session_id"],
        step_id=row["step_id"],
        usage=usage,
        job_id=row["job_id"],
        item_id=row["item_id"],
        claude_session_id=row["claude_session_id"],
        log_path=row["log_path"],
        recorded_at=row["recorded_at"],
    )
