"""The MapReduce displays, fed the job events a run records."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from prodigy.app.mapreduce.events import MapCounts
from prodigy.cli.map_display import LiveMapDisplay, PlainMapDisplay
from prodigy.core.records import EventRecord


def _event(kind: str, agent: str | None = None, **payload: Any) -> EventRecord:
    return EventRecord(
        seq=0, id="e", ts="t", event_type=kind, payload=payload, job_id="j", agent_id=agent
    )


RUN = [
    _event("agent_started", "a0", item_id="item_0", attempt=1),
    _event("agent_started", "a1", item_id="item_1", attempt=1),
    _event("agent_progress", "a1", item_id="item_1", step="claude: /fix item_1"),
]
FINISH = [
    _event(
        "agent_completed",
        "a0",
        item_id="item_0",
        commits=["abc"],
        attempt=1,
        duration={"secs": 2, "nanos": 0},
        usage={"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.5},
    ),
    _event(
        "agent_failed",
        "a1",
        item_id="item_1",
        error="step 1 failed: exit code 3",
        attempt=1,
        duration={"secs": 1, "nanos": 0},
        usage={"input_tokens": 10, "output_tokens": 2, "cost_usd": 0.25},
    ),
]


def test_plain_display_prints_progress_lines_and_a_summary_table() -> None:
    out = io.StringIO()
    display = PlainMapDisplay(out=out, interval=0)
    for event in RUN:
        display.job_event(event)
    display.map_counts(MapCounts(total=3, done=0, failed=0, running=2, merging=0))
    for event in FINISH:
        display.job_event(event)
    display.map_counts(MapCounts(total=3, done=1, failed=1, running=0, merging=1))
    display.close()
    text = out.getvalue()
    assert "map: 0/3 done, 0 failed, 2 running, 1 pending; merge queue 0" in text
    assert (
        "map: 1/3 done, 1 failed, 0 running, 0 pending; merge queue 1; 132 tokens, $0.7500" in text
    )
    assert "item_0" in text and "ok" in text
    assert "item_1" in text and "step 1 failed: exit code 3" in text


def test_live_board_shows_running_agents_with_their_step() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=140)
    display = LiveMapDisplay(console=console)
    for event in RUN:
        display.job_event(event)
    display.map_counts(MapCounts(total=3, done=0, failed=0, running=2, merging=0))
    board = io.StringIO()
    Console(file=board, width=140).print(display.board.render())
    assert "item_1" in board.getvalue() and "claude: /fix item_1" in board.getvalue()
    assert "0/3 done, 0 failed, 2 running, 1 pending" in board.getvalue()
    assert "merge queue 0" in board.getvalue()
    for event in FINISH:
        display.job_event(event)
    display.close()
    assert "MapReduce items" in buffer.getvalue()
