"""Shared measuring: repeated timings (a warm-up, then N runs), peak memory of a child process,
machine load, and the result rows every benchmark returns."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """What the command line asked for: sizes scale down with --quick."""

    runs: int = 5
    quick: bool = False
    work: Path = Path("/tmp")

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass(frozen=True)
class Stats:
    """Median, min and max of the runs after the warm-up."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


@dataclass(frozen=True)
class Row:
    """One line of the results table.

    `limit` is the target as a number in `unit` (or a ratio to the baseline when `ratio_limit`);
    `met` is None when the row has no target or the figure could not be taken (`note` says why).
    """

    benchmark: str
    case: str
    unit: str
    stats: Stats | None
    baseline: Stats | None = None
    baseline_name: str = ""
    limit: float | None = None
    ratio_limit: float | None = None
    note: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.stats is None or self.baseline is None or self.baseline.median == 0:
            return None
        return self.stats.median / self.baseline.median

    @property
    def met(self) -> bool | None:
        if self.stats is None:
            return None
        checks: list[bool] = []
        if self.limit is not None:
            checks.append(self.stats.median < self.limit)
        if self.ratio_limit is not None and self.ratio is not None:
            checks.append(self.ratio <= self.ratio_limit)
        return all(checks) if checks else None

    @property
    def target(self) -> str:
        parts = []
        if self.limit is not None:
            parts.append(f"< {self.limit:g} {self.unit}")
        if self.ratio_limit is not None:
            parts.append(f"≤ {self.ratio_limit:g}x baseline")
        return ", ".join(parts)


def unavailable(benchmark: str, case: str, reason: str) -> Row:
    return Row(benchmark=benchmark, case=case, unit="", stats=None, note=f"not available: {reason}")


def interleaved(actions: Mapping[str, Callable[[], float]], runs: int) -> dict[str, Stats]:
    """A warm-up of each, then `runs` rounds of all of them, the order rotating each round, so
    load that drifts during the benchmark weighs on every side alike."""
    names = list(actions)
    for name in names:
        actions[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(actions[name]())
    return {name: Stats(tuple(figures)) for name, figures in samples.items()}


def repeat(action: Callable[[], float | None], runs: int) -> Stats:
    """One warm-up, then `runs` timed calls; `action` may return its own figure (else wall s)."""
    action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        figure = action()
        samples.append(time.perf_counter() - start if figure is None else figure)
    return Stats(tuple(samples))


@dataclass(frozen=True)
class ChildRun:
    wall: float
    max_rss_mb: float  # the child's peak RSS (wait4: it and the descendants it waited for)
    stdout: str
    stderr: str
    returncode: int
    cpu: float = 0.0  # user + sys seconds of the child and the descendants it waited for


def run_child(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    check: bool = True,
) -> ChildRun:
    """Runs one process to the end; wall time and peak RSS come from wait4 on that pid alone
    (RUSAGE_CHILDREN would give the largest child ever, not this one)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... exited {proc.returncode} in {cwd}:\n{stdout[-2000:]}\n"
            f"{stderr[-2000:]}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(wall, usage.ru_maxrss / 1024, stdout, stderr, proc.returncode, cpu)


def python_argv(*args: str) -> list[str]:
    return [sys.executable, *args]


def load() -> tuple[float, float, float]:
    return os.getloadavg()
