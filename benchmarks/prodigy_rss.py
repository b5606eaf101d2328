"""`python -m benchmarks.prodigy_rss ARGS` runs `prodigy ARGS` in this process and, at exit,
writes its own peak RSS in KiB (children excluded) to $BENCH_RSS_FILE."""

from __future__ import annotations

import atexit
import os
import resource
from pathlib import Path

from prodigy.cli.main import main


def _write_peak() -> None:
    target = os.environ.get("BENCH_RSS_FILE")
    if target:
        Path(target).write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


atexit.register(_write_peak)
raise SystemExit(main())
