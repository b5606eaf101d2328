"""Benchmark 4: `events ls --limit 100`, `events stats` and `events export` over a job's
100,000 events, each as a whole process; and what one event append costs."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.store_fixture import JOB_ID, SESSION_ID, item_events, job_store
from benchmarks.timing import Row, Settings, Stats, repeat
from benchmarks.workspace import make_workspace

NAME = "4. events"
BATCH = 1000  # events per transaction while filling; the write time is reported, not a target
# label, argv, target in seconds (issue 18's bars; the earlier one was 2 s for each)
COMMANDS = (
    ("events ls --limit 100", ("events", "ls", "--job", JOB_ID, "--limit", "100"), 0.3),
    ("events stats", ("events", "stats", "--job", JOB_ID), 0.3),
    ("events export (json)", ("events", "export", "--job", JOB_ID, "--output", "out.json"), 1.0),
)


def run(settings: Settings) -> list[Row]:
    total = settings.size(100_000, 500)
    space = make_workspace(settings.work / "events")
    fill = fill_events(space.home, space.repo, total)
    rows = []
    for label, argv, limit in COMMANDS:
        stats = repeat(lambda argv=argv: space.prodigy(*argv).wall, settings.runs)
        rows.append(
            Row(
                benchmark=NAME,
                case=f"{label}, {total:,} events (whole process)",
                unit="s",
                stats=stats,
                limit=limit,
                note="" if rows else f"filled in {fill:.1f} s, {BATCH} events per transaction",
            )
        )
    startup = repeat(lambda: space.prodigy("--version").wall, settings.runs)
    rows.append(
        Row(
            benchmark=NAME,
            case="for scale: prodigy --version (process start)",
            unit="s",
            stats=startup,
        )
    )
    return rows


def fill_events(home: Path, repo: Path, total: int) -> float:
    """Writes `total` events of one job (about a tenth of the items failed); returns seconds."""
    start = time.perf_counter()
    with job_store(home, repo) as store:
        written, index = 0, 0
        while written < total:
            with store.transaction():
                for _ in range(BATCH // 5):
                    for kind, payload in item_events(index, failed=index % 10 == 3):
                        if written < total:
                            store.events.append(
                                kind,
                                payload,
                                job_id=JOB_ID,
                                session_id=SESSION_ID,
                                agent_id=str(payload.get("agent_id") or "") or None,
                            )
                            written += 1
                    index += 1
    return time.perf_counter() - start


def append_cost(root: Path, samples: int) -> Stats:
    """Seconds per event append as a job makes it: one transaction each, synchronous=FULL."""
    space = make_workspace(root)
    with job_store(space.home, space.repo) as store:
        times = []
        for index in range(samples):
            kind, payload = item_events(index, failed=False)[1]
            start = time.perf_counter()
            store.events.append(kind, payload, job_id=JOB_ID, session_id=SESSION_ID)
            times.append(time.perf_counter() - start)
    return Stats(tuple(times))
