"""Benchmark 1: per-item overhead of a map against the bash floor doing the same git work,
and (benchmark 4's last target) the share of that wall time spent writing events."""

from __future__ import annotations

import os
import shutil
import sqlite3

from benchmarks.bench_events import append_cost
from benchmarks.timing import ROOT, Row, Settings, Stats, interleaved, run_child, unavailable
from benchmarks.workspace import (
    Workspace,
    commits_on_main,
    items_json,
    make_workspace,
    mapreduce_workflow,
    reset_repo,
)

STEP = (
    "shell: echo ${item.n} > out-${item.n}.txt && git add out-${item.n}.txt"
    ' && git commit -qm "item ${item.n}"'
)
BASELINE = ROOT / "benchmarks" / "baseline_map.sh"
NAME = "1. per-item overhead"


def run(settings: Settings) -> list[Row]:
    items = settings.size(200, 5)
    rows = []
    for parallel in (1, 4):
        try:
            rows.extend(_compare(settings, items, parallel))
        except RuntimeError as exc:  # keep the other parallelism's figures
            case = f"N={items}, max_parallel {parallel}"
            rows.append(unavailable(NAME, case, " ".join(str(exc).split())[:400]))
    try:
        rows.append(_git_processes(settings, items))
    except RuntimeError as exc:
        rows.append(unavailable(NAME, "git processes per item", " ".join(str(exc).split())[:400]))
    return rows


def _git_processes(settings: Settings, items: int) -> Row:
    """Git processes per item, both sides counted by a `git` shim on PATH (one run each, at
    max_parallel 1; the job's fixed processes are spread over the N items)."""
    space = make_workspace(
        settings.work / "overhead-git",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, 1)},
    )
    real = shutil.which("git")
    if real is None:
        raise RuntimeError("git is not on PATH")
    shim = space.root / "git-shim"
    shim.mkdir()
    (shim / "git").write_text(f'#!/bin/sh\necho >> "$BENCH_GIT_LOG"\nexec {real} "$@"\n')
    (shim / "git").chmod(0o755)
    log = space.root / "git.log"
    env = {**space.env(), "PATH": f"{shim}:{os.environ['PATH']}", "BENCH_GIT_LOG": str(log)}

    def counted(side: str) -> float:
        log.unlink(missing_ok=True)
        reset_repo(space)  # before the shim counts: reset_repo runs git itself
        log.unlink(missing_ok=True)
        if side == "prodigy":
            check_landed(space, items, space.prodigy("run", "wf.yml", "-y", env=env).stdout)
        else:
            argv = ["bash", str(BASELINE), str(space.repo), str(space.root / "b"), str(items), "1"]
            check_landed(space, items, run_child(argv, cwd=space.repo, env=env).stderr)
        return len(log.read_text().splitlines()) / items

    return Row(
        benchmark=NAME,
        case=f"N={items}, max_parallel 1: git processes per item",
        unit="",
        stats=Stats((counted("prodigy"),)),
        baseline=Stats((counted("bash"),)),
        baseline_name="bash + git",
        note="counted with a git shim on PATH, one run each; the step's own `git add` and"
        " `git commit` are on both sides",
    )


def _compare(settings: Settings, items: int, parallel: int) -> list[Row]:
    space = make_workspace(
        settings.work / f"overhead-p{parallel}",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, parallel)},
    )
    shares: list[Row] = []

    def ours_once() -> float:
        wall = _prodigy_once(space, items)
        if parallel == 4:  # read this run's store before the next reset removes it
            shares[:] = [_event_share(space, wall)]
        return wall

    both = interleaved(
        {"prodigy": ours_once, "bash": lambda: _baseline_once(space, items, parallel)},
        settings.runs,
    )
    ours, floor = both["prodigy"], both["bash"]
    row = Row(
        benchmark=NAME,
        case=f"N={items}, max_parallel {parallel}: prodigy run wall",
        unit="s",
        stats=ours,
        baseline=floor,
        baseline_name="bash + git (xargs -P, flock)",
        note="runs interleaved with the floor's, the side going first alternating",
        ratio_limit=1.2,  # issue 18 target 1 (was 1.3)
        extra={
            "per_item_ms": round(ours.median / items * 1000, 1),
            "baseline_per_item_ms": round(floor.median / items * 1000, 1),
        },
    )
    return [row, *shares]


def _prodigy_once(space: Workspace, items: int) -> float:
    reset_repo(space)
    done = space.prodigy("run", "wf.yml", "-y")
    check_landed(space, items, done.stdout)
    return done.wall


def _baseline_once(space: Workspace, items: int, parallel: int) -> float:
    reset_repo(space)
    work = space.root / "baseline"
    argv = ["bash", str(BASELINE), str(space.repo), str(work), str(items), str(parallel)]
    done = run_child(argv, cwd=space.repo, env=space.env())
    check_landed(space, items, done.stderr)
    return done.wall


def check_landed(space: Workspace, items: int, output: str) -> None:
    landed = commits_on_main(space, "^item ")
    if landed != items:
        raise RuntimeError(f"{space.repo}: {landed} of {items} items landed:\n{output[-2000:]}")


def _event_share(space: Workspace, wall: float) -> Row:
    """Events the last max_parallel-4 run wrote, times what one append costs in a store of the
    same configuration, as a share of that run's wall time."""
    with sqlite3.connect(space.home / "prodigy.db") as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
    cost = append_cost(space.root / "append-cost", samples=200)
    share = count * cost.median / wall * 100
    return Row(
        benchmark="4. events",
        case="event writing as a share of benchmark 1 (max_parallel 4)",
        unit="%",
        stats=None if count == 0 else Stats((share,)),
        limit=5.0,
        note=f"{count} events x {cost.median * 1000:.2f} ms per append (median of 200"
        f" single-event transactions), over a {wall:.2f} s run",
    )
