"""`python -m benchmarks [--quick] [--only NAME]... [--runs N] [--out DIR]`: run the
benchmarks and write results.md and results.json (default benchmarks/results/)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    bench_claude,
    bench_dlq,
    bench_events,
    bench_memory,
    bench_overhead,
    bench_planning,
    bench_ray,
    bench_resume,
    bench_startup,
)
from benchmarks.report import write_results
from benchmarks.timing import ROOT, Row, Settings, load, unavailable

BENCHMARKS: dict[str, tuple[str, Callable[[Settings], list[Row]]]] = {
    "startup": ("0. start-up", bench_startup.run),
    "overhead": ("1. per-item overhead", bench_overhead.run),
    "planning": ("2. planning", bench_planning.run),
    "dlq": ("3. dead letter queue", bench_dlq.run),
    "events": ("4. events", bench_events.run),
    "resume": ("5. resume at scale", bench_resume.run),
    "memory": ("6. coordinator memory", bench_memory.run),
    "claude": ("7. real Claude Code CLI", bench_claude.run),
    "ray": ("8. Ray executor", bench_ray.run),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="timed runs after the warm-up (default 5, 1 with --quick)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.quick else 5)
    if runs < 1:
        parser.error("--runs must be 1 or more")
    work = Path(tempfile.mkdtemp(prefix="prodigy-bench-"))
    settings = Settings(runs=runs, quick=args.quick, work=work)
    loads = [load()]
    rows: list[Row] = []
    try:
        for key in args.only or list(BENCHMARKS):
            title, bench = BENCHMARKS[key]
            started = time.perf_counter()
            print(f"== {title}", flush=True)
            try:
                found = bench(settings)
            except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
                traceback.print_exc()
                found = [unavailable(title, "(all)", f"{type(exc).__name__}: {exc}"[:300])]
            for row in found:
                print(f"   {row.case}: {_brief(row)}", flush=True)
            print(f"   ({time.perf_counter() - started:.0f} s, load {load()[0]:.2f})", flush=True)
            rows.extend(found)
            loads.append(load())
            # after each benchmark, so a long run stopped early still leaves its figures
            md, js = write_results(_in_order(rows), settings, loads, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {md} and {js}")
    return 0


def _in_order(rows: list[Row]) -> list[Row]:
    """By benchmark number, whatever order they ran in (a row of 4 comes from benchmark 1)."""
    return sorted(rows, key=lambda row: row.benchmark.split(".")[0].zfill(3))


def _brief(row: Row) -> str:
    if row.stats is None:
        return row.note
    ratio = f", {row.ratio:.2f}x baseline" if row.ratio is not None else ""
    verdict = {True: " (met)", False: " (MISSED)", None: ""}[row.met]
    return f"median {row.stats.median:.4g} {row.unit}{ratio}{verdict}"


if __name__ == "__main__":
    sys.exit(main())
