"""The dead letter queue's use cases: list, show, stats, analyze, export, purge, clear.

Every removal, eviction and analysis is recorded as an event; item ids are only ever data
(SQL parameters and JSON values), never part of a path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from prodigy.app.mapreduce.dead_letters import item_json, remove
from prodigy.core import dlq_rules as rules
from prodigy.core import event_payloads as ev
from prodigy.core.errors import UsageError
from prodigy.core.records import DlqRecord
from prodigy.store import Store


def _known_job(store: Store, job_id: str | None) -> None:
    if job_id is not None and store.jobs.get(job_id) is None and not store.dlq.find(job_id=job_id):
        raise UsageError(f"no job {job_id!r}; `prodigy dlq list` shows the jobs with failed items")


def list_items(store: Store, wanted: rules.DlqFilter, *, with_data: bool = True) -> list[DlqRecord]:
    """Matching items, newest last attempt first; without data: item_data and
    worktree_artifacts are not read (None), for a table that shows neither."""
    _known_job(store, wanted.job_id)
    found = (
        store.dlq.find(job_id=wanted.job_id)
        if with_data
        else store.dlq.find_histories(job_id=wanted.job_id)
    )
    return rules.select(found, wanted)


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
    found = rules.analysis_from(  # aggregated in SQL: no item's JSON is decoded
        store.dlq.signature_groups(job_id),
        store.dlq.signature_samples(job_id, rules.SAMPLE_IDS),
        store.dlq.error_type_counts(job_id),
        store.dlq.hour_counts(job_id),
    )
    patterns = [p.to_json() for p in found.patterns]
    store.events.append(ev.DLQ_ANALYSIS, {"job_id": job_id, "patterns": patterns}, job_id=job_id)
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


def purge_candidates(store: Store, before: str, job_id: str | None) -> list[DlqRecord]:
    """Items whose last attempt is older than `before` (RFC 3339)."""
    _known_job(store, job_id)
    return rules.select(store.dlq.find(job_id=job_id), rules.DlqFilter(until=before))


def clear_candidates(store: Store, job_id: str) -> list[DlqRecord]:
    _known_job(store, job_id)
    return store.dlq.find(job_id=job_id)


__all__ = ["item_json", "remove"]
