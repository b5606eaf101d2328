"""Writing the dead letter queue from a job: removing items with an event, and the capacity
rule a job applies before it dead-letters one more item.

Every removal and eviction is recorded as an event; item ids are only ever data (SQL
parameters and JSON values), never part of a path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prodigy.app.mapreduce.events import JobEvents
from prodigy.core import dlq_rules as rules
from prodigy.core import event_payloads as ev
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import DlqRecord
from prodigy.store import Store


def item_json(record: DlqRecord) -> dict[str, Any]:
    """prodigy's DeadLetteredItem shape, plus the job it belongs to."""
    return {**record.to_json(), "job_id": record.job_id}


def archive_path(store: Store, job_id: str) -> Path:
    """Where evicted items of a job are kept: `$PRODIGY_HOME/dlq-archive/<job>.jsonl`."""
    return store.path.parent / "dlq-archive" / f"{rules.path_component(job_id)}.jsonl"


def remove(store: Store, records: Sequence[DlqRecord], reason: str) -> int:
    """Remove these items, each with a `d_l_q_item_removed` event, in one transaction."""
    removed = 0
    with store.transaction():
        for record in records:
            if store.dlq.remove(record.job_id, record.item_id):
                removed += 1
                store.events.append(
                    ev.DLQ_ITEM_REMOVED,
                    {"job_id": record.job_id, "item_id": record.item_id, "reason": reason},
                    job_id=record.job_id,
                )
    return removed


def make_room(
    store: Store, events: JobEvents, reporter: Reporter, *, item_id: str, capacity: int
) -> list[DlqRecord]:
    """Before a new item enters a full DLQ: evict the oldest tenth, never silently.

    Evicted items are appended to the job's archive file first (so a crash loses nothing),
    then removed; a warning and a `d_l_q_items_evicted` event say where they went.
    """
    job_id = events.job_id
    if store.dlq.get(job_id, item_id) is not None:
        return []  # a repeat failure adds to its history, not to the count
    if store.dlq.count(job_id) < capacity:  # a COUNT, not a read of every item
        return []
    evicted = rules.to_evict(store.dlq.find(job_id=job_id), capacity)
    target = archive_path(store, job_id)
    _append_archive(target, evicted)
    with store.transaction():
        for record in evicted:
            store.dlq.remove(job_id, record.item_id)
    events.record(
        ev.DLQ_ITEMS_EVICTED,
        {
            "job_id": job_id,
            "count": len(evicted),
            "item_ids": [r.item_id for r in evicted],
            "archive": str(target),
        },
    )
    reporter.emit(
        Note(
            "warn",
            f"The DLQ of {job_id} is full ({capacity} items, config dlq.capacity): moved the"
            f" {len(evicted)} oldest to {target}",
        )
    )
    return evicted


def _append_archive(target: Path, records: Sequence[DlqRecord]) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = "".join(json.dumps(item_json(r), ensure_ascii=False) + "\n" for r in records)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())
