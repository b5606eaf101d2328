"""Benchmark 5: resume at scale. A map job interrupted (SIGINT, as Ctrl-C) after 90% of its
items merged; `prodigy resume-job` is timed until its first new agent starts (its
agent_started event is in the store), then runs to the end. The coordinator's own peak RSS
is recorded for both processes (issue 18 target 5 names a 10,000-item job)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from benchmarks.bench_overhead import check_landed
from benchmarks.timing import ROOT, Row, Settings, Stats, python_argv, unavailable
from benchmarks.workspace import Workspace, items_json, make_workspace, mapreduce_workflow

NAME = "5. resume at scale"
# Each agent commits, but adds no file: with benchmark 1's file per item, every agent's
# checkout grew with the job (9,000 files by the end) and building the interrupted state
# took 40 minutes here instead of 4, while what resume reads (the store, 9,000 merges of
# history) is the same.
STEP = 'shell: git commit -q --allow-empty -m "item ${item.n}"'
POLL_S = 0.02


def run(settings: Settings) -> list[Row]:
    # The target names 10,000 items: about 9,000 real agents land before the interrupt
    # (about 4 minutes on two cores). BENCH_RESUME_ITEMS=1000 keeps the same shape.
    full = int(os.environ.get("BENCH_RESUME_ITEMS", "10000"))
    items, parallel = settings.size(full, 200), settings.size(8, 2)
    landed = items * 9 // 10
    space = make_workspace(
        settings.work / "resume",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, parallel)},
    )
    probe = space.prodigy("resume-job", "--help", check=False)
    if "not implemented" in (probe.stdout + probe.stderr).lower():
        return [unavailable(NAME, f"{items:,} items", "resume-job not implemented")]
    job_id, merged = _interrupted_run(space, landed)
    run_peak = _peak_mb(space)
    first_agent, total = _resume(space, job_id)
    resume_peak = _peak_mb(space)
    check_landed(space, items, "")
    memory = "6. coordinator memory"
    return [
        Row(
            benchmark=NAME,
            case=f"{items:,} items, interrupted after {merged:,} merged: resume-job until its"
            " first new agent starts",
            unit="s",
            stats=Stats((first_agent,)),
            limit=3.0,
            note=f"1 run (the interrupted state takes long to build); the whole resume took"
            f" {total:.1f} s; the target names 10,000 items, measured here at {items:,}",
        ),
        Row(
            benchmark=memory,
            case=f"{items:,} items, max_parallel {parallel}: `prodigy run` up to the interrupt"
            f" ({merged:,} merged), peak RSS of prodigy (children excluded)",
            unit="MB",
            stats=Stats((run_peak,)),
            limit=150.0,
            note="the run benchmark 5 interrupts; VmHWM at its exit",
        ),
        Row(
            benchmark=memory,
            case=f"{items:,} items: `resume-job` to the end, peak RSS (children excluded)",
            unit="MB",
            stats=Stats((resume_peak,)),
            limit=150.0,
        ),
    ]


def _peak_mb(space: Workspace) -> float:
    """The last coordinator's own peak RSS, written at its exit by benchmarks.prodigy_rss."""
    return float(_rss_file(space).read_text()) / 1024


def _rss_file(space: Workspace) -> Path:
    return space.root / "rss.txt"


def _popen(space: Workspace, *args: str) -> subprocess.Popen[bytes]:
    _rss_file(space).unlink(missing_ok=True)
    env = {**space.env(), "PYTHONPATH": str(ROOT), "BENCH_RSS_FILE": str(_rss_file(space))}
    return subprocess.Popen(
        python_argv("-m", "benchmarks.prodigy_rss", *args),
        cwd=space.repo,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet, or busy for a moment


def _interrupted_run(space: Workspace, landed: int) -> tuple[str, int]:
    db = space.home / "prodigy.db"
    proc = _popen(space, "run", "wf.yml", "-y")
    merged = 0
    while proc.poll() is None:
        rows = _query(db, "SELECT COUNT(*) FROM events WHERE event_type = 'merge_completed'")
        merged = int(rows[0][0]) if rows else 0
        if merged >= landed:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
            break
        time.sleep(0.2)
    proc.wait(timeout=300)
    rows = _query(db, "SELECT id FROM jobs ORDER BY created_at DESC LIMIT 1")
    if not rows or proc.returncode == 0:
        raise RuntimeError(f"{space.repo}: the job finished before it could be interrupted")
    final = _query(db, "SELECT COUNT(*) FROM events WHERE event_type = 'merge_completed'")
    return str(rows[0][0]), int(final[0][0])


def _resume(space: Workspace, job_id: str) -> tuple[float, float]:
    db = space.home / "prodigy.db"
    (last,) = _query(db, "SELECT COALESCE(MAX(seq), 0) FROM events")[0]
    start = time.perf_counter()
    proc = _popen(space, "resume-job", job_id, "-y")
    first = None
    while first is None:
        running = proc.poll() is None  # before the query: a resume that ends between them
        started = _query(  # still has its agent_started event in the store
            db, f"SELECT 1 FROM events WHERE event_type = 'agent_started' AND seq > {last}"
        )
        if started:
            first = time.perf_counter() - start
        elif not running:
            break
        else:
            time.sleep(POLL_S)
    proc.wait(timeout=1800)
    total = time.perf_counter() - start
    if proc.returncode != 0 or first is None:
        raise RuntimeError(f"resume-job {job_id} exited {proc.returncode} without a new agent")
    return first, total
