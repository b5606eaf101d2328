"""Sequential runs against the real `prodigy` CLI (issue 3): dry runs, the dirty-checkout
warning, the merge prompt and its answers, `cook` and `-p`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.scenario import Scenario


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


def test_cook_alias_and_path_option_run_from_outside_the_repository(sc: Scenario) -> None:
    run = sc.prodigy("cook", committing_workflow(sc), "-y", "-p", sc.repo, cwd=sc.home)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "a\n"
