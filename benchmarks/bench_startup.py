"""Benchmark 0: how long `prodigy --version` and `prodigy sessions ls` take to start, against a
bare `python -c pass` of the same interpreter, all three interleaved in the same runs so they
share the machine's load. CPU time (user + sys, from wait4) is reported beside wall time: it
hardly moves with the load, wall time does."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.timing import Row, Settings, Stats, run_child
from benchmarks.workspace import make_workspace

NAME = "0. start-up"
RATIO = 5.0


def run(settings: Settings) -> list[Row]:
    space = make_workspace(settings.work / "startup")
    space.prodigy("run", "--help")  # creates nothing, but compiles every module's bytecode once
    prodigy = str(Path(sys.executable).parent / "prodigy")  # the installed console script
    cases = {
        "bare": [sys.executable, "-c", "pass"],
        "prodigy --version": [prodigy, "--version"],
        "prodigy sessions ls": [prodigy, "sessions", "ls"],
    }
    env = space.env()
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    runs = max(settings.runs, 1) * 4  # each run is tens of milliseconds: take more of them
    for index in range(runs + 1):
        for name, argv in cases.items():
            done = run_child(argv, cwd=space.repo, env=env)
            if index:  # the first round is the warm-up
                walls[name].append(done.wall)
                cpus[name].append(done.cpu)
    bare_wall, bare_cpu = Stats(tuple(walls["bare"])), Stats(tuple(cpus["bare"]))
    rows = []
    for name in ("prodigy --version", "prodigy sessions ls"):
        for label, figures, base in (("wall", walls, bare_wall), ("CPU", cpus, bare_cpu)):
            rows.append(
                Row(
                    benchmark=NAME,
                    case=f"{name}: {label} (whole process)",
                    unit="s",
                    stats=Stats(tuple(figures[name])),
                    baseline=base,
                    baseline_name=f"python -c pass ({label})",
                    ratio_limit=RATIO,
                    note=f"{runs} runs interleaved with the baseline, after one warm-up round",
                )
            )
    return rows
