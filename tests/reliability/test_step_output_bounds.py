"""Issue 12, item 14: big step output stays bounded in memory and in the store; captures get
all of it up to their limit. Drives the real `prodigy` CLI.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from tests.support.cli import PRODIGY
from tests.support.reliability import CrashRepo

BIG_WF = """\
name: big-output
commands:
  - shell: |
      python3 -c "import sys; w = sys.stdout.write; [w('line %07d %s\\\\n' % (i, 'x' * 1000)) for i in range({lines})]"
      echo LAST-LINE
    output_file: out.txt
  - shell: |
      wc -c < out.txt > out-size.txt
      git add out-size.txt && git commit -qm size
"""


def _db_bytes(cr: CrashRepo) -> int:
    return sum(p.stat().st_size for p in cr.state_home.glob("prodigy.db*") if p.is_file())


def test_big_uncaptured_output_is_kept_as_a_tail_and_whole_in_the_log(cr: CrashRepo) -> None:
    """3 MB of stdout: the store (steps, checkpoints: shell.output, test.output,
    CAPTURED_OUTPUT) keeps at most a 64 KiB tail each; the step log and output_file have
    all of it."""
    lines = 3000
    cr.write_workflow(BIG_WF.format(lines=lines))
    done = cr.call("run", str(cr.workflow_path), "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    total = lines * 1014 + len("LAST-LINE\n")
    assert cr.cat("out-size.txt").strip() == str(total)
    (output,) = [r[0] for r in cr.query("SELECT output FROM steps WHERE step_index = 0")]
    assert len(output) < 70_000, len(output)
    assert output.rstrip().endswith("LAST-LINE")
    (variables,) = cr.query("SELECT variables FROM checkpoints ORDER BY seq LIMIT 1")[0]
    kept = json.loads(variables)
    for name in ("shell.output", "test.output", "CAPTURED_OUTPUT"):
        assert 60_000 < len(kept[name]) < 70_000, (name, len(kept[name]))
        assert kept[name].startswith("[... ") and "earlier bytes not kept here" in kept[name]
        assert kept[name].rstrip().endswith("LAST-LINE")
    assert len(variables) < 4 * 70_000, len(variables)
    assert _db_bytes(cr) < 2_000_000, _db_bytes(cr)
    logs = sorted((cr.state_home / "logs").rglob("*.log"), key=lambda p: p.stat().st_size)
    text = logs[-1].read_text()
    assert "line 0000000 " in text and "line 0002999 " in text and "LAST-LINE" in text
    assert logs[-1].stat().st_size > total


CAPTURE_WF = """\
name: big-capture
commands:
  - shell: python3 -c "import sys; sys.stdout.write('y' * {size})"
    capture: big
  - shell: |
      printf '%s' "${{big}}" | wc -c > big-size.txt
      git add big-size.txt && git commit -qm size
"""


def test_a_named_capture_gets_all_of_the_output_up_to_its_limit(cr: CrashRepo) -> None:
    size = 2 * 1024 * 1024
    cr.write_workflow(CAPTURE_WF.format(size=size))
    done = cr.call("run", str(cr.workflow_path), "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert cr.cat("big-size.txt").strip() == str(size)

    cr.write_workflow(CAPTURE_WF.format(size=17 * 1024 * 1024))
    over = cr.call("run", str(cr.workflow_path), "-y")
    assert over.returncode == 1
    shown = over.stdout + over.stderr
    assert "capture big: the output is 17825792 bytes, more than the 16 MiB" in shown, shown


@pytest.mark.slow
def test_fifty_megabytes_of_output_keep_memory_and_the_database_small(cr: CrashRepo) -> None:
    """~50 MB of stdout in one step: peak RSS of prodigy stays far below the output size
    (it was 10x the output before) and the database stays small. Measured, not timed."""
    lines = 50_000
    cr.write_workflow(BIG_WF.format(lines=lines))
    proc = subprocess.Popen(
        [str(PRODIGY), "run", str(cr.workflow_path), "-y"],
        cwd=cr.repo,
        env=cr.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS {peak_mb:.1f} MB for {lines * 1014 / 1e6:.1f} MB of output")
    assert peak_mb < 150, peak_mb
    assert _db_bytes(cr) < 2_000_000, _db_bytes(cr)
    assert cr.cat("out-size.txt").strip() == str(lines * 1014 + len("LAST-LINE\n"))
