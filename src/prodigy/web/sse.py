"""`/api/events`: the event log as server-sent events, resumable without gap or duplicate.

Each event is sent with `id:` = its id (the UUID in the store). A reconnecting browser sends
the last id it saw as `Last-Event-ID`; the stream continues with the event appended right
after that one (the store's `seq` orders them), so nothing is sent twice or skipped. An id
the store no longer has (cleaned by `prodigy events clean`) restarts from the oldest event
kept: a repeat is better than a gap. A comment line `: ping` every PING seconds keeps
proxies and the browser from closing an idle stream.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
from starlette.concurrency import run_in_threadpool

from prodigy.app.dashboard.views import event_json
from prodigy.store.readonly import ReadOnlyStore, open_readonly

BATCH = 200


def start_seq(ro: ReadOnlyStore | None, last_event_id: str | None) -> int:
    """Where the stream starts: after the event named, else at the beginning."""
    if ro is None or not last_event_id:
        return 0
    return ro.event_seq(last_event_id) or 0


def frame(event: dict[str, object]) -> str:
    # json.dumps never writes a raw newline, so the data is one SSE line
    return f"id: {event['id']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


async def stream(
    home: Path,
    job_id: str | None,
    after_seq: int,
    *,
    poll_s: float,
    ping_s: float,
    stopping: threading.Event,
    opener: Callable[[Path], ReadOnlyStore | None] = open_readonly,
) -> AsyncIterator[str]:
    """Events after `after_seq` (of one job, or all), then each new one as it is written,
    until `stopping` is set (the server is shutting down)."""
    seq = after_seq
    ro: ReadOnlyStore | None = None
    yield "retry: 2000\n\n"
    last_sent = time.monotonic()
    try:
        while not stopping.is_set():
            if ro is None:
                ro = await run_in_threadpool(opener, home)  # the database may not exist yet
            batch = []
            if ro is not None:
                batch = await run_in_threadpool(
                    ro.events_after, job_id=job_id, after_seq=seq, limit=BATCH
                )
            for event in batch:
                yield frame(event_json(event))
                seq = event["seq"]
            if batch:
                last_sent = time.monotonic()
                continue
            if time.monotonic() - last_sent >= ping_s:
                yield ": ping\n\n"
                last_sent = time.monotonic()
            await anyio.sleep(poll_s)
    finally:
        if ro is not None:
            ro.close()
