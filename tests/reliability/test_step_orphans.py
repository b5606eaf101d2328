"""A step orphaned by a crash never runs beside its re-run (issue 12, item 6).

Each step runs in its own process session, so a SIGKILL of prodigy's whole process group
leaves it running. Resume must stop it (and wait) before the step runs again: the step's
side effect happens exactly once and no process of the old step survives.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.support.reliability import CrashRepo, item_workflow, kill_group, wait_until

STEP_VARIABLE = b"PRODIGY_STEP_MARKER="


def once_step() -> str:
    """The first run starts, then waits for $HOME/release and writes `old`; a resumed run
    writes `new`. The test releases only after resume finished: a survivor would write."""
    return (
        '      if [ -e "$HOME/resumed" ]; then echo new >> "$HOME/marker"; else\n'
        '        touch "$HOME/started"\n'
        '        while [ ! -e "$HOME/release" ]; do sleep 0.1; done\n'
        '        echo old >> "$HOME/marker"; fi\n'
    )


def step_processes(home: Path) -> list[int]:
    """Live processes of any tracked step of this test (their environment says so)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        home_set = f"HOME={home}".encode() in environ
        if state != "Z" and home_set and any(v.startswith(STEP_VARIABLE) for v in environ):
            found.append(int(entry.name))
    return found


def crash_during_step(cr: CrashRepo, workflow: str) -> None:
    """Run, then SIGKILL prodigy's whole process group while the step waits."""
    cr.write_workflow(workflow)
    proc = cr.start("run", str(cr.workflow_path), "-y")
    wait_until((cr.home / "started").exists)
    kill_group(proc)
    assert step_processes(cr.home), "the step should have outlived prodigy"
    (cr.home / "resumed").touch()


def session_id(cr: CrashRepo) -> str:
    [row] = cr.query("SELECT id FROM sessions")
    return str(row["id"])


def assert_ran_once(cr: CrashRepo) -> None:
    assert not step_processes(cr.home)
    (cr.home / "release").touch()  # an old step still alive would write `old` now
    time.sleep(1.0)
    assert (cr.home / "marker").read_text() == "new\n"
    assert not cr.query("SELECT * FROM step_processes")


def test_a_sequential_step_left_by_a_crash_is_stopped_before_resume_runs_it(
    cr: CrashRepo,
) -> None:
    crash_during_step(cr, "commands:\n  - shell: |\n" + once_step())
    resumed = cr.call("resume", session_id(cr), "-y")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "left running by the dead run" in resumed.stdout + resumed.stderr
    assert_ran_once(cr)


def test_a_setup_step_left_by_a_crash_is_stopped_before_resume_job_runs_it(
    cr: CrashRepo,
) -> None:
    cr.numbered(2)
    crash_during_step(cr, item_workflow(setup="- shell: |\n" + once_step()))
    resumed = cr.call("resume-job", cr.job_id(), "-y")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_ran_once(cr)
    assert len(cr.check(expect_items=["item_0", "item_1"]).landed) == 2


def test_a_reduce_step_left_by_a_crash_is_stopped_before_resume_runs_it(cr: CrashRepo) -> None:
    cr.numbered(2)
    crash_during_step(cr, item_workflow(reduce="- shell: |\n" + once_step()))
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_ran_once(cr)


@pytest.mark.slow
def test_the_issue_reproduction_sleep_30_then_echo_done_lands_one_line(cr: CrashRepo) -> None:
    """Issue 12 item 6 as written: `sleep 30; echo done >> marker`, SIGKILL, resume."""
    cr.write_workflow(
        'commands:\n  - shell: touch "$HOME/started"; sleep 30; echo done >> "$HOME/marker"\n'
    )
    proc = cr.start("run", str(cr.workflow_path), "-y")
    wait_until((cr.home / "started").exists)
    kill_group(proc)
    killed = time.monotonic()
    resumed = cr.call("resume", session_id(cr), "-y", timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    time.sleep(max(0.0, killed + 31 - time.monotonic()))
    assert (cr.home / "marker").read_text() == "done\n"
    assert not step_processes(cr.home)
