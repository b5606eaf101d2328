"""The dead letter queue's use cases: list, show, stats, analyze, export, purge, clear, and the
capacity rule a job applies before it dead-letters one more item.

Every removal, eviction and analysis is recorded as an event; item ids are only ever data
(SQL parameters and JSON values), never part of a path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prodigy.app.mapreduce.events import JobEvents
from prodigy.core import dlq_rules as rules
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import DlqRecord
from prodigy.store import Store

DLQ_ITEM_REMOVED = "d_l_q_item_removed"  # serde's spelling of DLQItemRemoved, as 0.4.4's
DLQ_ITEMS_EVICTED = "d_l_q_items_evicted"
DLQ_ITEMS_REPROCESSED = "d_l_q_items_reprocessed"
DLQ_ANALYSIS = "d_l_q_analysis_generated"


def item_json(record: DlqRecord) -> dict[str, Any]:
    """prodigy's DeadLetteredItem shape, plus the job it belongs to."""
    return {**record.to_json(), "job_id": record.job_id}


def archive_path(store: Store, job_id: str) -> Path:
    """Where evicted items of a job are kept: `$PRODIGY_HOME/dlq-archive/<job>.jsonl`."""
    return store.path.parent / "dlq-archive" / f"{rules.path_component(job_id)}.jsonl"


def _known_job(store: Store, job_id: str | None) -> None:
    if job_id is not None and store.jobs.get(job_id) is None and not store.dlq.find(job_id=job_id):
        raise UsageError(f"no job {job_id!r}; `prodigy dlq list` shows the jobs with failed items")


def list_items(store: Store, wanted: rules.DlqFilter) -> list[DlqRecord]:
    """Matching items, newest last attempt first."""
    _known_job(store, wanted.job_id)
    return rules.select(store.dlq.find(job_id=wanted.job_id), wanted)


def find_item(store: Store, item_id: str, job_id: str | None) -> DlqRecord:
    """One item; without a job it must be in the DLQ of exactly one job."""
    _known_job(store, job_id)
    if job_id is not None:
        found = store.dlq.get(job_id, item_id)
        if found is None:
            raise UsageError(
                f"no item {item_id!r} in the DLQ of {job_id}; `prodigy dlq list --job {job_id}`"
                " lists its items"
            )
        return found
    matches = [r for r in store.dlq.find() if r.item_id == item_id]
    if not matches:
        raise UsageError(f"no item {item_id!r} in the DLQ; `prodigy dlq list` lists the items")
    if len(matches) > 1:
        jobs = ", ".join(r.job_id for r in matches)
        raise UsageError(f"item {item_id!r} is in the DLQ of {len(matches)} jobs ({jobs}); "
                         "choose one with --job")  # fmt: skip
    return matches[0]


def stats(store: Store, job_id: str | None) -> rules.DlqStats:
    _known_job(store, job_id)
    return rules.stats_from_groups(store.dlq.signature_groups(job_id))


def analyze(store: Store, job_id: str | None) -> rules.DlqAnalysis:
    """The pattern analysis; recorded as a `d_l_q_analysis_generated` event."""
    _known_job(store, job_id)
    found = rules.analyze(store.dlq.find(job_id=job_id))
    patterns = [p.to_json() for p in found.patterns]
    store.events.append(DLQ_ANALYSIS, {"job_id": job_id, "patterns": patterns}, job_id=job_id)
    return found


def export(store: Store, path: Path, job_id: str | None) -> int:
    """Write the items as a pretty JSON array (written whole, then renamed into place)."""
    _known_job(store, job_id)
    records = rules.newest_first(store.dlq.find(job_id=job_id))
    text = json.dumps([item_json(r) for r in records], indent=2, ensure_ascii=False) + "\n"
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give a file name such as {path / 'dlq.json'}")
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temp.write_text(text, encoding="utf-8")
        temp.replace(path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}; choose a writable path") from exc
    return len(records)


def remove(store: Store, records: Sequence[DlqRecord], reason: str) -> int:
    """Remove these items, each with a `d_l_q_item_removed` event, in one transaction."""
    removed = 0
    with store.transaction():
        for record in records:
            if store.dlq.remove(record.job_id, record.item_id):
                removed += 1
                store.events.append(
                    DLQ_ITEM_REMOVED,
                    {"job_id": record.job_id, "item_id": record.item_id, "reason": reason},
                    job_id=record.job_id,
                )
    return removed


def purge_candidates(store: Store, before: str, job_id: str | None) -> list[DlqRecord]:
    """Items whose last attempt is older than `before` (RFC 3339)."""
    _known_job(store, job_id)
    return rules.select(store.dlq.find(job_id=job_id), rules.DlqFilter(until=before))


def clear_candidates(store: Store, job_id: str) -> list[DlqRecord]:
    _known_job(store, job_id)
    return store.dlq.find(job_id=job_id)


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
        DLQ_ITEMS_EVICTED,
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
