"""`prodigy events ...`: reading the event log (ls, search, stats, follow, export, clean).

Events are rows of the store, appended as they happen with a monotonic sequence number, so
`follow` is a poll for rows after the last one it printed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prodigy.app.session.state import live_holder
from prodigy.core.clock import format_ts
from prodigy.core.errors import UsageError
from prodigy.core.records import EventRecord, RunStatus, event_json_line
from prodigy.store import Store

TERMINAL = frozenset({"job_completed", "job_failed"})
AGENT_DONE = ("agent_completed", "agent_failed")


def moment(text: str, *, now: datetime, option: str) -> str:
    """A DATE (`2026-11-25`, `2026-11-25T14:00`, RFC 3339) or a DURATION ago (`30m`, `7d`),
    as the store's timestamp text."""
    # Imported here: the prodigy.core.workflow package loads the whole workflow model.
    from prodigy.core.workflow.durations import parse_humantime

    seconds = parse_humantime(text)
    if seconds is not None and seconds >= 0:
        return format_ts(now - timedelta(seconds=seconds))
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: expected a date (2026-11-25, 2026-11-25T14:00) or a duration"
            " ago (30m, 2h, 7d)"
        ) from None
    return format_ts(found if found.tzinfo else found.replace(tzinfo=UTC))


def _known_job(store: Store, job_id: str | None) -> None:
    if (
        job_id is not None
        and store.jobs.get(job_id) is None
        and not store.events.query(job_id=job_id, limit=1)
    ):
        raise UsageError(f"no job {job_id!r}; `prodigy events ls` shows the recent events")


def list_events(
    store: Store,
    *,
    job_id: str | None = None,
    types: Sequence[str] = (),
    since: str | None = None,
    limit: int | None = None,
) -> list[EventRecord]:
    """Matching events oldest first; with a limit, the newest `limit` of them."""
    _known_job(store, job_id)
    found = store.events.query(
        job_id=job_id, event_types=tuple(types), since=since, limit=limit, newest_first=True
    )
    return found[::-1]


def search(store: Store, pattern: str, *, job_id: str | None = None) -> list[EventRecord]:
    """Events whose exported record matches the regular expression (case-insensitive)."""
    try:
        wanted = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise UsageError(
            f"events search {pattern!r}: not a regular expression ({exc}); "
            "escape special characters with \\"
        ) from None
    _known_job(store, job_id)
    return [
        e
        for e in store.events.query(job_id=job_id)
        if wanted.search(json.dumps(e.to_json(), ensure_ascii=False))
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventStats:
    total: int
    by_type: Mapping[str, int]
    agents_completed: int
    agents_failed: int
    average_agent_seconds: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def success_rate(self) -> float | None:
        """Percent of finished agent attempts that succeeded."""
        finished = self.agents_completed + self.agents_failed
        return 100.0 * self.agents_completed / finished if finished else None

    def to_json(self) -> dict[str, Any]:
        return {
            "total_events": self.total,
            "by_type": dict(self.by_type),
            "agents_completed": self.agents_completed,
            "agents_failed": self.agents_failed,
            "success_rate": self.success_rate,
            "average_agent_duration_secs": self.average_agent_seconds,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }


def seconds_of(duration: Any) -> float | None:
    """prodigy's `{"secs", "nanos"}` duration as seconds."""
    if isinstance(duration, Mapping) and "secs" in duration:
        return float(duration["secs"]) + float(duration.get("nanos", 0)) / 1e9
    return None


def stats(store: Store, *, job_id: str | None = None) -> EventStats:
    _known_job(store, job_id)
    by_type = store.events.count_by_type(job_id=job_id)
    # summed in SQL: decoding 20,000 agent payloads was most of `events stats`
    agents = store.events.agent_totals(job_id, AGENT_DONE)
    counts = agents["counts"]
    return EventStats(
        total=sum(by_type.values()),
        by_type=dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        agents_completed=counts.get("agent_completed", 0),
        agents_failed=counts.get("agent_failed", 0),
        average_agent_seconds=agents["seconds"] / agents["timed"] if agents["timed"] else None,
        input_tokens=agents["input_tokens"],
        output_tokens=agents["output_tokens"],
        cost_usd=agents["cost_usd"],
    )


def export(
    store: Store, write: Callable[[str], object], fmt: str, *, job_id: str | None = None
) -> int:
    """Write the job's events (or all) in prodigy's record format (docs/events.md), oldest
    first, piece by piece (100,000 events are never held at once): JSONL (one record a line)
    or a JSON array with one compact record per line (still one JSON document). Returns how
    many were written."""
    _known_job(store, job_id)
    count = 0
    for e in store.events.stored(job_id=job_id):
        line = event_json_line(
            id=e.id, ts=e.ts, event_type=e.event_type, payload_text=e.payload,
            job_id=e.job_id, session_id=e.session_id,
        )  # fmt: skip
        if fmt == "jsonl":
            write(line + "\n")
        else:
            write(("[\n" if count == 0 else ",\n") + line)
        count += 1
    if fmt != "jsonl":
        write("[\n]\n" if count == 0 else "\n]\n")
    return count


def clean_candidates(store: Store, before: str, job_id: str | None) -> int:
    _known_job(store, job_id)
    return len(store.events.query(job_id=job_id, until=before))


def clean(store: Store, before: str, job_id: str | None) -> int:
    return store.events.delete(before=before, job_id=job_id)


def follow(
    store: Store,
    emit: Callable[[EventRecord], None],
    *,
    job_id: str | None = None,
    poll: float = 0.25,
) -> None:
    """Print the events so far, then new ones as they are appended, until the job ends.

    Without a job this runs until interrupted. A job has ended when its job_completed or
    job_failed event was printed, or when it is no longer running and nobody holds its lock.
    """
    _known_job(store, job_id)
    last_seq: int | None = None
    checked, gone = 0.0, False
    while True:
        for event in store.events.query(job_id=job_id, after_seq=last_seq):
            emit(event)
            last_seq = event.seq
            if job_id is not None and event.event_type in TERMINAL:
                return
        if gone:
            return  # one last read after the job ended, for events written as it ended
        if job_id is not None and time.monotonic() - checked > 2.0:
            checked = time.monotonic()
            gone = _job_gone(store, job_id)
        time.sleep(poll)


def _job_gone(store: Store, job_id: str) -> bool:
    """Finished, or recorded as running by a process that no longer holds its lock."""
    job = store.jobs.get(job_id)
    if job is None:
        return False
    if job.status is not RunStatus.RUNNING:
        return True
    return live_holder(store.path.parent, job.session_id) is None
