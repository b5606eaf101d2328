"""`python -m benchmarks.prodigy_rss ARGS` runs `prodigy ARGS` in this process and, at exit,
writes its own peak RSS in KiB (children excluded) to $BENCH_RSS_FILE.

The peak is VmHWM from /proc/self/status, not getrusage's ru_maxrss: Linux carries the
parent's RSS into ru_maxrss across fork + exec, so a child of the benchmark process (180 MB
after planning 100,000 objects in-process) reported 180 MB whatever it used itself."""

from __future__ import annotations

import atexit
import os
import resource
from pathlib import Path

from prodigy.cli.main import main


def peak_kib() -> int:
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1])


def _write_peak() -> None:
    target = os.environ.get("BENCH_RSS_FILE")
    if target:
        Path(target).write_text(str(peak_kib()))


atexit.register(_write_peak)
raise SystemExit(main())
