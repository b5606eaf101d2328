"""`python -m benchmarks.ab_inspection BEFORE_SRC AFTER_SRC [--runs N]`: start-up and the
inspection commands of two versions of prodigy (two `src/` directories, e.g. an older
commit unpacked with `git archive COMMIT | tar -x -C /tmp/before`), interleaved in the same
rounds on the same stores (10,000 DLQ items, 100,000 events) beside a bare `python -c pass`.
Prints a Markdown table of median wall and CPU (user + sys) times, with the load average."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import bench_dlq, bench_events
from benchmarks.store_fixture import JOB_ID, job_store
from benchmarks.workspace import Workspace, make_workspace

COMMANDS = (
    ("dlq", "prodigy --version", ("--version",)),
    ("dlq", "prodigy sessions ls", ("sessions", "ls")),
    ("dlq", "dlq list (10,000)", ("dlq", "list", "--job", JOB_ID)),
    ("dlq", "dlq stats (10,000)", ("dlq", "stats", "--job", JOB_ID)),
    ("dlq", "dlq analyze (10,000)", ("dlq", "analyze", "--job", JOB_ID)),
    ("events", "events ls --limit 100 (100,000)",
     ("events", "ls", "--job", JOB_ID, "--limit", "100")),
    ("events", "events stats (100,000)", ("events", "stats", "--job", JOB_ID)),
    ("events", "events export (100,000)",
     ("events", "export", "--job", JOB_ID, "--output", "o.json")),
)  # fmt: skip


def _one(space: Workspace, src: str | None, argv: list[str]) -> tuple[float, float]:
    env = {**space.env(), "PYTHONPATH": src} if src else space.env()
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=space.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (PYTHONPATH={src})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab_inspection")
    parser.add_argument("before", help="the src/ directory of the older version")
    parser.add_argument("after", help="the src/ directory of the newer version")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="prodigy-ab-"))
    try:
        spaces = {"dlq": make_workspace(root / "dlq"), "events": make_workspace(root / "ev")}
        with job_store(spaces["dlq"].home, spaces["dlq"].repo) as store:
            bench_dlq._add_rest(store, 0, 10_000)
        bench_events.fill_events(spaces["events"].home, spaces["events"].repo, 100_000)
        load = os.getloadavg()
        print(f"load before {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
        print("| command | before wall | before CPU | after wall | after CPU | bare wall / CPU"
              " | before CPU / bare | after CPU / bare |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        sources = {"bare": None, "before": args.before, "after": args.after}
        for where, label, command in COMMANDS:
            samples: dict[str, list[tuple[float, float]]] = {k: [] for k in sources}
            for index in range(args.runs + 1):  # round 0 is the warm-up
                for kind, src in sources.items():
                    argv = [
                        sys.executable,
                        *(("-c", "pass") if src is None else ("-m", "prodigy", *command)),
                    ]
                    figure = _one(spaces[where], src, argv)
                    if index:
                        samples[kind].append(figure)
            wall = {k: statistics.median(w for w, _ in v) * 1000 for k, v in samples.items()}
            cpu = {k: statistics.median(c for _, c in v) * 1000 for k, v in samples.items()}
            print(
                f"| {label} | {wall['before']:.0f} ms | {cpu['before']:.0f} ms"
                f" | {wall['after']:.0f} ms | {cpu['after']:.0f} ms"
                f" | {wall['bare']:.0f} / {cpu['bare']:.0f} ms"
                f" | {cpu['before'] / cpu['bare']:.1f}x | {cpu['after'] / cpu['bare']:.1f}x |",
                flush=True,
            )
        load = os.getloadavg()
        print(f"load after {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
