"""app/dlq/queue called directly on a real store: the use cases behind `prodigy dlq list,
show, stats, analyze, export, purge, clear`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodigy.app.dlq import queue
from prodigy.core import event_payloads as ev
from prodigy.core.dlq_rules import DlqFilter
from prodigy.core.errors import UsageError
from prodigy.store import Store


def _dead_letter(store: Store, job_id: str, item_id: str, message: str, kind: str) -> None:
    store.dlq.add_failure(
        job_id=job_id,
        item_id=item_id,
        item_data={"id": item_id},
        failure={"attempt_number": 1, "error_type": kind, "error_message": message},
        error_signature=message,
        reprocess_eligible=kind == "Timeout",
    )


@pytest.fixture
def two_jobs(store: Store) -> Store:
    """job-a: two items failing the same way and one timing out; job-b: one item, item_1."""
    repo = store.repos.ensure("/work/demo")
    for job_id in ("job-a", "job-b"):
        session_id = f"session-{job_id}"
        store.sessions.create(
            session_id=session_id, repo_key=repo.key, workflow_path="/w.yml", workflow_hash="h"
        )
        store.jobs.create(job_id=job_id, session_id=session_id)
    _dead_letter(store, "job-a", "item_1", "disk full", "CommandFailed")
    _dead_letter(store, "job-a", "item_2", "disk full", "CommandFailed")
    _dead_letter(store, "job-a", "item_3", "too slow", "Timeout")
    _dead_letter(store, "job-b", "item_1", "quota", "CommandFailed")
    return store


def test_list_filters_by_job_error_type_and_eligibility(two_jobs: Store) -> None:
    def ids(**wanted: object) -> list[tuple[str, str]]:
        found = queue.list_items(two_jobs, DlqFilter(**wanted))  # type: ignore[arg-type]
        return sorted((r.job_id, r.item_id) for r in found)

    assert len(ids()) == 4
    assert ids(job_id="job-b") == [("job-b", "item_1")]
    assert ids(error_type="timeout") == [("job-a", "item_3")]
    assert ids(eligible=True) == [("job-a", "item_3")]
    assert ids(signature="DISK") == [("job-a", "item_1"), ("job-a", "item_2")]


def test_an_unknown_job_is_a_usage_error_naming_the_list_command(two_jobs: Store) -> None:
    with pytest.raises(UsageError, match=r"no job 'job-z'.*prodigy dlq list"):
        queue.list_items(two_jobs, DlqFilter(job_id="job-z"))


def test_an_item_in_two_jobs_needs_the_job(two_jobs: Store) -> None:
    with pytest.raises(UsageError, match=r"in the DLQ of 2 jobs \(.*\); choose one with --job"):
        queue.find_item(two_jobs, "item_1", None)
    assert queue.find_item(two_jobs, "item_1", "job-b").error_signature == "quota"
    assert queue.find_item(two_jobs, "item_2", None).job_id == "job-a"
    with pytest.raises(UsageError, match="no item 'item_9' in the DLQ of job-a"):
        queue.find_item(two_jobs, "item_9", "job-a")


def test_stats_and_analysis_group_by_signature_and_analysis_is_recorded(
    two_jobs: Store,
) -> None:
    counted = queue.stats(two_jobs, "job-a")
    assert counted.total == 3 and counted.eligible == 1
    assert dict(counted.by_signature) == {"disk full": 2, "too slow": 1}
    found = queue.analyze(two_jobs, "job-a")
    assert found.total == 3
    assert (found.patterns[0].signature, found.patterns[0].count) == ("disk full", 2)
    [event] = two_jobs.events.query(event_types=[ev.DLQ_ANALYSIS])
    assert event.job_id == "job-a"
    assert event.payload["patterns"][0]["signature"] == "disk full"  # type: ignore[index]


def test_export_writes_the_items_of_one_job_as_json(two_jobs: Store, tmp_path: Path) -> None:
    target = tmp_path / "dlq.json"
    assert queue.export(two_jobs, target, "job-a") == 3
    written = json.loads(target.read_text())
    assert sorted(r["item_id"] for r in written) == ["item_1", "item_2", "item_3"]
    assert {r["job_id"] for r in written} == {"job-a"}
    assert [p.name for p in tmp_path.iterdir()] == ["dlq.json"]  # no temporary file left
    with pytest.raises(UsageError, match="is a directory"):
        queue.export(two_jobs, tmp_path, "job-a")


def test_clear_removes_one_job_with_an_event_per_item(two_jobs: Store) -> None:
    doomed = queue.clear_candidates(two_jobs, "job-a")
    assert queue.remove(two_jobs, doomed, "cleared") == 3
    assert [r.job_id for r in two_jobs.dlq.find()] == ["job-b"]
    removed = two_jobs.events.query(event_types=[ev.DLQ_ITEM_REMOVED])
    assert sorted(str(e.payload["item_id"]) for e in removed) == ["item_1", "item_2", "item_3"]
    assert {e.payload["reason"] for e in removed} == {"cleared"}


def test_purge_takes_only_items_older_than_the_cutoff(two_jobs: Store) -> None:
    assert queue.purge_candidates(two_jobs, "2000-01-01T00:00:00Z", None) == []
    assert len(queue.purge_candidates(two_jobs, "2999-01-01T00:00:00Z", "job-b")) == 1
