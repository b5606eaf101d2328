"""The dashboard only reads, reads a bounded amount, and streams events without gap or repeat."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prodigy.store import open_store
from prodigy.store.readonly import MAX_EVENTS, MAX_ROWS, open_readonly
from tests.support.dashboard import TOKEN, app_for, prodigy_home
from tests.support.mapreduce import MapReduceRepo

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _ro_query(db: Path, sql: str, *params: Any) -> list[Any]:
    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()


def _fingerprint(db: Path) -> tuple[int, int, int]:
    stat = db.stat()
    return stat.st_size, stat.st_mtime_ns, _ro_query(db, "SELECT COUNT(*) FROM events")[0][0]


def frames(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """SSE frames as dicts: {"id", "data"} for events, {"comment": ...} for comments."""
    frame: dict[str, Any] = {}
    for line in lines:
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line.startswith("id: "):
            frame["id"] = line[4:]
        elif line.startswith("data: "):
            frame["data"] = json.loads(line[6:])
        elif line == "" and frame:
            yield frame
            frame = {}


def take(lines: Iterator[str], n: int) -> list[dict[str, Any]]:
    """The next n events (comments skipped)."""
    out: list[dict[str, Any]] = []
    for frame in frames(lines):
        if "id" in frame:
            out.append(frame)
            if len(out) == n:
                break
    return out


def _event_ids(db: Path, job: str) -> list[str]:
    rows = _ro_query(db, "SELECT id FROM events WHERE job_id = ? ORDER BY seq", job)
    return [r[0] for r in rows]


def test_reads_leave_the_store_untouched(shared_job: tuple[MapReduceRepo, str]) -> None:
    mr, job = shared_job
    db = prodigy_home(mr) / "prodigy.db"
    session = mr.query("SELECT session_id FROM jobs")[0]["session_id"]
    before = _fingerprint(db)
    client = TestClient(app_for(mr))
    for url in ("/", f"/jobs/{job}", f"/sessions/{session}", "/dlq", "/api/jobs",
                f"/api/jobs/{job}", f"/api/dlq?job={job}", f"/api/sessions/{session}"):  # fmt: skip
        assert client.get(url, headers=BEARER).status_code == 200, url
    with client.stream("GET", f"/api/events?job={job}", headers=BEARER) as stream:
        assert len(take(stream.iter_lines(), 3)) == 3
    assert _fingerprint(db) == before
    with open_readonly(prodigy_home(mr)) as ro:  # type: ignore[union-attr]
        with pytest.raises(sqlite3.OperationalError) as caught:
            ro._conn.execute("DELETE FROM events")
        assert "readonly" in str(caught.value)
    assert _fingerprint(db) == before


def test_every_list_is_bounded(finished: tuple[MapReduceRepo, str]) -> None:
    mr, job = finished
    home = prodigy_home(mr)
    with open_store(home) as store:
        store.items.add(job, [(f"extra-{n}", {"n": n}) for n in range(MAX_ROWS + 50)])
        for n in range(MAX_EVENTS + 20):
            store.events.append("agent_progress", {"item_id": f"extra-{n}"}, job_id=job)
    client = TestClient(app_for(mr))
    detail = client.get(f"/api/jobs/{job}?limit=100000", headers=BEARER).json()
    assert len(detail["items"]) == MAX_ROWS
    assert detail["job"]["progress"]["total"] == MAX_ROWS + 53  # counted, not read
    assert len(detail["events"]) == 100
    page = client.get(f"/jobs/{job}", headers=BEARER).text
    assert f"Showing the first 500 of {MAX_ROWS + 53} items" in page
    with open_readonly(home) as ro:  # type: ignore[union-attr]
        assert len(ro.events_after(job_id=job, after_seq=0, limit=10**6)) == MAX_EVENTS
        assert len(ro.recent_events(job_id=None, limit=10**6)) == MAX_EVENTS
        assert len(ro.items(job, limit=10**6)) == MAX_ROWS


def test_event_stream_resumes_after_last_event_id_without_gap_or_repeat(
    finished: tuple[MapReduceRepo, str],
) -> None:
    mr, job = finished
    db = prodigy_home(mr) / "prodigy.db"
    ids = _event_ids(db, job)
    assert len(ids) > 10
    client = TestClient(app_for(mr, poll_s=0.05))
    with client.stream("GET", f"/api/events?job={job}", headers=BEARER) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = take(stream.iter_lines(), len(ids))
    assert [f["id"] for f in first] == ids
    assert [f["data"]["id"] for f in first] == ids  # id: is the event's id
    assert first[-1]["data"]["event_type"] == "job_completed"
    # the browser reconnects after the 6th event: it gets the 7th on, once each
    resumed = {"Last-Event-ID": ids[5]} | BEARER
    with client.stream("GET", f"/api/events?job={job}", headers=resumed) as stream:
        lines = stream.iter_lines()
        assert [f["id"] for f in take(lines, len(ids) - 6)] == ids[6:]
        with open_store(prodigy_home(mr)) as store:  # a writer appends while we listen
            new = [store.events.append("agent_progress", {"n": n}, job_id=job).id for n in range(3)]
            store.events.append("agent_progress", {"n": 9}, job_id="another-job")
        assert [f["id"] for f in take(lines, 3)] == new
    # ?after= does the same for the first connection of a page
    with client.stream("GET", f"/api/events?job={job}&after={ids[-1]}", headers=BEARER) as s:
        assert [f["id"] for f in take(s.iter_lines(), 3)] == new
    # an id the store no longer has: start over (a repeat is better than a gap)
    gone = {"Last-Event-ID": "00000000-0000-0000-0000-000000000000"} | BEARER
    with client.stream("GET", f"/api/events?job={job}", headers=gone) as stream:
        assert [f["id"] for f in take(stream.iter_lines(), 2)] == ids[:2]


def test_event_stream_pings_when_idle_and_serves_every_job(
    shared_job: tuple[MapReduceRepo, str],
) -> None:
    mr, job = shared_job
    db = prodigy_home(mr) / "prodigy.db"
    total = _ro_query(db, "SELECT COUNT(*) FROM events")[0][0]
    client = TestClient(app_for(mr, poll_s=0.05, ping_s=0.2))
    with client.stream("GET", "/api/events", headers=BEARER) as stream:
        seen: list[dict[str, Any]] = []
        for frame in frames(stream.iter_lines()):
            seen.append(frame)
            if frame.get("comment") == "ping":
                break
    events = [f for f in seen if "id" in f]
    assert len(events) == total and {e["data"]["job_id"] for e in events} == {job}
    assert client.get("/api/events?job=unknown", headers=BEARER).status_code == 404
