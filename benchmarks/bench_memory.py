"""Benchmark 6: the coordinator's own peak RSS (children excluded) running a map of 1,000
items at max_parallel 8 (`BENCH_MEMORY_ITEMS` to choose). Benchmark 5 reports the same peak
for its 10,000-item job, the target's size; repeating that job here would add half an hour:
each item commits a file, so every agent's checkout grows with the job."""

from __future__ import annotations

import os

from benchmarks.bench_overhead import STEP, check_landed
from benchmarks.timing import Row, Settings, Stats
from benchmarks.workspace import items_json, make_workspace, mapreduce_workflow, reset_repo

NAME = "6. coordinator memory"


def run(settings: Settings) -> list[Row]:
    items = settings.size(int(os.environ.get("BENCH_MEMORY_ITEMS", "1000")), 10)
    space = make_workspace(
        settings.work / "memory",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, 8)},
    )
    runs = 1 if not settings.quick else settings.runs  # minutes per run at full size
    peaks, walls = [], []
    for _ in range(runs):
        reset_repo(space)
        done = space.prodigy("run", "wf.yml", "-y")
        check_landed(space, items, done.stdout)
        peaks.append(done.max_rss_mb)
        walls.append(done.wall)
    startup = space.prodigy("--version").max_rss_mb
    return [
        Row(
            benchmark=NAME,
            case=f"{items:,} items, max_parallel 8: peak RSS of prodigy (children excluded)",
            unit="MB",
            stats=Stats(tuple(peaks)),
            limit=150.0,
            note=f"{runs} run(s) without warm-up (peak memory does not need one), wall"
            f" {max(walls):.0f} s; `prodigy --version` alone peaks at {startup:.0f} MB",
        )
    ]
