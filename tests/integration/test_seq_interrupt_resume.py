"""Sequential runs against the real `prodigy` CLI (issue 3): Ctrl-C and SIGTERM, resume and
its guards, step and merge timeouts, the session lock, the failure report.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid
from pathlib import Path

from tests.support.scenario import Scenario, wait_for


def marker() -> str:
    """A `sleep` argument no other test uses, to find exactly our processes. 300 s: far from
    any bound below, so a loaded machine is slow, never mistaken for a sleep waited out."""
    return f"{300 + uuid.uuid4().int % 10_000 / 10_000:.4f}"


def sleeping(sc: Scenario, mark: str) -> list[int]:
    """The `sleep MARK` processes themselves (the shell that starts one names it too)."""
    found = []
    for pid in sc.pids(f"sleep {mark}"):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                found.append(pid)
    return found


def all_gone(sc: Scenario, marker: str) -> None:
    """Killed processes disappear once the kernel has run their exit: wait for that."""
    wait_for(lambda: not sc.pids(marker), timeout=30)


def waiting_step(go: str, mark: str) -> str:
    """A shell step that sleeps (visibly as `sleep MARK`) until $HOME/GO exists."""
    return f"test -f ${{HOME}}/{go} || sleep {mark}"


def polling_step(go: str, mark: str) -> str:
    """A shell step that polls for $HOME/GO and so finishes soon after it appears."""
    return f"until test -f ${{HOME}}/{go}; do sleep 0.05; done; true {mark}"


def trail_workflow(sc: Scenario, mark: str) -> Path:
    """Three committing steps; each appends its number to $HOME/trail each time it runs."""
    return sc.workflow(
        "trail",
        f"""
        name: trail
        commands:
          - shell: echo 1 >> ${{HOME}}/trail && echo 1 >> t.txt && git add t.txt && git commit -qm s1
          - shell: echo 2 >> ${{HOME}}/trail; {waiting_step("go", mark)}; echo 2 >> t.txt && git add t.txt && git commit -qm s2
          - shell: echo 3 >> ${{HOME}}/trail && echo 3 >> t.txt && git add t.txt && git commit -qm s3
        """,
    )


def test_sigint_mid_step_then_resume_leaves_no_orphans_and_repeats_no_step(
    sc: Scenario,
) -> None:
    mark = marker()
    proc = sc.start("run", trail_workflow(sc, mark), "-y")
    wait_for(lambda: sleeping(sc, mark))
    proc.send_signal(signal.SIGINT)
    run = sc.finish(proc)
    assert run.code == 130, run
    all_gone(sc, f"sleep {mark}")  # the interrupted step's child
    session = run.session_id()
    assert f"prodigy resume {session}" in run.output
    assert sc.head("master") == sc.init_sha

    (sc.home / "go").touch()
    resumed = sc.prodigy("resume", session)
    assert resumed.code == 0, resumed
    # step 1 ran once, step 2 was cut short and ran again from its start, step 3 once
    assert (sc.home / "trail").read_text() == "1\n2\n2\n3\n"
    assert sc.cat("master:t.txt") == "1\n2\n3\n"


def test_sigint_during_a_claude_step_kills_it_and_resume_reruns_only_that_step(
    sc: Scenario,
) -> None:
    mark = marker()
    wf = sc.workflow(
        "claude-steps",
        f"""
        commands:
          - claude: "/fake-write-commit a.txt one"
          - claude: "/fake-sleep {mark}"
          - claude: "/fake-write-commit b.txt two"
        """,
    )
    proc = sc.start("run", wf, "-y")
    wait_for(lambda: len(sc.calls()) == 2 and sc.pids(f"/fake-sleep {mark}"))
    proc.send_signal(signal.SIGINT)
    run = sc.finish(proc)
    assert run.code == 130, run
    all_gone(sc, f"/fake-sleep {mark}")
    assert "exit" not in sc.calls()[1], "the interrupted claude call should have been killed"

    sc.rules([{"match": "^/fake-sleep ", "exit": 0}])
    resumed = sc.prodigy("resume", run.session_id())
    assert resumed.code == 0, resumed
    assert sc.prompts() == [
        "/fake-write-commit a.txt one",
        f"/fake-sleep {mark}",
        f"/fake-sleep {mark}",
        "/fake-write-commit b.txt two",
    ]
    assert {"a.txt", "b.txt"} <= set(sc.tree("master"))


def test_a_second_sigint_skips_the_grace_period(sc: Scenario) -> None:
    mark = marker()
    sc.env["PRODIGY_GRACE_PERIOD"] = "300"
    # The sleep ignores SIGTERM; its shell notes the SIGTERM the first Ctrl-C sends.
    step = f"trap 'touch ${{HOME}}/got-term' TERM; (trap '' TERM; exec sleep {mark}) & wait; wait"
    wf = sc.workflow("stubborn", f"commands:\n  - shell: {step}\n")
    proc = sc.start("run", wf, "-y")
    wait_for(lambda: sleeping(sc, mark))  # TERM is ignored from now on
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    wait_for((sc.home / "got-term").exists)  # the first Ctrl-C was acted on: the grace runs
    proc.send_signal(signal.SIGINT)
    run = sc.finish(proc)
    assert run.code == 130, run
    assert time.monotonic() - started < 60, "the 300 s grace period was not skipped"
    all_gone(sc, f"sleep {mark}")


def test_sigterm_interrupts_like_ctrl_c_and_records_the_session_interrupted(
    sc: Scenario,
) -> None:
    mark = marker()
    proc = sc.start("run", trail_workflow(sc, mark), "-y")
    wait_for(lambda: sleeping(sc, mark))
    proc.send_signal(signal.SIGTERM)
    run = sc.finish(proc)
    assert run.code == 143, run
    all_gone(sc, f"sleep {mark}")
    assert sc.session_status(run.session_id()) == "interrupted"


def test_resume_restores_captured_variables(sc: Scenario) -> None:
    wf = sc.workflow(
        "captured",
        """
        commands:
          - shell: printf 'cap-%s' "$(cat ${HOME}/seed)"
            capture_output: early
          - shell: test -f ${HOME}/go
          - shell: echo "${early}" > early.txt && git add early.txt && git commit -qm early
        """,
    )
    (sc.home / "seed").write_text("one")
    failed = sc.run(wf)
    assert failed.code == 1, failed
    assert sc.session_status(failed.session_id()) == "failed"
    (sc.home / "seed").write_text("two")  # a re-run of step 1 would capture cap-two
    (sc.home / "go").touch()
    resumed = sc.prodigy("resume")  # no id: the newest resumable session
    assert resumed.code == 0, resumed
    assert failed.session_id() in resumed.output
    assert sc.cat("master:early.txt") == "cap-one\n"


def test_a_custom_merge_timeout_is_enforced(sc: Scenario) -> None:
    mark = marker()
    wf = sc.workflow(
        "slowmerge",
        f"""
        commands:
          - shell: echo x > x.txt && git add x.txt && git commit -qm x
        merge:
          commands:
            - shell: sleep {mark}
          timeout: 1
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert run.seconds < 60  # the merge step alone would sleep 300 s
    all_gone(sc, f"sleep {mark}")
    assert sc.head("master") == sc.init_sha
    assert len(sc.session_worktrees()) == 1


def test_a_step_timeout_kills_a_child_that_ignores_sigterm(sc: Scenario) -> None:
    mark = marker()
    sc.env["PRODIGY_GRACE_PERIOD"] = "1"
    wf = sc.workflow(
        "timeout",
        f"""
        commands:
          - shell: trap '' TERM; sleep {mark}
            timeout: 2
          - shell: touch after.txt
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    # the child would sleep 300 s; the bound leaves room for a loaded machine
    assert run.seconds < 60, f"took {run.seconds:.1f} s for a 2 s timeout and 1 s grace"
    assert "timed out" in run.output.lower()
    all_gone(sc, f"sleep {mark}")  # the child that ignored SIGTERM
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after.txt").exists()


def test_resume_is_refused_at_once_while_the_run_holds_the_session_lock(sc: Scenario) -> None:
    mark = marker()
    proc = sc.start("run", trail_workflow(sc, mark), "-y")
    try:
        wait_for(lambda: sleeping(sc, mark))
        rows = sc.session_ids()
        assert len(rows) == 1
        refused = sc.prodigy("resume", rows[0])
        assert refused.code != 0, refused
        assert refused.seconds < 60  # waiting for the lock would last the 300 s sleep
        assert proc.poll() is None, "the resume waited for the run instead of refusing"
        assert str(proc.pid) in refused.output, "the refusal should name the holder's pid"
        assert (sc.home / "trail").read_text() == "1\n2\n", "the refused resume ran steps"
    finally:
        proc.send_signal(signal.SIGINT)
        sc.finish(proc)


def test_a_second_resume_is_refused_while_the_first_holds_the_lock(sc: Scenario) -> None:
    mark = marker()
    wf = sc.workflow(
        "twice",
        f"""
        commands:
          - shell: test -f ${{HOME}}/armed
          - shell: echo run >> ${{HOME}}/trail; {polling_step("go", mark)}
        """,
    )
    failed = sc.run(wf)
    assert failed.code == 1, failed
    session = failed.session_id()
    (sc.home / "armed").touch()
    first = sc.start("resume", session)
    try:
        wait_for(lambda: sc.pids(f"true {mark}"))
        second = sc.prodigy("resume", session)
        assert second.code != 0, second
        assert str(first.pid) in second.output
        assert first.poll() is None, "the second resume waited instead of refusing"
    finally:
        (sc.home / "go").touch()
        done = sc.finish(first)
    assert done.code == 0, done
    assert (sc.home / "trail").read_text() == "run\n"


def test_the_lock_dies_with_its_holder_and_resume_continues(sc: Scenario) -> None:
    mark = marker()
    proc = sc.start("run", trail_workflow(sc, mark), "-y")
    wait_for(lambda: sleeping(sc, mark))
    proc.kill()  # a crash: no handler runs, the kernel drops the lock
    proc.communicate(timeout=60)
    for pid in sc.pids(f"sleep {mark}"):  # the crashed run could not stop its child
        os.kill(pid, signal.SIGKILL)
    (session,) = sc.session_ids()
    (sc.home / "go").touch()
    resumed = sc.prodigy("resume", session)
    assert resumed.code == 0, resumed
    assert (sc.home / "trail").read_text() == "1\n2\n2\n3\n"
    assert sc.cat("master:t.txt") == "1\n2\n3\n"


def test_resume_of_a_completed_session_says_so_and_does_nothing(sc: Scenario) -> None:
    wf = sc.workflow(
        "done",
        "commands:\n  - shell: echo 1 >> ${HOME}/runs && touch d && git add d && git commit -qm d\n",
    )
    run = sc.run(wf)
    assert run.code == 0, run
    tip = sc.head("master")
    again = sc.prodigy("resume", run.session_id())
    assert again.code == 0, again
    assert "nothing to resume" in again.output
    assert "completed" in again.output
    assert (sc.home / "runs").read_text() == "1\n"
    assert sc.head("master") == tip


def test_resume_refuses_a_changed_workflow_with_a_diff_and_force_proceeds(sc: Scenario) -> None:
    wf = sc.workflow(
        "changing",
        """
        commands:
          - shell: echo 1 > one.txt && git add one.txt && git commit -qm one
          - shell: test -f ${HOME}/go
        """,
    )
    failed = sc.run(wf)
    assert failed.code == 1, failed
    session = failed.session_id()
    with wf.open("a") as f:
        f.write("  - shell: echo added > added.txt && git add added.txt && git commit -qm added\n")
    (sc.home / "go").touch()

    refused = sc.prodigy("resume", session)
    assert refused.code != 0, refused
    assert "+  - shell: echo added > added.txt" in refused.output, "no diff shown"
    assert "--force" in refused.output
    assert sc.head("master") == sc.init_sha

    forced = sc.prodigy("resume", session, "--force")
    assert forced.code == 0, forced
    assert sc.subjects("master").count("one") == 1
    assert sc.cat("master:added.txt") == "added\n"


def test_a_failed_run_ends_with_step_exit_code_output_tail_and_resume_command(
    sc: Scenario,
) -> None:
    wf = sc.workflow(
        "fails",
        """
        commands:
          - shell: echo fine
          - shell: for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do echo line-$i; done; exit 5
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    session = run.session_id()
    tail = run.output[run.output.index("line-25") :]
    assert "exit code 5" in run.output
    assert "step 2" in run.output
    assert "line-25" in run.output and "line-24" in run.output
    assert run.output.rstrip().endswith(f"prodigy resume {session}")
    assert f"prodigy resume {session}" in tail


def test_a_failed_shell_step_report_names_its_log(sc: Scenario) -> None:
    wf = sc.workflow("fails", "commands:\n  - shell: echo oops; exit 5\n")
    run = sc.run(wf)
    assert run.code == 1, run
    found = re.search(r"Log: (\S+)", run.output)
    assert found, run
    assert "oops" in Path(found.group(1)).read_text()
