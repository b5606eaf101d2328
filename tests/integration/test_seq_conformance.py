"""spec/conformance.md §3, sequential scenarios, against the real `prodigy` CLI.

Each test is one scenario (S01 ... S21) on a fresh root; the workflow YAML is the
scenario's, verbatim. L1 expectations are asserted; cheap L2 ones too, where this
project meets them (it keeps prodigy's stdout phrases and branch names).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.support.scenario import Scenario, wait_for


def worktrees_root(sc: Scenario) -> Path:
    return sc.home / ".prodigy" / "worktrees"


def test_s01_shell_steps_merge_into_the_users_branch(sc: Scenario) -> None:
    wf = sc.workflow(
        "s01",
        """
        name: s01-basic
        commands:
          - shell: echo one > a.txt && git add a.txt && git commit -qm "add a"
            commit_required: true
          - shell: echo two >> a.txt && git add a.txt && git commit -qm "extend a"
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "one\ntwo\n"
    subjects = sc.subjects("master")
    assert subjects.count("add a") == 1 and subjects.count("extend a") == 1
    assert subjects[-1] == "init"
    assert subjects.index("extend a") < subjects.index("add a") < len(subjects) - 1
    # [L2] a --no-ff merge commit with two parents
    assert len(sc.parents("master")) == 2
    assert (sc.repo / "a.txt").read_text() == "one\ntwo\n"
    assert sc.status() == ""
    assert sc.session_worktrees() == []
    assert sc.branches() == ["master"], "the merged session branch should be deleted"
    assert sc.calls() == []
    for phrase in (
        "Created worktree at:",
        "Starting session: session-",
        "Cook session completed successfully!",
        "Worktree changes merged successfully!",
    ):
        assert phrase in run.stdout, run


def test_s02_claude_step_edits_commits_and_sees_arg(sc: Scenario) -> None:
    wf = sc.workflow(
        "s02",
        """
        name: s02-claude
        commands:
          - claude: "/fake-write-commit notes/hello.md Hello from ${ARG}"
            commit_required: true
        """,
    )
    run = sc.run(wf, "--args", "world")
    assert run.code == 0, run
    assert sc.cat("master:notes/hello.md") == "Hello from world\n"
    calls = sc.calls()
    assert [c["prompt"] for c in calls] == ["/fake-write-commit notes/hello.md Hello from world"]
    cwd = Path(calls[0]["cwd"])
    assert cwd.resolve() != sc.repo.resolve()
    assert cwd.resolve().is_relative_to(worktrees_root(sc).resolve())
    assert calls[0]["env"].get("PRODIGY_AUTOMATION") == "true"
    # the prompt is one argv element, the last one; streaming JSON output is asked for
    assert calls[0]["argv"][-1] == calls[0]["prompt"]
    assert "stream-json" in calls[0]["argv"]


def test_s04_a_failing_step_halts_the_run_and_nothing_is_merged(sc: Scenario) -> None:
    wf = sc.workflow(
        "s04",
        """
        name: s04-stop
        commands:
          - shell: echo 1 > s1.txt && git add -A && git commit -qm s1
          - shell: exit 7
          - shell: echo 3 > s3.txt && git add -A && git commit -qm s3
        """,
    )
    run = sc.run(wf)
    assert run.code != 0, run
    assert "exit 7" in run.output
    assert "exit code 7" in run.output
    session = run.session_id()
    (worktree,) = sc.session_worktrees()
    assert sc.git("log", "--format=%s", "-1", cwd=worktree).strip() == "s1"
    assert not (worktree / "s3.txt").exists()
    assert sc.head("master") == sc.init_sha
    assert f"prodigy resume {session}" in run.output


def test_s05a_handler_then_retry_recovers(sc: Scenario) -> None:
    wf = sc.workflow(
        "s05a",
        """
        name: s05a-recover
        commands:
          - shell: echo x >> ${HOME}/s05a-attempts; test -f fixed.txt
            on_failure:
              claude: "/fake-write fixed.txt repaired after exit ${shell.exit_code}"
              max_attempts: 3
          - shell: git add -A && git commit -qm fixed
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert (sc.home / "s05a-attempts").read_text() == "x\nx\n"
    calls = sc.calls()
    assert len(calls) == 1
    assert Path(calls[0]["cwd"]).resolve().is_relative_to(worktrees_root(sc).resolve())
    assert sc.cat("master:fixed.txt") == "repaired after exit 1\n"


def test_s05b_handler_exhausted_fails_the_workflow(sc: Scenario) -> None:
    wf = sc.workflow(
        "s05b",
        """
        name: s05b-exhausted
        commands:
          - shell: echo x >> ${HOME}/s05b-attempts; exit 3
            on_failure:
              claude: "/fake-noop"
              max_attempts: 2
              fail_workflow: true
          - shell: touch after.txt
        """,
    )
    run = sc.run(wf)
    assert run.code != 0, run
    assert (sc.home / "s05b-attempts").read_text() == "x\nx\n"
    assert sc.prompts() == ["/fake-noop"]
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after.txt").exists()
    assert "failed after 2 attempts" in run.output  # [L2] (stdout or stderr)


def test_s06_capture_default_named_and_raw(sc: Scenario) -> None:
    wf = sc.workflow(
        "s06",
        """
        name: s06-capture
        commands:
          - shell: printf abc
          - shell: printf 'got-%s' '${shell.output}' > c1.txt
          - shell: printf v-42
            capture_output: myvar
          - claude: "/fake-write c2.txt ${myvar}"
          - shell: echo hello-world
          - shell: printf '[%s]' "${shell.output}" > c3.txt
          - shell: git add -A && git commit -qm capture
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:c1.txt") == "got-abc"
    assert sc.cat("master:c2.txt") == "v-42\n"
    assert sc.cat("master:c3.txt") == "[hello-world\n]"
    assert sc.prompts() == ["/fake-write c2.txt v-42"]


def test_s08_workflow_env_and_positional_args(sc: Scenario) -> None:
    wf = sc.workflow(
        "s08",
        """
        name: s08-env
        env:
          GREETING: hello
          TARGET_FILE: greet.txt
        commands:
          - shell: echo "$GREETING ${GREETING} $ARG ${ARG_2}" > ${TARGET_FILE}
          - shell: git add -A && git commit -qm greet
            commit_required: true
        """,
    )
    run = sc.run(wf, "--args", "world", "--args", "again")
    assert run.code == 0, run
    assert sc.cat("master:greet.txt") == "hello hello world again\n"


def test_s09_dry_run_executes_and_creates_nothing(sc: Scenario) -> None:
    wf = sc.workflow(
        "s09",
        """
        name: s09-dry
        commands:
          - shell: touch ${HOME}/s09-marker
          - claude: "/fake-write-commit x.txt y"
            commit_required: true
        """,
    )
    run = sc.prodigy("run", wf, "--dry-run")
    assert run.code == 0, run
    assert "[DRY RUN]" in run.stdout
    assert "touch" in run.stdout and "s09-marker" in run.stdout
    assert "/fake-write-commit x.txt y" in run.stdout
    assert not (sc.home / "s09-marker").exists()
    assert sc.calls() == []
    assert sc.session_worktrees() == []
    assert sc.branches() == ["master"]
    assert sc.head("master") == sc.init_sha
    assert sc.session_rows() == 0
    assert not worktrees_root(sc).exists() or not any(worktrees_root(sc).rglob("*"))


def test_s11_the_run_starts_from_committed_head_of_the_current_branch(sc: Scenario) -> None:
    sc.git("checkout", "-qb", "feature/x")
    (sc.repo / "f.txt").write_text("f\n")
    sc.git("add", "f.txt")
    sc.git("commit", "-qm", "f")
    with (sc.repo / "README.md").open("a") as f:
        f.write("dirty\n")
    (sc.repo / "draft.txt").write_text("draft\n")
    wf = sc.workflow(
        "s11",
        """
        name: s11-source
        commands:
          - shell: test ! -e draft.txt && grep -qx '# demo' README.md && test -f f.txt && echo ok > source-ok.txt && git add source-ok.txt && git commit -qm ok
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "source-ok.txt" in sc.tree("feature/x")
    assert "source-ok.txt" not in sc.tree("master")
    assert (sc.repo / "README.md").read_text() == "# demo\ndirty\n"
    assert (sc.repo / "draft.txt").exists()
    assert "?? draft.txt" in sc.status()
    # the issue: say so when the checkout is dirty
    assert "uncommitted" in run.output


def test_s12_sigint_mid_step_then_resume_skips_finished_steps(sc: Scenario) -> None:
    wf = sc.workflow(
        "s12",
        """
        name: s12-interrupt
        commands:
          - shell: echo one >> log.txt && git add log.txt && git commit -qm one
            commit_required: true
          - shell: test -f ${HOME}/s12-go || sleep 37.5; echo two >> log.txt && git add log.txt && git commit -qm two
            commit_required: true
          - shell: echo three >> log.txt && git add log.txt && git commit -qm three
            commit_required: true
        """,
    )
    proc = sc.start("run", wf, "-y")

    def at_step_two() -> list[int]:
        # `git worktree add` lists the worktree before its HEAD is valid (git log there says
        # "bad object HEAD"): look for step two's process first, then read the log.
        sleeping = sc.pids("sleep 37.5")
        trees = sc.session_worktrees()
        if not sleeping or not trees:
            return []
        log = subprocess.run(
            ["git", "log", "--format=%s", "-1"],
            cwd=trees[0],
            capture_output=True,
            text=True,
            check=False,
        )
        return sleeping if log.stdout.strip() == "one" else []

    wait_for(at_step_two, timeout=20)
    (worktree,) = sc.session_worktrees()
    proc.send_signal(signal.SIGINT)
    run = sc.finish(proc, timeout=10)
    assert run.code == 130, run
    wait_for(lambda: not sc.pids("sleep 37.5"), timeout=5)
    assert sc.head("master") == sc.init_sha
    assert (worktree / "log.txt").read_text() == "one\n"
    session = run.session_id()
    assert f"prodigy resume {session}" in run.output

    (sc.home / "s12-go").touch()
    resumed = sc.prodigy("resume", session)
    assert resumed.code == 0, resumed
    assert sc.cat("master:log.txt") == "one\ntwo\nthree\n"
    subjects = sc.subjects("master")
    assert [subjects.count(s) for s in ("one", "two", "three")] == [1, 1, 1]
    assert not os.path.exists(worktree)


def test_s21_a_custom_merge_block_replaces_the_default_merge(sc: Scenario) -> None:
    wf = sc.workflow(
        "s21",
        """
        name: s21-merge
        commands:
          - shell: echo x > x.txt && git add x.txt && git commit -qm x
            commit_required: true
        merge:
          - shell: echo ${merge.source_branch} ${merge.target_branch} ${merge.worktree} > ${HOME}/s21-vars.txt
          - claude: "/prodigy-merge-worktree ${merge.source_branch} ${merge.target_branch}"
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "x.txt" in sc.tree("master")
    tokens = (sc.home / "s21-vars.txt").read_text().split()
    assert len(tokens) == 3
    session = run.session_id()
    assert tokens[1] == "master"
    # token 1 is the session branch (deleted after the merge, so checked by name) whose
    # tip, commit x, is now on master
    assert tokens[0] == f"prodigy-{session}"
    assert "x" in sc.subjects("master")
    merge_calls = [c for c in sc.calls() if c["prompt"].startswith("/prodigy-merge-worktree")]
    assert len(merge_calls) == 1
    assert merge_calls[0]["prompt"] == f"/prodigy-merge-worktree {tokens[0]} master"
    cwd = Path(merge_calls[0]["cwd"])
    assert cwd.name == tokens[2]
    assert cwd.resolve().is_relative_to(worktrees_root(sc).resolve())
    # [L2]
    assert tokens[0].startswith("prodigy-session-") and tokens[2].startswith("session-")
