"""Work items of a MapReduce job and their state machine; every transition is one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from prodigy.core.errors import StoreError
from prodigy.core.records import (
    IllegalTransitionError,
    ItemRecord,
    ItemState,
    item_can_be_reconciled,
    item_transition_allowed,
)
from prodigy.store.db import Db

_FINISHED = frozenset({ItemState.SUCCEEDED, ItemState.FAILED, ItemState.MERGED})


class Items:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, job_id: str, items: Sequence[tuple[str, Any]]) -> int:
        """Adds `(item_id, data)` pairs as pending, indexed in order after existing items.

        Ids already in the job are skipped, so adding the same input again on resume is
        harmless. Returns how many were added; the job's total_items is updated.
        """
        now = self._db.now()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM items WHERE job_id = ?", (job_id,)
            ).fetchone()
            next_index, added = row[0], 0
            for item_id, data in items:
                text, sealed = self._db.json_sealed(data, _context("data", job_id, item_id))
                cursor = conn.execute(
                    "INSERT INTO items (job_id, item_id, idx, data, sealed_data, state,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(job_id, item_id) DO NOTHING",
                    (job_id, item_id, next_index, text, sealed, ItemState.PENDING, now, now),
                )
                next_index += cursor.rowcount
                added += cursor.rowcount
            conn.execute(
                "UPDATE jobs SET total_items = (SELECT COUNT(*) FROM items WHERE job_id = ?),"
                " updated_at = ? WHERE id = ?",
                (job_id, now, job_id),
            )
        return added

    def get(self, job_id: str, item_id: str, *, unmasked: bool = False) -> ItemRecord | None:
        """`unmasked`: data and result with their real values (unsealed), for running the
        item again only; never show them."""
        rows = self._db.query(
            "SELECT * FROM items WHERE job_id = ? AND item_id = ?", (job_id, item_id)
        )
        return self._record(rows[0], unmasked) if rows else None

    def require(self, job_id: str, item_id: str) -> ItemRecord:
        found = self.get(job_id, item_id)
        if found is None:
            raise StoreError(f"job {job_id} has no work item {item_id!r} in {self._db.path}")
        return found

    def find(
        self,
        job_id: str,
        *,
        states: Sequence[ItemState] = (),
        unmasked: bool = False,
        payload: bool = True,
    ) -> list[ItemRecord]:
        """In input order; all states unless some are given; `unmasked` as for get().

        Without `payload`, `data` and `result` are None and not read: a resume plans from
        the states of every item, and decoding 10,000 results took it to 120 MB.
        """
        columns = "*" if payload else _NO_PAYLOAD
        sql = f"SELECT {columns} FROM items WHERE job_id = ?"  # noqa: S608 - constant columns
        in_states, params = _in_states(states)
        rows = self._db.query(sql + in_states + " ORDER BY idx", (job_id, *params))
        if not payload:
            return [_record(row, payload=False) for row in rows]
        return [self._record(r, unmasked) for r in rows]

    def data_of(self, job_id: str) -> list[Any]:
        """Every item's real data (unsealed), in input order, and nothing else: a resume of a
        10,000-item job read whole records (results too) for this several times."""
        rows = self._db.query(
            "SELECT item_id, data, sealed_data FROM items WHERE job_id = ? ORDER BY idx",
            (job_id,),
        )
        return [
            self._db.unsealed_json(
                row["data"],
                row["sealed_data"],
                _context("data", job_id, row["item_id"]),
                f"work item {row['item_id']} of {job_id}",
            )
            for row in rows
        ]

    def ids(self, job_id: str, *, states: Sequence[ItemState]) -> set[str]:
        """The ids of the job's items in these states."""
        in_states, params = _in_states(states)
        sql = "SELECT item_id FROM items WHERE job_id = ?" + in_states  # noqa: S608 - placeholders
        rows = self._db.query(sql, (job_id, *params))
        return {row["item_id"] for row in rows}

    def transition(
        self,
        job_id: str,
        item_id: str,
        target: ItemState,
        *,
        result: Any = None,
        error: str | None = None,
        agent_branch: str | None = None,
        agent_worktree: str | None = None,
        merge_commit: str | None = None,
    ) -> ItemRecord:
        """Moves one item along ITEM_TRANSITIONS, or raises IllegalTransitionError.

        Entering `running` counts an attempt and sets `started_at`; the given optional fields
        are stored, the others keep their values.
        """
        with self._db.transaction() as conn:
            current = self.require(job_id, item_id).state
            if not item_transition_allowed(current, target):
                raise IllegalTransitionError(
                    f"job {job_id} item {item_id!r}: cannot go from {current} to {target}"
                )
            sealed: dict[str, bytes | None] = {}
            if result is not None:
                text, sealed["sealed_result"] = self._db.json_sealed(
                    result, _context("result", job_id, item_id)
                )
            given = {
                "result": None if result is None else text,
                "error": self._db.text(error),
                "agent_branch": agent_branch,
                "agent_worktree": agent_worktree,
                "merge_commit": merge_commit,
            }
            self._write(conn, job_id, item_id, target, given, sealed=sealed)
        return self.require(job_id, item_id)

    def give_back(self, job_id: str, item_id: str) -> ItemRecord:
        """A running item goes back to pending and its attempt does not count: it was
        stopped by the account's usage limit, not by its own failure."""
        with self._db.transaction() as conn:
            current = self.require(job_id, item_id).state
            if not item_transition_allowed(current, ItemState.PENDING):
                raise IllegalTransitionError(
                    f"job {job_id} item {item_id!r}: cannot go from {current} to pending"
                )
            conn.execute(
                "UPDATE items SET state = ?, attempts = MAX(attempts - 1, 0), error = NULL,"
                " updated_at = ? WHERE job_id = ? AND item_id = ?",
                (str(ItemState.PENDING), self._db.now(), job_id, item_id),
            )
        return self.require(job_id, item_id)

    def reconcile_merged(self, job_id: str, item_id: str, merge_commit: str) -> ItemRecord:
        """Marks an item merged because its trailer is in the parent branch (git is the truth)."""
        with self._db.transaction() as conn:
            current = self.require(job_id, item_id).state
            if item_can_be_reconciled(current):
                self._write(conn, job_id, item_id, ItemState.MERGED, {"merge_commit": merge_commit})
        return self.require(job_id, item_id)

    def _write(
        self,
        conn: sqlite3.Connection,
        job_id: str,
        item_id: str,
        target: ItemState,
        given: dict[str, str | None],
        *,
        sealed: dict[str, bytes | None] | None = None,
    ) -> None:
        now = self._db.now()
        columns: dict[str, object] = {"state": str(target), "updated_at": now}
        columns |= {name: value for name, value in given.items() if value is not None}
        columns |= sealed or {}  # a new result without a secret clears the old sealed copy
        if target is ItemState.RUNNING:
            # a new attempt starts clean: the previous attempt's error and finish time go
            columns |= {"started_at": now, "finished_at": None}
            columns.setdefault("error", None)
        elif target in _FINISHED:
            columns["finished_at"] = now
        assignments = ", ".join(f"{name} = ?" for name in columns)
        bump = ", attempts = attempts + 1" if target is ItemState.RUNNING else ""
        conn.execute(
            f"UPDATE items SET {assignments}{bump} WHERE job_id = ? AND item_id = ?",  # noqa: S608 - column names are constants, values are parameters
            (*columns.values(), job_id, item_id),
        )

    def _record(self, row: sqlite3.Row, unmasked: bool) -> ItemRecord:
        found = _record(row)
        if not unmasked:
            return found
        job_id, item_id = found.job_id, found.item_id
        what = f"work item {item_id} of {job_id}"
        data = self._db.unsealed_json(
            row["data"], row["sealed_data"], _context("data", job_id, item_id), what
        )
        result = found.result
        if row["sealed_result"] is not None:
            result = self._db.unsealed_json(
                row["result"], row["sealed_result"], _context("result", job_id, item_id), what
            )
        return replace(found, data=data, result=result)


def _in_states(states: Sequence[ItemState]) -> tuple[str, tuple[str, ...]]:
    """The `AND state IN (...)` clause for these states (none: every state) and its values."""
    if not states:
        return "", ()
    return f" AND state IN ({', '.join('?' * len(states))})", tuple(str(s) for s in states)


def _context(column: str, job_id: str, item_id: str) -> str:
    return f"items.{column}:{job_id}/{item_id}"


_NO_PAYLOAD = (
    "job_id, item_id, idx, state, attempts, agent_branch, agent_worktree, error,"
    " merge_commit, created_at, updated_at, started_at, finished_at"
)


def _record(row: sqlite3.Row, *, payload: bool = True) -> ItemRecord:
    return ItemRecord(
        job_id=row["job_id"],
        item_id=row["item_id"],
        index=row["idx"],
        data=json.loads(row["data"]) if payload else None,
        state=ItemState(row["state"]),
        attempts=row["attempts"],
        agent_branch=row["agent_branch"],
        agent_worktree=row["agent_worktree"],
        result=json.loads(row["result"]) if payload else None,
        error=row["error"],
        merge_commit=row["merge_commit"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )
