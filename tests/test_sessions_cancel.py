"""`prodigy sessions cancel`: stop a running job from another terminal, then resume it."""

from __future__ import annotations

from pathlib import Path

from tests.support.dashboard import has_running_item, release, start_job, stop, wait_for
from tests.support.mapreduce import MapReduceRepo


def test_cancel_by_job_id_interrupts_the_run_and_resume_job_finishes_it(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"id": n, "fail": 0, "ticks": 600} for n in (1, 2)])  # wait until released
    run = start_job(mr, "cancel")
    try:
        wait_for(lambda: has_running_item(mr), what="a running item")
        job = mr.job_id()
        cancelled = mr.prodigy("sessions", "cancel", job)
        assert cancelled.returncode == 0, cancelled.stderr
        assert f"(pid {run.pid})" in cancelled.stdout and cancelled.stderr == ""
        assert run.wait(timeout=60) == 143  # SIGTERM, as `kill PID` from a terminal
    finally:
        stop(run)
    assert mr.query("SELECT status FROM jobs")[0]["status"] == "interrupted"
    again = mr.prodigy("sessions", "cancel", job)
    assert again.returncode == 2 and "is not running" in again.stderr and again.stdout == ""
    release(mr)
    resumed = mr.prodigy("resume-job", job, "-y")
    assert resumed.returncode == 0, resumed.stderr
    assert mr.query("SELECT status FROM jobs")[0]["status"] == "completed"
    assert sorted(mr.items_state().values()) == ["merged", "merged"]


def test_cancel_of_an_unknown_id_is_a_usage_error(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    unknown = mr.prodigy("sessions", "cancel", "session-nope")
    assert unknown.returncode == 2 and "session-nope" in unknown.stderr
