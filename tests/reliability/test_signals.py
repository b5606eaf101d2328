"""Process control and signals (reliability.md §5 group E): T17, T19, T20."""

from __future__ import annotations

import signal
import time
from datetime import datetime

import pytest
from tests.support.reliability import (
    CrashRepo,
    item_workflow,
    kill_group,
    tagged_processes,
    wait_until,
)

STUBBORN = """\
- shell: |
    if [ "${item.id}" = k001 ]; then
      trap '' TERM
      sleep 1000 &
      (sleep 1000 &)
      wait
    fi
"""


def test_t17_a_hung_agent_is_killed_with_its_whole_tree_at_timeout(cr: CrashRepo) -> None:
    cr.numbered(3)
    text = item_workflow(max_parallel=3, extra_agent=STUBBORN)
    cr.write_workflow(
        text.replace("  max_parallel: 3\n", "  max_parallel: 3\n  agent_timeout_secs: 2\n")
    )
    began = time.monotonic()
    done = cr.call("run", str(cr.workflow_path), "-y", env={"PRODIGY_GRACE_PERIOD": "2.5"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - began < 60
    check = cr.check(expect_items=["item_0", "item_1", "item_2"])  # no tagged process left
    assert check.dlq == {"item_0"} and len(check.landed) == 2  # the others finished
    [entry] = cr.dlq()
    assert entry["failure_history"][-1]["error_type"] == "Timeout"


HANG = """\
- shell: |
    if [ ! -e "$HOME/no-hang" ]; then echo start >> "$HOME/started"; sleep 300; fi
"""


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_t19_ctrl_c_sigterm_and_sighup_stop_cleanly_and_resume_continues(
    cr: CrashRepo, sig: int, code: int
) -> None:
    cr.numbered(6)
    cr.write_workflow(item_workflow(max_parallel=4, extra_agent=HANG))
    proc = cr.start("run", str(cr.workflow_path), "-y")
    started = cr.home / "started"
    wait_until(lambda: started.exists() and len(started.read_text().splitlines()) == 4)
    job = cr.job_id()
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, out + err
    assert time.monotonic() - sent < 12
    assert f"prodigy resume {cr.session_id()}" in out + err
    wait_until(lambda: not tagged_processes(job))  # killed ones disappear once they exit
    last = cr.events()[-1]
    assert last["event_type"] == "job_failed" and last["error"] == "interrupted"
    assert "running" not in cr.items_state().values()
    (cr.home / "no-hang").touch()
    resumed = cr.resume()  # the lock was released: an immediate resume gets it
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(cr.check(expect_items=[f"item_{i}" for i in range(6)]).landed) == 6


HEARTBEAT = """\
- shell: |
    if [ ! -e "$HOME/first-${item.id}" ]; then
      touch "$HOME/first-${item.id}"
      while true; do touch "$HOME/hb-${item.id}"; sleep 0.2; done
    fi
"""


def test_t20_old_agents_are_stopped_before_resume_starts_work(cr: CrashRepo) -> None:
    cr.numbered(4)
    cr.write_workflow(item_workflow(max_parallel=4, extra_agent=HEARTBEAT))
    proc = cr.start("run", str(cr.workflow_path), "-y")
    wait_until(lambda: len(list(cr.home.glob("hb-*"))) == 4)
    proc.send_signal(signal.SIGKILL)  # the orchestrator only: its agents keep beating
    proc.communicate(timeout=10)
    job = cr.job_id()
    assert tagged_processes(job)
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "left by the dead run" in resumed.stdout + resumed.stderr
    # new work starts after the job_resumed event; no old agent wrote after it
    [row] = cr.query("SELECT ts FROM events WHERE event_type = 'job_resumed'")
    resume_start = datetime.fromisoformat(row["ts"].replace("Z", "+00:00")).timestamp()
    for beat in cr.home.glob("hb-*"):
        assert beat.stat().st_mtime <= resume_start + 1, beat
    assert len(cr.check(expect_items=[f"item_{i}" for i in range(4)]).landed) == 4
    kill_group(proc)
