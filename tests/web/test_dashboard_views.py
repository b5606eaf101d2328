"""How ages, colours and pauses read: the rules behind the stuck mark and the countdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prodigy.app.dashboard.views import session_summary, staleness
from prodigy.core.clock import format_ts
from prodigy.web.filters import ago, clock, money, when

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _ago(seconds: float) -> str:
    return format_ts(NOW - timedelta(seconds=seconds))


def test_gas_town_colours_for_running_things_only() -> None:
    assert staleness(_ago(30), NOW, running=True)["colour"] == "green"
    assert staleness(_ago(119), NOW, running=True)["colour"] == "green"
    assert staleness(_ago(120), NOW, running=True)["colour"] == "yellow"
    assert staleness(_ago(300), NOW, running=True)["colour"] == "yellow"
    red = staleness(_ago(301), NOW, running=True)
    assert red["colour"] == "red" and red["stuck"] is True and round(red["age_s"]) == 301
    done = staleness(_ago(3600), NOW, running=False)
    assert done["colour"] is None and done["stuck"] is False and done["age_s"] == 3600
    assert staleness(None, NOW, running=True) == {
        "last_activity_at": None, "age_s": None, "colour": None, "stuck": False,
    }  # fmt: skip


def test_a_paused_session_shows_its_reason_and_time_left() -> None:
    row = {
        "id": "session-1", "workflow_path": "/w/fix.yml", "mode": "mapreduce",
        "status": "paused", "pause_reason": "quota: resets 12:05", "started_at": _ago(60),
        "updated_at": _ago(10), "resume_at": format_ts(NOW + timedelta(seconds=90)),
    }  # fmt: skip
    summary = session_summary(row, NOW)
    assert summary["paused"] == {
        "reason": "quota: resets 12:05", "resume_at": row["resume_at"], "resumes_in_s": 90.0,
    }  # fmt: skip
    assert (
        session_summary({**row, "status": "running", "pause_reason": None}, NOW)["paused"] is None
    )


def test_filters() -> None:
    assert [ago(s) for s in (None, 5, 65, 3725, 90000)] == ["–", "5s", "1m 05s", "1h 02m", "1d 1h"]
    assert money(0) == "–" and money(0.01234) == "$0.0123" and money(12.5) == "$12.50"
    assert when("2026-12-07T19:16:04.399098Z") == "2026-12-07 19:16:04"
    assert clock("2026-12-07T19:16:04.399098Z") == "19:16:04.399"
