"""Sequential runs beyond the conformance scenarios (issue 3), against the real `prodigy` CLI.

Hostile captured values, Ctrl-C and resume, timeouts, the session lock, resume guards,
dry runs, the merge prompt, step options and the merge-conflict fallback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.scenario import Scenario, open_scenario, wait_for

HOSTILE = "a \"dq\" 'sq' $(touch PWNED1) `touch PWNED2` ; touch PWNED3 & $HOME\nline 2 * ~ \\ end"


@pytest.fixture
def sc(tmp_path: Path) -> Iterator[Scenario]:
    with open_scenario(tmp_path) as scenario:
        yield scenario


def marker() -> str:
    """A `sleep` argument no other test uses, to find exactly our processes."""
    return f"{30 + uuid.uuid4().int % 10_000 / 10_000:.4f}"


def waiting_step(go: str, mark: str) -> str:
    """A shell step that sleeps (visibly as `sleep MARK`) until $HOME/GO exists."""
    return f"test -f ${{HOME}}/{go} || sleep {mark}"


def polling_step(go: str, mark: str) -> str:
    """A shell step that polls for $HOME/GO and so finishes soon after it appears."""
    return f"until test -f ${{HOME}}/{go}; do sleep 0.05; done; true {mark}"


# --- shell safety ---------------------------------------------------------------------


def test_hostile_captured_output_reaches_later_steps_as_data(sc: Scenario) -> None:
    (sc.home / "hostile.txt").write_text(HOSTILE)
    wf = sc.workflow(
        "hostile",
        """
        name: hostile
        commands:
          - shell: cat ${HOME}/hostile.txt
            capture_output: v
          - shell: printf '%s' ${v} > unquoted.txt
          - shell: printf '%s' "${v}" > double.txt
          - shell: printf '%s' '${v}' > single.txt
          - claude: "/fake-echo ${v}"
          - shell: cat ${HOME}/hostile.txt
          - shell: printf '%s' ${shell.output} > default.txt
          - shell: git add -A && git commit -qm hostile
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    for name in ("unquoted.txt", "double.txt", "single.txt", "default.txt"):
        assert sc.cat(f"master:{name}") == HOSTILE, name
    assert sc.prompts() == [f"/fake-echo {HOSTILE}"]
    assert not list(sc.root.rglob("PWNED*")), "a captured value was run as code"


def test_hostile_args_reach_steps_as_data_and_verbose_shows_commands(sc: Scenario) -> None:
    wf = sc.workflow(
        "hostile-args",
        """
        commands:
          - shell: printf '%s' "$ARG" > a.txt && printf '%s' ${ARG} > b.txt
          - shell: git add -A && git commit -qm args
        """,
    )
    run = sc.run(wf, "-v", "--args", HOSTILE)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == HOSTILE
    assert sc.cat("master:b.txt") == HOSTILE
    assert not list(sc.root.rglob("PWNED*"))
    shown = re.search(r"^\s+\$ shell: printf (.*)$", run.stdout, re.M)
    # -v shows what bash runs: references to the values, then each value (issue 12 item 15)
    assert (
        shown
        and shown.group(1)
        == """'%s' "${PRODIGY_V_0}" > a.txt && printf '%s' "$PRODIGY_V_0" > b.txt"""
    )
    assert f"with PRODIGY_V_0={json.dumps(HOSTILE)[:60]}" in run.stdout


# --- Ctrl-C, resume, timeouts, the lock ----------------------------------------------


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
    wait_for(lambda: sc.pids(f"sleep {mark}"))
    proc.send_signal(signal.SIGINT)
    run = sc.finish(proc, timeout=15)
    assert run.code == 130, run
    assert not sc.pids(f"sleep {mark}"), "the interrupted step's child survived"
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
    run = sc.finish(proc, timeout=15)
    assert run.code == 130, run
    assert not sc.pids(f"/fake-sleep {mark}")
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
    sc.env["PRODIGY_GRACE_PERIOD"] = "25"
    wf = sc.workflow("stubborn", f"commands:\n  - shell: trap '' TERM; sleep {mark}\n")
    proc = sc.start("run", wf, "-y")
    wait_for(lambda: sc.pids(f"sleep {mark}"))
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    run = sc.finish(proc, timeout=15)
    assert run.code == 130, run
    assert time.monotonic() - started < 15, "the 25 s grace period was not skipped"
    assert not sc.pids(f"sleep {mark}")


def test_sigterm_interrupts_like_ctrl_c_and_records_the_session_interrupted(
    sc: Scenario,
) -> None:
    mark = marker()
    proc = sc.start("run", trail_workflow(sc, mark), "-y")
    wait_for(lambda: sc.pids(f"sleep {mark}"))
    proc.send_signal(signal.SIGTERM)
    run = sc.finish(proc, timeout=15)
    assert run.code == 143, run
    assert not sc.pids(f"sleep {mark}")
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


def test_cook_alias_and_path_option_run_from_outside_the_repository(sc: Scenario) -> None:
    run = sc.prodigy("cook", committing_workflow(sc), "-y", "-p", sc.repo, cwd=sc.home)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "a\n"


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
    assert run.seconds < 20  # the merge step alone would sleep 30 s
    assert not sc.pids(f"sleep {mark}")
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
    # the child would sleep 30 s; the bound leaves room for a loaded machine
    assert run.seconds < 20, f"took {run.seconds:.1f} s for a 2 s timeout and 1 s grace"
    assert "timed out" in run.output.lower()
    assert not sc.pids(f"sleep {mark}"), "the child that ignored SIGTERM is still running"
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after.txt").exists()


def test_resume_is_refused_at_once_while_the_run_holds_the_session_lock(sc: Scenario) -> None:
    mark = marker()
    proc = sc.start("run", trail_workflow(sc, mark), "-y")
    try:
        wait_for(lambda: sc.pids(f"sleep {mark}"))
        rows = sc.session_ids()
        assert len(rows) == 1
        refused = sc.prodigy("resume", rows[0], timeout=10)
        assert refused.code != 0, refused
        assert refused.seconds < 15
        assert proc.poll() is None, "the resume waited for the run instead of refusing"
        assert str(proc.pid) in refused.output, "the refusal should name the holder's pid"
        assert (sc.home / "trail").read_text() == "1\n2\n", "the refused resume ran steps"
    finally:
        proc.send_signal(signal.SIGINT)
        sc.finish(proc, timeout=15)


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
        second = sc.prodigy("resume", session, timeout=15)
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
    wait_for(lambda: sc.pids(f"sleep {mark}"))
    proc.kill()  # a crash: no handler runs, the kernel drops the lock
    proc.communicate(timeout=15)
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


# --- dry run, dirty checkout, the merge prompt ---------------------------------------


def test_dry_run_shows_interpolated_steps_and_creates_nothing(sc: Scenario) -> None:
    wf = sc.workflow(
        "dry",
        """
        commands:
          - shell: touch ${HOME}/dry-marker-${ARG}
          - claude: "/fake-write-commit x.txt ${ARG}"
        """,
    )
    run = sc.prodigy("run", wf, "--dry-run", "--args", "v1")
    assert run.code == 0, run
    assert "/fake-write-commit x.txt v1" in run.stdout
    assert sc.calls() == []
    assert not list(sc.home.glob("dry-marker*"))
    assert sc.branches() == ["master"] and sc.session_worktrees() == []
    assert sc.session_rows() == 0
    assert not (sc.home / ".prodigy" / "worktrees").exists()


def test_a_dirty_checkout_is_warned_about_and_a_clean_one_is_not(sc: Scenario) -> None:
    wf = sc.workflow("w", "commands:\n  - shell: test ! -s notes.txt\n")
    clean = sc.run(wf)
    assert clean.code == 0, clean
    assert "uncommitted" not in clean.output
    (sc.repo / "README.md").write_text("# demo\nedited\n")
    dirty = sc.run(wf)
    assert dirty.code == 0, dirty
    assert "uncommitted changes" in dirty.output
    assert (sc.repo / "README.md").read_text() == "# demo\nedited\n"


def test_a_run_without_commits_merges_nothing_and_removes_its_worktree(sc: Scenario) -> None:
    run = sc.run(sc.workflow("idle", "commands:\n  - shell: echo idle\n"))
    assert run.code == 0, run
    assert "No changes to merge" in run.output
    assert sc.head("master") == sc.init_sha
    assert sc.session_worktrees() == []
    assert sc.branches() == ["master"]


def committing_workflow(sc: Scenario) -> Path:
    return sc.workflow(
        "commit", "commands:\n  - shell: echo a > a.txt && git add a.txt && git commit -qm a\n"
    )


def test_answering_n_at_the_merge_prompt_keeps_the_worktree(sc: Scenario) -> None:
    run = sc.prodigy("run", committing_workflow(sc), stdin="n\n")
    assert run.code == 0, run
    session = run.session_id()
    assert f"Merge {session} to master [Y/n]" in run.stdout
    assert sc.head("master") == sc.init_sha
    (worktree,) = sc.session_worktrees()
    assert (worktree / "a.txt").read_text() == "a\n"
    assert f"prodigy-{session}" in sc.branches()
    found = re.search(r"Merge later with: (.+)", run.output)
    assert found and session in found.group(1), run


def test_the_printed_merge_command_merges_the_kept_session(sc: Scenario) -> None:
    run = sc.prodigy("run", committing_workflow(sc), stdin="n\n")
    found = re.search(r"Merge later with: (.+)", run.output)
    assert found, run
    done = subprocess.run(
        found.group(1),
        check=False,
        shell=True,
        cwd=sc.repo,
        env=sc.env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done
    assert sc.cat("master:a.txt") == "a\n"


@pytest.mark.parametrize("answer", ["\n", "y\n", ""], ids=["empty", "y", "eof"])
def test_an_empty_answer_yes_or_end_of_input_merges(sc: Scenario, answer: str) -> None:
    run = sc.prodigy("run", committing_workflow(sc), stdin=answer)
    assert run.code == 0, run
    assert "[Y/n]" in run.stdout
    assert sc.cat("master:a.txt") == "a\n"
    assert sc.session_worktrees() == []


def test_a_failed_claude_step_report_names_its_log(sc: Scenario) -> None:
    wf = sc.workflow("fails", 'commands:\n  - claude: "/fake-fail 3 boom-3"\n')
    run = sc.run(wf)
    assert run.code == 1, run
    assert "boom-3" in run.output
    found = re.search(r"Log: (\S+)", run.output)
    assert found, run
    assert Path(found.group(1)).is_file()


# --- step options ---------------------------------------------------------------------


def test_commit_required_failure_names_the_step(sc: Scenario) -> None:
    wf = sc.workflow(
        "nocommit",
        """
        commands:
          - shell: echo nothing to commit
            id: make-change
            commit_required: true
          - shell: touch after.txt
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "make-change" in run.output
    assert "commit" in run.output
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after.txt").exists()


def test_on_failure_string_true_and_non_fatal_handler_let_the_run_continue(sc: Scenario) -> None:
    wf = sc.workflow(
        "handlers",
        """
        commands:
          - shell: exit 3
            on_failure: "echo handled-by-string > h1.txt"
          - shell: exit 4
            on_failure: true
          - shell: exit 5
            on_failure:
              shell: echo handled-by-map > h3.txt
              fail_workflow: false
          - shell: echo reached > end.txt && git add -A && git commit -qm handled
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:h1.txt") == "handled-by-string\n"
    assert sc.cat("master:h3.txt") == "handled-by-map\n"
    assert sc.cat("master:end.txt") == "reached\n"


def test_on_failure_false_fails_the_run(sc: Scenario) -> None:
    wf = sc.workflow(
        "fatal", "commands:\n  - shell: exit 4\n    on_failure: false\n  - shell: touch after\n"
    )
    run = sc.run(wf)
    assert run.code == 1, run
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after").exists()


def test_max_iterations_stops_early_when_a_pass_commits_nothing(sc: Scenario) -> None:
    wf = sc.workflow("passes", "commands:\n  - shell: echo pass >> ${HOME}/passes\n")
    run = sc.run(wf, "-n", "3")
    assert run.code == 0, run
    assert (sc.home / "passes").read_text() == "pass\n"


def test_max_iterations_runs_every_pass_that_commits(sc: Scenario) -> None:
    wf = sc.workflow(
        "passes",
        "commands:\n  - shell: echo p >> p.txt && git add p.txt && git commit -qm pass-${ITERATION}\n",
    )
    run = sc.run(wf, "-n", "3")
    assert run.code == 0, run
    assert sc.cat("master:p.txt") == "p\np\np\n"
    assert [s for s in sc.subjects("master") if s.startswith("pass-")] == [
        "pass-3",
        "pass-2",
        "pass-1",
    ]


def test_map_runs_the_workflow_once_per_matching_file_stem(sc: Scenario) -> None:
    for name in ("65-cook-refactor.md", "7-fix.md", "notes.txt"):
        (sc.repo / "specs").mkdir(exist_ok=True)
        (sc.repo / "specs" / name).write_text(name)
    sc.git("add", "specs")
    sc.git("commit", "-qm", "specs")
    wf = sc.workflow(
        "mapped",
        """
        commands:
          - shell: echo "$ARG ${ARG}" >> seen.txt && git add seen.txt && git commit -qm "seen ${ARG}"
        """,
    )
    run = sc.run(wf, "--map", "specs/*.md")
    assert run.code == 0, run
    assert sc.cat("master:seen.txt") == "65 65\n7 7\n"


def test_each_map_input_sees_itself_as_prodigy_arg(sc: Scenario) -> None:
    (sc.repo / "specs").mkdir()
    for name in ("1-a.md", "2-b.md"):
        (sc.repo / "specs" / name).write_text(name)
    sc.git("add", "-A")
    sc.git("commit", "-qm", "inputs")
    wf = sc.workflow(
        "inputs",
        """
        commands:
          - shell: printenv PRODIGY_ARG >> seen.txt && git add seen.txt && git commit -qm seen
        """,
    )
    run = sc.run(wf, "--map", "specs/*.md")
    assert run.code == 0, run
    assert sc.cat("master:seen.txt") == "1\n2\n"


def test_capture_formats_json_number_lines_and_fields(sc: Scenario) -> None:
    wf = sc.workflow(
        "formats",
        """
        commands:
          - shell: "printf '{\\"a\\": {\\"b\\": 3}, \\"n\\": \\"x y\\"}'"
            capture: data
            capture_format: json
          - shell: printf ' 42 \\n'
            capture: num
            capture_format: number
          - shell: printf 'l1\\nl2\\n'
            capture: lines
            capture_format: lines
          - shell: echo "${data.a.b}|${data.n}|${num}|${lines[1]}|${lines}" > out.txt
          - shell: git add out.txt && git commit -qm formats
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out.txt") == '3|x y|42|l2|["l1","l2"]\n'


def test_capture_format_json_fails_the_step_on_invalid_json(sc: Scenario) -> None:
    wf = sc.workflow(
        "badjson", "commands:\n  - shell: echo not-json\n    capture: d\n    capture_format: json\n"
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "json" in run.output.lower()


def test_when_false_skips_the_step_and_shows_it_skipped(sc: Scenario) -> None:
    wf = sc.workflow(
        "when",
        """
        commands:
          - shell: printf 7
            capture: n
            capture_format: number
          - shell: touch skipped.txt
            when: "${n} > 100"
          - shell: touch ran.txt
            when: "${n} == 7"
          - shell: git add -A && git commit -qm when
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "skipped" in run.output
    assert "ran.txt" in sc.tree("master")
    assert "skipped.txt" not in sc.tree("master")


def test_on_success_output_file_working_dir_and_step_env(sc: Scenario) -> None:
    wf = sc.workflow(
        "options",
        """
        env:
          WF_VAR: wf
        commands:
          - shell: echo ok
            on_success:
              shell: echo success-ran > s.txt
          - shell: exit 1
            on_failure: true
            on_success:
              shell: touch never.txt
          - shell: printf to-file
            output_file: o.txt
          - shell: mkdir -p sub && touch sub/.keep
          - shell: pwd > here.txt
            working_dir: sub
          - shell: printenv STEP_VAR WF_VAR > env.txt
            env:
              STEP_VAR: from-step-${WF_VAR}
          - shell: git add -A && git commit -qm options
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:s.txt") == "success-ran\n"
    assert "never.txt" not in sc.tree("master")
    assert sc.cat("master:o.txt") == "to-file"
    assert sc.cat("master:sub/here.txt").rstrip().endswith("/sub")
    assert sc.cat("master:sub/here.txt").strip() != str(sc.repo / "sub")
    assert sc.cat("master:env.txt") == "from-step-wf\nwf\n"


def test_output_file_creates_parent_directories(sc: Scenario) -> None:
    wf = sc.workflow(
        "nested",
        """
        commands:
          - shell: printf nested
            output_file: out/deep/o.txt
          - shell: git add -A && git commit -qm nested
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out/deep/o.txt") == "nested"


def test_step_env_overrides_workflow_env_in_the_command(sc: Scenario) -> None:
    wf = sc.workflow(
        "override",
        """
        env:
          WF_VAR: wf
        commands:
          - shell: echo "$WF_VAR ${WF_VAR}" > env.txt && git add env.txt && git commit -qm env
            env:
              WF_VAR: step-wins
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:env.txt") == "step-wins step-wins\n"


# --- merging --------------------------------------------------------------------------


def conflicting_workflow(sc: Scenario) -> Path:
    """The session edits README.md while a step commits a different edit on master."""
    return sc.workflow(
        "conflict",
        f"""
        commands:
          - shell: printf '# demo\\nsession\\n' > README.md && git commit -qam session-side
            commit_required: true
          - shell: printf '# demo\\nuser\\n' > {sc.repo}/README.md && git -C {sc.repo} commit -qam user-side
        """,
    )


def test_init_then_a_merge_conflict_falls_back_to_prodigy_merge_worktree(sc: Scenario) -> None:
    init = sc.prodigy("init")
    assert init.code == 0, init
    assert (sc.repo / ".claude" / "commands" / "prodigy-merge-worktree.md").is_file()
    sc.git("add", ".claude")
    sc.git("commit", "-qm", "prodigy init")
    run = sc.run(conflicting_workflow(sc))
    assert run.code == 0, run
    session = run.session_id()
    # the fake's union resolution: master's side, then the session's
    assert sc.cat("master:README.md") == "# demo\nuser\n# demo\nsession\n"
    assert {"session-side", "user-side"} <= set(sc.subjects("master"))
    calls = sc.calls()
    # Claude merges into a scratch branch in a scratch worktree, never in the user's checkout
    scratch = f"prodigy-merge-{session}"
    assert [c["prompt"] for c in calls] == [f"/prodigy-merge-worktree prodigy-{session} {scratch}"]
    assert Path(calls[0]["cwd"]).name == f"merge-{session}"
    # what lands is one merge commit: the user's tip first, the session's tip second
    first, second = sc.parents("master")
    assert sc.git("log", "-1", "--format=%s", first).strip() == "user-side"
    assert sc.git("log", "-1", "--format=%s", second).strip() == "session-side"
    assert sc.subjects("master")[0] == f"Merge {session} into master"
    assert scratch not in sc.branches()
    assert sc.status() == ""
    assert "<<<<<<<" not in (sc.repo / "README.md").read_text()
    assert sc.session_worktrees() == []


def test_a_failed_merge_fallback_leaves_both_sides_clean_and_says_what_to_run(
    sc: Scenario,
) -> None:
    sc.rules([{"match": "^/prodigy-merge-worktree ", "exit": 1, "stderr": "cannot resolve"}])
    run = sc.run(conflicting_workflow(sc))
    assert run.code == 1, run
    session = run.session_id()
    assert sc.subjects("master")[0] == "user-side"
    assert not (sc.repo / ".git" / "MERGE_HEAD").exists()
    assert sc.status() == ""
    (worktree,) = sc.session_worktrees()
    assert sc.status(cwd=worktree) == ""
    assert "README.md" in run.output
    assert session in run.output[run.output.index("Merge failed") :]


def test_concurrent_sessions_merge_one_after_the_other(sc: Scenario) -> None:
    # A git hook holds the first merge open until released, so the second session
    # reaches its merge while the first is still inside `git merge`.
    hook = sc.repo / ".git" / "hooks" / "pre-merge-commit"
    hook.write_text(
        '#!/bin/sh\nif mkdir "$HOME/first-merge" 2>/dev/null; then\n'
        '  while [ ! -e "$HOME/release" ]; do sleep 0.05; done\nfi\n'
    )
    hook.chmod(0o755)
    first = sc.workflow(
        "a", "commands:\n  - shell: echo a > a.txt && git add a.txt && git commit -qm a\n"
    )
    second = sc.workflow(
        "b",
        "commands:\n  - shell: echo b > b.txt && git add b.txt && git commit -qm b\n"
        "  - shell: touch ${HOME}/b-done\n",
    )
    proc_a = sc.start("run", first, "-y")
    wait_for((sc.home / "first-merge").exists)
    proc_b = sc.start("run", second, "-y")
    wait_for((sc.home / "b-done").exists)
    time.sleep(2)  # the second session's merge is now due
    (sc.home / "release").touch()
    run_a, run_b = sc.finish(proc_a), sc.finish(proc_b)
    assert run_a.code == 0, run_a
    assert sc.status() == "", "the user's checkout was left dirty"
    assert run_b.code == 0, run_b
    assert {"a.txt", "b.txt"} <= set(sc.tree("master"))
    assert sc.session_worktrees() == []


@pytest.mark.parametrize("option", ["working_dir: ../..", "output_file: ../../escape.txt"])
def test_a_path_leaving_the_worktree_fails_the_step_like_any_failure(
    sc: Scenario, option: str
) -> None:
    wf = sc.workflow("escape", f"commands:\n  - shell: pwd\n    {option}\n")
    run = sc.run(wf)
    assert run.code == 1, run
    session = run.session_id()
    assert "leaves the worktree" in run.output
    assert not list(sc.root.rglob("escape.txt"))
    assert sc.session_status(session) == "failed"
    assert run.output.rstrip().endswith(f"prodigy resume {session}")
