"""The event log: append, then query by job, type, agent and time, with a limit."""

from __future__ import annotations

import json
from typing import Any

from prodigy.core.records import event_json_line
from prodigy.store import Store


def _log(store: Store) -> None:
    store.events.append("job_started", {"total_items": 2}, job_id="j1", session_id="s1")
    store.events.append("agent_started", {"item_id": "a"}, job_id="j1", agent_id="agent-0")
    store.events.append("agent_failed", {"error": "boom"}, job_id="j1", agent_id="agent-0")
    store.events.append("job_started", {"total_items": 5}, job_id="j2")
    store.events.append("agent_completed", {"commits": ["x"]}, job_id="j1", agent_id="agent-1")


def test_events_come_back_in_append_order_with_monotonic_seq(store: Store) -> None:
    _log(store)
    events = store.events.query()
    assert [e.event_type for e in events] == [
        "job_started", "agent_started", "agent_failed", "job_started", "agent_completed",
    ]  # fmt: skip
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
    assert len({e.id for e in events}) == 5
    assert [e.ts for e in events] == sorted(e.ts for e in events)


def test_query_by_job_type_and_agent(store: Store) -> None:
    _log(store)
    assert len(store.events.query(job_id="j1")) == 4
    assert [e.job_id for e in store.events.query(event_types=["job_started"])] == ["j1", "j2"]
    failed_or_done = store.events.query(
        job_id="j1", event_types=["agent_failed", "agent_completed"]
    )
    assert [e.payload for e in failed_or_done] == [{"error": "boom"}, {"commits": ["x"]}]
    assert len(store.events.query(agent_id="agent-0")) == 2
    assert store.events.query(job_id="nope") == []


def test_query_by_time_window_and_limit(store: Store) -> None:
    _log(store)
    all_events = store.events.query()
    since, until = all_events[1].ts, all_events[3].ts
    window = store.events.query(since=since, until=until)
    assert [e.seq for e in window] == [all_events[1].seq, all_events[2].seq]
    assert [e.seq for e in store.events.query(limit=2)] == [e.seq for e in all_events[:2]]
    newest = store.events.query(limit=2, newest_first=True)
    assert [e.seq for e in newest] == [all_events[4].seq, all_events[3].seq]


def test_follow_reads_only_what_came_after(store: Store) -> None:
    _log(store)
    last = store.events.query()[-1].seq
    assert store.events.query(after_seq=last) == []
    added = store.events.append("job_completed", {"success_count": 1}, job_id="j1")
    assert store.events.query(after_seq=last) == [added]


def test_counts_and_clean(store: Store) -> None:
    _log(store)
    assert store.events.count_by_type(job_id="j1") == {
        "agent_completed": 1, "agent_failed": 1, "agent_started": 1, "job_started": 1,
    }  # fmt: skip
    cutoff = store.events.query()[2].ts
    assert store.events.delete(before=cutoff, job_id="j1") == 2
    assert len(store.events.query(job_id="j1")) == 2
    assert store.events.delete() == 3


def test_export_shape_is_prodigys_event_record(store: Store) -> None:
    event = store.events.append("agent_failed", {"agent_id": "a-0", "error": "x"}, job_id="j1")
    assert event.to_json() == {
        "id": event.id,
        "timestamp": event.ts,
        "correlation_id": "j1",
        "event": {"event_type": "agent_failed", "agent_id": "a-0", "error": "x"},
    }


TRICKY_PAYLOADS: list[dict[str, Any]] = [
    {},
    {"agent_id": "a-0", "error": 'quote " and \\ backslash, \n newline'},
    {"text": "ünïcödé ✓ and \u2028 and \x1b[31m"},
    {"nested": {"list": [1, 2.5, None, True], "empty": {}}, "n": -3},
    {"event_type": "shadowed", "x": 1},  # the record's own type wins, as in to_json
    {"message": 'a "event_type" inside a value'},
]


def test_export_lines_are_the_record_shape_built_from_the_stored_text(store: Store) -> None:
    for index, payload in enumerate(TRICKY_PAYLOADS):
        store.events.append("agent_failed", payload, job_id="j1" if index % 2 else None)
    stored = list(store.events.stored())
    records = store.events.query()
    assert [s.seq for s in stored] == [r.seq for r in records]
    for row, record in zip(stored, records, strict=True):
        line = event_json_line(
            id=row.id, ts=row.ts, event_type=row.event_type, payload_text=row.payload,
            job_id=row.job_id, session_id=row.session_id,
        )  # fmt: skip
        assert line == json.dumps(record.to_json(), ensure_ascii=False)
    assert [s.seq for s in store.events.stored(job_id="j1", batch=2)] == [
        r.seq for r in store.events.query(job_id="j1")
    ]


def test_agent_totals_sum_durations_and_usage_in_sql(store: Store) -> None:
    usage = {"input_tokens": 10, "output_tokens": 4, "cost_usd": 0.5}
    store.events.append(
        "agent_completed", {"duration": {"secs": 2, "nanos": 500_000_000}, "usage": usage},
        job_id="j1",
    )  # fmt: skip
    store.events.append("agent_failed", {"duration": {"secs": 1}}, job_id="j1")
    store.events.append("agent_failed", {"error": "no duration, no usage"}, job_id="j1")
    store.events.append("agent_completed", {"usage": usage}, job_id="other")
    totals = store.events.agent_totals("j1", ("agent_completed", "agent_failed"))
    assert totals["counts"] == {"agent_completed": 1, "agent_failed": 2}
    assert (totals["timed"], totals["seconds"]) == (2, 3.5)
    assert (totals["input_tokens"], totals["output_tokens"]) == (10, 4)
    assert totals["cost_usd"] == 0.5
    everything = store.events.agent_totals(None, ("agent_completed",))
    assert everything["counts"] == {"agent_completed": 2} and everything["input_tokens"] == 20
