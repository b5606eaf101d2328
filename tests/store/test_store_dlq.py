"""DLQ rows: one per job and item; a repeat failure appends to the history."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from prodigy.store import Store, open_store
from prodigy.store.migrations import MIGRATIONS


def _fail(store: Store, item_id: str, attempt: int, *, job_id: str = "job-1", **flags: bool):
    return store.dlq.add_failure(
        job_id=job_id,
        item_id=item_id,
        item_data={"file": f"{item_id}.py"},
        failure={"attempt_number": attempt, "error_type": "Timeout", "error_message": "slow"},
        error_signature=f"sig-{attempt}",
        worktree_artifacts={"worktree_path": f"/wt/{item_id}", "branch_name": "b"},
        **flags,
    )


def test_a_first_failure_creates_the_item(store: Store) -> None:
    record = _fail(store, "item_3", 1, reprocess_eligible=True)
    assert record.failure_count == 1
    assert record.first_attempt == record.last_attempt
    assert record.item_data == {"file": "item_3.py"}
    assert [h["attempt_number"] for h in record.failure_history] == [1]
    assert record.reprocess_eligible
    assert not record.manual_review_required


def test_a_repeat_failure_appends_to_the_history_instead_of_duplicating(store: Store) -> None:
    first = _fail(store, "item_3", 1)
    _fail(store, "item_3", 2)
    third = _fail(store, "item_3", 3, manual_review_required=True)
    assert len(store.dlq.find()) == 1
    assert third.failure_count == 3
    assert [h["attempt_number"] for h in third.failure_history] == [1, 2, 3]
    assert third.first_attempt == first.first_attempt
    assert third.last_attempt > first.last_attempt
    assert (third.error_signature, third.manual_review_required) == ("sig-3", True)


def test_signature_groups_aggregate_counts_flags_and_times_per_job(store: Store) -> None:
    _fail(store, "a", 1, reprocess_eligible=True)
    _fail(store, "b", 1, manual_review_required=True)
    _fail(store, "c", 2, reprocess_eligible=True)
    _fail(store, "c", 3, reprocess_eligible=True)  # a repeat: still one item, newest signature
    _fail(store, "z", 1, job_id="job-2")
    items = {r.item_id: r for r in store.dlq.find(job_id="job-1")}
    groups = {g["signature"]: g for g in store.dlq.signature_groups("job-1")}
    assert set(groups) == {"sig-1", "sig-3"}
    assert (groups["sig-1"]["count"], groups["sig-1"]["eligible"]) == (2, 1)
    assert groups["sig-1"]["manual_review"] == 1
    assert groups["sig-1"]["oldest"] == min(items["a"].first_attempt, items["b"].first_attempt)
    assert groups["sig-1"]["newest"] == max(items["a"].last_attempt, items["b"].last_attempt)
    assert (groups["sig-3"]["count"], groups["sig-3"]["newest"]) == (1, items["c"].last_attempt)
    assert sum(g["count"] for g in store.dlq.signature_groups()) == 4


def test_the_same_item_id_in_two_jobs_is_two_items(store: Store) -> None:
    _fail(store, "item_1", 1, job_id="job-a")
    _fail(store, "item_1", 1, job_id="job-b")
    assert store.dlq.job_ids() == ["job-a", "job-b"]
    assert [r.job_id for r in store.dlq.find(job_id="job-b")] == ["job-b"]


def test_find_filters_by_eligibility_and_limits_newest_first(store: Store) -> None:
    _fail(store, "a", 1, reprocess_eligible=True)
    _fail(store, "b", 1)
    _fail(store, "c", 1, reprocess_eligible=True)
    assert [r.item_id for r in store.dlq.find()] == ["c", "b", "a"]
    assert [r.item_id for r in store.dlq.find(eligible_only=True)] == ["c", "a"]
    assert [r.item_id for r in store.dlq.find(limit=2)] == ["c", "b"]


def test_remove_and_purge(store: Store) -> None:
    old = _fail(store, "old", 1)
    new = _fail(store, "new", 1)
    assert store.dlq.purge(older_than=new.last_attempt) == 1
    assert store.dlq.get("job-1", old.item_id) is None
    assert store.dlq.remove("job-1", "new")
    assert not store.dlq.remove("job-1", "new")
    assert store.dlq.find() == []


def test_export_shape_matches_prodigys_dead_lettered_item(store: Store) -> None:
    exported = _fail(store, "item_3", 1).to_json()
    assert set(exported) == {
        "item_id", "item_data", "first_attempt", "last_attempt", "failure_count",
        "failure_history", "error_signature", "worktree_artifacts", "reprocess_eligible",
        "manual_review_required",
    }  # fmt: skip
    assert exported["failure_history"][0]["error_type"] == "Timeout"
    assert exported["worktree_artifacts"]["worktree_path"] == "/wt/item_3"


def test_find_histories_is_find_without_the_data_and_artifacts(store: Store) -> None:
    _fail(store, "item-1", 1, reprocess_eligible=True)
    _fail(store, "item-2", 1)
    _fail(store, "item-1", 2)
    _fail(store, "item-3", 1, job_id="job-2", manual_review_required=True)
    for job in ("job-1", None):
        full = store.dlq.find(job_id=job)
        light = store.dlq.find_histories(job_id=job)
        assert light == [replace(r, item_data=None, worktree_artifacts=None) for r in full]
        assert len(light) == (2 if job else 3)


def test_the_dlq_size_of_a_job_follows_adds_repeats_removals_and_purges(store: Store) -> None:
    for k in range(5):
        _fail(store, f"item_{k}", 1)
    _fail(store, "item_0", 2)  # a repeat failure: one more history entry, not one more item
    _fail(store, "item_9", 1, job_id="job-2")
    assert (store.dlq.count("job-1"), store.dlq.count("job-2")) == (5, 1)
    assert store.dlq.remove("job-1", "item_3")
    assert not store.dlq.remove("job-1", "item_3")
    assert store.dlq.count("job-1") == 4 == len(store.dlq.find(job_id="job-1"))
    assert store.dlq.purge(older_than="9999-01-01T00:00:00Z", job_id="job-1") == 4
    assert (store.dlq.count("job-1"), store.dlq.count("job-2"), store.dlq.count("nope")) == (
        0,
        1,
        0,
    )


def test_a_store_from_before_the_dlq_sizes_counts_the_items_it_already_has(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(home / "prodigy.db") as conn:  # the schema of version 7
        for statements in MIGRATIONS[:7]:
            for sql in statements:
                conn.execute(sql)
        conn.executemany(
            "INSERT INTO dlq VALUES (?, ?, '{}', 't', 't', 1, '[]', 's', '{}', 0, 0)",
            [("job-1", "item_0"), ("job-1", "item_1"), ("job-2", "item_0")],
        )
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    with open_store(home) as store:
        assert (store.dlq.count("job-1"), store.dlq.count("job-2")) == (2, 1)
        _fail(store, "item_2", 1)
        assert store.dlq.count("job-1") == 3


def test_the_analysis_aggregates_are_computed_over_every_attempt(store: Store) -> None:
    kinds: list[object] = ["Timeout", {"CommandFailed": {"exit_code": 3}}, None, True]
    for k, kind in enumerate(kinds):
        for attempt in (1, 2):
            store.dlq.add_failure(
                job_id="job-1",
                item_id=f"item_{k}",
                item_data={},
                failure={"attempt_number": attempt, "error_type": kind},
                error_signature="same" if k < 3 else "other",
            )
    _fail(store, "elsewhere", 1, job_id="job-2")
    assert sorted(store.dlq.error_type_counts("job-1"), key=repr) == sorted(
        [(kind, 2) for kind in kinds], key=repr
    )
    assert store.dlq.signature_samples("job-1", 2) == {
        "same": ["item_0", "item_1"],  # the oldest first attempts
        "other": ["item_3"],
    }
    [(hour, count)] = store.dlq.hour_counts("job-1")
    assert (len(hour), count) == (13, 4)
    assert sum(n for _, n in store.dlq.error_type_counts(None)) == 9
