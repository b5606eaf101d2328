"""`prodigy exec` and `prodigy batch` on real repositories with the fake claude."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.scenario import Scenario, wait_for


def _private_tmp(sc: Scenario) -> Path:
    """A TMPDIR of the scenario's own, to see the generated workflow file go."""
    tmp = sc.root / "tmp"
    tmp.mkdir(exist_ok=True)
    sc.env["TMPDIR"] = str(tmp)
    return tmp


def test_exec_shell_command_runs_in_a_worktree_and_merges(sc: Scenario) -> None:
    tmp = _private_tmp(sc)
    run = sc.prodigy("exec", "shell: echo hi > e.txt && git add e.txt && git commit -qm exec")
    assert run.code == 0, run
    assert sc.cat("master:e.txt") == "hi\n"
    assert sc.status() == ""
    assert sc.session_worktrees() == []
    assert list(tmp.iterdir()) == []  # the generated workflow is gone


def test_exec_plain_line_is_a_shell_command(sc: Scenario) -> None:
    run = sc.prodigy("exec", "echo plain > p.txt && git add p.txt && git commit -qm plain")
    assert run.code == 0, run
    assert sc.cat("master:p.txt") == "plain\n"
    assert sc.calls() == []


@pytest.mark.parametrize(
    "command", ["claude: /fake-write-commit c.txt made", "/fake-write-commit c.txt made"]
)
def test_exec_claude_forms(sc: Scenario, command: str) -> None:
    run = sc.prodigy("exec", command)
    assert run.code == 0, run
    assert sc.cat("master:c.txt") == "made\n"
    assert sc.prompts() == ["/fake-write-commit c.txt made"]


def test_exec_retry_runs_a_flaky_command_until_it_succeeds(sc: Scenario) -> None:
    run = sc.prodigy("exec", "claude: /fake-flaky k 2", "--retry", "3")
    assert run.code == 0, run
    assert len(sc.prompts()) == 3


def test_exec_without_enough_retries_fails(sc: Scenario) -> None:
    run = sc.prodigy("exec", "claude: /fake-flaky k 2", "--retry", "2")
    assert run.code == 1, run
    assert len(sc.prompts()) == 2
    assert sc.head("master") == sc.init_sha


def test_exec_timeout_kills_a_sleeping_command(sc: Scenario) -> None:
    started = time.monotonic()
    marker = f"sleep {300 + os.getpid() % 50}.25"  # no other test's sleep looks like this
    run = sc.prodigy("exec", f"shell: {marker} && touch late", "--timeout", "1")
    assert run.code == 1, run
    assert time.monotonic() - started < 60  # not the 300 s sleep
    assert "timed out" in run.output.lower()
    wait_for(lambda: sc.pids(marker) == [], timeout=30)  # killed: gone once they exit


def test_exec_failure_removes_the_generated_workflow_too(sc: Scenario) -> None:
    tmp = _private_tmp(sc)
    run = sc.prodigy("exec", "shell: exit 4")
    assert run.code == 1, run
    assert list(tmp.iterdir()) == []


def test_exec_empty_command_is_a_usage_error(sc: Scenario) -> None:
    run = sc.prodigy("exec", "claude:   ")
    assert run.code == 2, run
    assert "nothing after 'claude:'" in run.output
    assert sc.session_rows() == 0


def _seed(sc: Scenario, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = sc.repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    sc.git("add", "-A")
    sc.git("commit", "-qm", "seed")


def test_batch_edits_each_matching_file_and_merges(sc: Scenario) -> None:
    _seed(sc, {"a.txt": "a\n", "docs/b.txt": "b\n", "docs/deep/c.txt": "c\n", "d.md": "d\n"})
    run = sc.prodigy(
        "batch", "*.txt", "--command", "claude: /fake-append ${item.path} edited", "-y"
    )
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "a\nedited\n"
    assert sc.cat("master:docs/b.txt") == "b\nedited\n"
    assert sc.cat("master:docs/deep/c.txt") == "c\nedited\n"
    assert sc.cat("master:d.md") == "d\n"
    assert sorted(sc.prompts()) == [
        "/fake-append a.txt edited",
        "/fake-append docs/b.txt edited",
        "/fake-append docs/deep/c.txt edited",
    ]
    assert sc.session_worktrees() == []


def test_batch_path_pattern_with_double_star_and_item_item(sc: Scenario) -> None:
    _seed(sc, {"src/x.py": "", "src/pkg/y.py": "", "top.py": "", "src/z.txt": ""})
    run = sc.prodigy(
        "batch",
        "src/**/*.py",
        "--command",
        'shell: echo seen >> "${item.item}"',
        "--parallel",
        "2",
        "-y",
    )
    assert run.code == 0, run
    assert sc.cat("master:src/x.py") == "seen\n"
    assert sc.cat("master:src/pkg/y.py") == "seen\n"
    assert sc.cat("master:top.py") == ""


def test_batch_pattern_is_never_shell_code(sc: Scenario) -> None:
    _seed(sc, {"a.txt": "a\n"})
    run = sc.prodigy("batch", "x'; touch pwned; '", "--command", "shell: true", "-y")
    assert run.code == 2, run
    assert "no committed file matches" in run.output
    assert not (sc.repo / "pwned").exists()
    assert sc.session_rows() == 0


def test_batch_parallel_zero_is_an_error(sc: Scenario) -> None:
    _seed(sc, {"a.txt": "a\n"})
    run = sc.prodigy("batch", "*.txt", "--command", "shell: true", "--parallel", "0")
    assert run.code == 2, run
    assert "--parallel" in run.output
    assert sc.session_rows() == 0


def test_exec_with_a_relative_path_option(sc: Scenario) -> None:
    run = sc.prodigy(
        "exec", "echo r > r.txt && git add r.txt && git commit -qm r", "-p", "repo", cwd=sc.root
    )
    assert run.code == 0, run
    assert sc.cat("master:r.txt") == "r\n"


def test_ctrl_c_during_exec_kills_the_command_and_removes_the_generated_workflow(
    sc: Scenario,
) -> None:
    tmp = _private_tmp(sc)
    seconds = f"{40 + os.getpid() % 50}.5"  # a marker no other test's sleep carries
    # the arithmetic keeps the marker out of prodigy's own command line
    whole, _, _ = seconds.partition(".")
    proc = sc.start("exec", f"shell: sleep {whole}.$((4 + 1))")
    try:
        wait_for(lambda: sc.pids(f"sleep {seconds}"))
        assert list(tmp.iterdir()) != []  # the generated workflow exists while it runs
        proc.send_signal(signal.SIGINT)
        run = sc.finish(proc, timeout=20)
    finally:
        if proc.poll() is None:
            proc.terminate()
    assert run.code == 130, run
    assert sc.pids(f"sleep {seconds}") == []
    assert list(tmp.iterdir()) == []
