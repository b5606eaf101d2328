"""app/inspect/events called directly on a real store: the use cases behind `prodigy events
ls, search, stats, export, clean`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prodigy.app.inspect import events
from prodigy.core.errors import UsageError
from prodigy.store import Store, open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def job(store: Store) -> Store:
    """job-1: started, two agents done (one failed), completed; an older event of job-0."""
    append = store.events.append
    append("job_started", {"job_id": "job-0"}, job_id="job-0", ts="2026-11-01T00:00:00.000000Z")
    append("job_started", {"job_id": "job-1"}, job_id="job-1", ts="2026-11-25T10:00:00.000000Z")
    usage = {"input_tokens": 100, "output_tokens": 10, "cost_usd": 0.5}
    append(
        "agent_completed",
        {"item_id": "a", "duration": {"secs": 2, "nanos": 0}, "usage": usage},
        job_id="job-1",
        ts="2026-11-25T10:01:00.000000Z",
    )
    append(
        "agent_failed",
        {"item_id": "b", "error": "disk full", "duration": {"secs": 4, "nanos": 500_000_000}},
        job_id="job-1",
        ts="2026-11-25T10:02:00.000000Z",
    )
    append("job_completed", {"job_id": "job-1"}, job_id="job-1", ts="2026-11-25T10:03:00.000000Z")
    return store


def test_moment_reads_durations_ago_and_dates() -> None:
    assert events.moment("2h", now=NOW, option="--since") == "2026-11-25T10:00:00.000000Z"
    assert events.moment("2026-11-20", now=NOW, option="--since") == "2026-11-20T00:00:00.000000Z"
    with pytest.raises(UsageError, match="--since 'yesterday-ish': expected a date"):
        events.moment("yesterday-ish", now=NOW, option="--since")


def test_list_filters_and_keeps_the_newest_within_the_limit(job: Store) -> None:
    listed = events.list_events(job, job_id="job-1")
    assert [e.event_type for e in listed] == [
        "job_started",
        "agent_completed",
        "agent_failed",
        "job_completed",
    ]
    newest = events.list_events(job, job_id="job-1", limit=2)
    assert [e.event_type for e in newest] == ["agent_failed", "job_completed"]
    assert len(events.list_events(job, types=["job_started"])) == 2
    with pytest.raises(UsageError, match="no job 'job-9'"):
        events.list_events(job, job_id="job-9")


def test_search_matches_the_whole_record_case_insensitively(job: Store) -> None:
    [found] = events.search(job, "DISK FULL")
    assert found.payload["item_id"] == "b"
    with pytest.raises(UsageError, match="not a regular expression"):
        events.search(job, "([")


def test_stats_count_agents_durations_and_usage(job: Store) -> None:
    counted = events.stats(job, job_id="job-1")
    assert counted.total == 4
    assert (counted.agents_completed, counted.agents_failed) == (1, 1)
    assert counted.success_rate == 50.0
    assert counted.average_agent_seconds == pytest.approx(3.25)
    assert (counted.input_tokens, counted.output_tokens, counted.cost_usd) == (100, 10, 0.5)


def _exported(store: Store, fmt: str, job_id: str | None) -> tuple[int, str]:
    parts: list[str] = []
    count = events.export(store, parts.append, fmt, job_id=job_id)
    return count, "".join(parts)


def test_export_is_jsonl_or_one_json_array(job: Store, store: Store) -> None:
    count, text = _exported(job, "jsonl", "job-1")
    lines = text.splitlines()
    assert count == 4
    assert [json.loads(line)["event"]["event_type"] for line in lines] == [
        "job_started",
        "agent_completed",
        "agent_failed",
        "job_completed",
    ]
    assert lines == [json.dumps(e.to_json(), ensure_ascii=False) for e in
                     events.list_events(job, job_id="job-1")]  # fmt: skip
    array = json.loads(_exported(job, "json", "job-1")[1])
    assert array == [json.loads(line) for line in lines]
    assert array[0]["correlation_id"] == "job-1" and array[0]["timestamp"].startswith("2026-11-25")
    assert len(json.loads(_exported(job, "json", None)[1])) == 5  # every job's
    with pytest.raises(UsageError, match="no job 'nope'"):
        _exported(job, "json", "nope")


def test_export_of_no_events_is_an_empty_array(tmp_path: Path) -> None:
    with open_store(tmp_path / "home") as empty:
        assert _exported(empty, "json", None) == (0, "[\n]\n")
        assert _exported(empty, "jsonl", None) == (0, "")


def test_clean_removes_only_events_before_the_cutoff(job: Store) -> None:
    cutoff = "2026-11-20T00:00:00.000000Z"
    assert events.clean_candidates(job, cutoff, None) == 1
    assert events.clean(job, cutoff, None) == 1
    assert [e.job_id for e in job.events.query()] == ["job-1"] * 4
