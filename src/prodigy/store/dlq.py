"""Dead-lettered items: storage only (analysis lives in core). One row per job and item."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from prodigy.core.records import DlqRecord
from prodigy.store.db import Db


class Dlq:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add_failure(
        self,
        *,
        job_id: str,
        item_id: str,
        item_data: Any,
        failure: Mapping[str, Any],
        error_signature: str,
        worktree_artifacts: Mapping[str, Any] | None = None,
        reprocess_eligible: bool = False,
        manual_review_required: bool = False,
    ) -> DlqRecord:
        """Dead-letters an item, or records one more failure of an item already there.

        A repeat failure appends `failure` to the history (never duplicates the item), bumps
        failure_count and last_attempt, and takes the newest signature, artifacts and flags.
        """
        now = self._db.now()
        entry = self._db.json([failure])
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO dlq (job_id, item_id, item_data, first_attempt, last_attempt,"
                " failure_count, failure_history, error_signature, worktree_artifacts,"
                " reprocess_eligible, manual_review_required)"
                " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)"
                " ON CONFLICT(job_id, item_id) DO UPDATE SET"
                " last_attempt = excluded.last_attempt,"
                " failure_count = failure_count + 1,"
                " failure_history = json_insert(failure_history, '$[#]',"
                "   json_extract(excluded.failure_history, '$[0]')),"
                " error_signature = excluded.error_signature,"
                " worktree_artifacts = excluded.worktree_artifacts,"
                " reprocess_eligible = excluded.reprocess_eligible,"
                " manual_review_required = excluded.manual_review_required",
                (
                    job_id, item_id, self._db.json(item_data), now, now, entry,
                    self._db.text(error_signature), self._db.json(worktree_artifacts),
                    int(reprocess_eligible), int(manual_review_required),
                ),
            )  # fmt: skip
        found = self.get(job_id, item_id)
        assert found is not None
        return found

    def get(self, job_id: str, item_id: str) -> DlqRecord | None:
        rows = self._db.query(
            "SELECT * FROM dlq WHERE job_id = ? AND item_id = ?", (job_id, item_id)
        )
        return _record(rows[0]) if rows else None

    def find(
        self,
        *,
        job_id: str | None = None,
        eligible_only: bool = False,
        limit: int | None = None,
    ) -> list[DlqRecord]:
        """Most recent failure first."""
        clauses, params = [], []
        if job_id is not None:
            clauses.append("job_id = ?")
            params.append(job_id)
        if eligible_only:
            clauses.append("reprocess_eligible = 1")
        sql = "SELECT * FROM dlq"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY last_attempt DESC, job_id, item_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(str(limit))
        return [_record(r) for r in self._db.query(sql, tuple(params))]

    def find_histories(self, *, job_id: str | None = None) -> list[DlqRecord]:
        """Like find(), most recent failure first, for listings and the analysis: every
        field but `item_data` and `worktree_artifacts`, which are not read (None). Decoding
        them was two thirds of the JSON work of `dlq list` at 10,000 items."""
        sql = (
            "SELECT job_id, item_id, first_attempt, last_attempt, failure_count,"
            " failure_history, error_signature, reprocess_eligible, manual_review_required"
            " FROM dlq"
        )
        where, params = _job_filter(job_id)
        rows = self._db.query(sql + where + " ORDER BY last_attempt DESC, job_id, item_id", params)
        return [
            DlqRecord(
                job_id=row[0],
                item_id=row[1],
                item_data=None,
                first_attempt=row[2],
                last_attempt=row[3],
                failure_count=row[4],
                failure_history=tuple(json.loads(row[5])),
                error_signature=row[6],
                worktree_artifacts=None,
                reprocess_eligible=bool(row[7]),
                manual_review_required=bool(row[8]),
            )
            for row in rows
        ]

    def count(self, job_id: str) -> int:
        """How many items of a job are in the DLQ: one row the triggers of migration 8 keep."""
        rows = self._db.query("SELECT size FROM dlq_sizes WHERE job_id = ?", (job_id,))
        return int(rows[0]["size"]) if rows else 0

    def signature_groups(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Per error signature: count, eligible, manual_review, oldest first_attempt and
        newest last_attempt, aggregated in SQL (no item's JSON columns are read)."""
        select = (
            "SELECT error_signature AS signature, COUNT(*) AS count,"
            " SUM(reprocess_eligible) AS eligible, SUM(manual_review_required) AS manual_review,"
            " MIN(first_attempt) AS oldest, MAX(last_attempt) AS newest FROM dlq"
        )
        where, params = _job_filter(job_id)
        rows = self._db.query(select + where + " GROUP BY error_signature", params)
        return [dict(row) for row in rows]

    def signature_samples(self, job_id: str | None, per_signature: int) -> dict[str, list[str]]:
        """The first `per_signature` item ids of each signature, oldest first attempt first."""
        where, params = _job_filter(job_id)
        rows = self._db.query(
            "SELECT error_signature, item_id FROM (SELECT error_signature, item_id,"  # noqa: S608
            " ROW_NUMBER() OVER (PARTITION BY error_signature"
            "   ORDER BY first_attempt, job_id, item_id) AS n"
            f" FROM dlq{where}) WHERE n <= ? ORDER BY error_signature, n",
            (*params, per_signature),
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(row[1])
        return found

    def error_type_counts(self, job_id: str | None) -> list[tuple[Any, int]]:
        """Every attempt's `error_type` (decoded) with how many attempts had it, summed in
        SQL over the histories; only the distinct types are decoded here."""
        where, params = _job_filter(job_id)
        rows = self._db.query(
            "SELECT json_extract(h.value, '$.error_type'),"  # noqa: S608 - constant text
            " json_type(h.value, '$.error_type'), COUNT(*)"
            f" FROM dlq, json_each(dlq.failure_history) AS h{where}"
            " GROUP BY 1, 2",
            params,
        )
        return [(_json_value(row[0], row[1]), int(row[2])) for row in rows]

    def hour_counts(self, job_id: str | None) -> list[tuple[str, int]]:
        """Items per hour of their last attempt (`YYYY-MM-DDTHH`)."""
        where, params = _job_filter(job_id)
        rows = self._db.query(
            f"SELECT substr(last_attempt, 1, 13), COUNT(*) FROM dlq{where} GROUP BY 1",  # noqa: S608
            params,
        )
        return [(row[0], int(row[1])) for row in rows]

    def failure_counts(self, job_id: str) -> dict[str, int]:
        """Item id -> failures so far, for the job's dead-lettered items (no JSON decoded)."""
        rows = self._db.query("SELECT item_id, failure_count FROM dlq WHERE job_id = ?", (job_id,))
        return {row["item_id"]: int(row["failure_count"]) for row in rows}

    def job_ids(self) -> list[str]:
        rows = self._db.query("SELECT DISTINCT job_id FROM dlq ORDER BY job_id")
        return [row["job_id"] for row in rows]

    def remove(self, job_id: str, item_id: str) -> bool:
        """Removes one item (after its retry succeeded); False if it was not there."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM dlq WHERE job_id = ? AND item_id = ?", (job_id, item_id)
            )
        return cursor.rowcount > 0

    def purge(self, *, older_than: str, job_id: str | None = None) -> int:
        """Removes items whose last attempt is before the RFC 3339 time; returns the count."""
        sql, params = "DELETE FROM dlq WHERE last_attempt < ?", [older_than]
        if job_id is not None:
            sql += " AND job_id = ?"
            params.append(job_id)
        with self._db.transaction() as conn:
            cursor = conn.execute(sql, tuple(params))
        return cursor.rowcount


def _record(row: sqlite3.Row) -> DlqRecord:
    return DlqRecord(
        job_id=row["job_id"],
        item_id=row["item_id"],
        item_data=json.loads(row["item_data"]),
        first_attempt=row["first_attempt"],
        last_attempt=row["last_attempt"],
        failure_count=row["failure_count"],
        failure_history=tuple(json.loads(row["failure_history"])),
        error_signature=row["error_signature"],
        worktree_artifacts=json.loads(row["worktree_artifacts"]),
        reprocess_eligible=bool(row["reprocess_eligible"]),
        manual_review_required=bool(row["manual_review_required"]),
    )


def _job_filter(job_id: str | None) -> tuple[str, tuple[str, ...]]:
    return ("", ()) if job_id is None else (" WHERE dlq.job_id = ?", (job_id,))


def _json_value(value: Any, kind: str | None) -> Any:
    """What json.loads gives for the value json_extract returned (SQL drops the JSON type)."""
    if kind in ("object", "array"):
        return json.loads(value)
    if kind in ("true", "false"):
        return kind == "true"
    return value
