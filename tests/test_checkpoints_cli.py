"""`prodigy checkpoints list/show/clean` on sessions saved in a real store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from prodigy.core.records import RunStatus
from prodigy.store import open_store
from tests.support.cli import run_cli, run_json
from tests.support.repos import commit_file
from tests.support.sessions import (
    make_session,
    new_repo,
    prodigy_home,
    running,
)


def test_list_shows_progress_and_what_resume_would_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    failed = make_session(repo, status=RunStatus.FAILED, done=1, worktree=False)
    make_session(repo, status=RunStatus.FAILED, done=0, worktree=False)  # nothing saved
    code, out, _ = run_cli(capsys, "checkpoints", "list")
    assert code == 0
    assert "iteration 1, 1/3 steps done" in out
    assert f"{failed.session.id}: resume would continue at step 2/3 of iteration 1" in out
    data = run_json(capsys, "checkpoints", "ls", "--json")
    assert isinstance(data, list)
    assert [row["session_id"] for row in data] == [failed.session.id]
    assert data[0]["checkpoint"]["next_step_index"] == 1
    assert data[0]["resume_command"] == f"prodigy resume {failed.session.id}"


def test_list_with_nothing_saved_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "checkpoints", "list")
    assert code == 0
    assert "No checkpoints saved" in out


def test_show_lists_variable_names_never_values_and_compares_git_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.INTERRUPTED, done=2)
    sid = made.session.id
    code, out, _ = run_cli(capsys, "checkpoints", "show", sid)
    assert code == 0
    assert "Variables:   secret, shell (values are not shown)" in out
    assert "(the worktree is still there)" in out
    assert "resume would continue at step 3/3 of iteration 1" in out
    assert f"Resume:      prodigy resume {sid}" in out
    assert "***" not in out
    new_head = commit_file(made.worktree, "later.txt", "later\n")
    code, out, _ = run_cli(capsys, "checkpoints", "show", sid)
    assert f"HEAD is now {new_head[:12]}" in out
    data = run_json(capsys, "checkpoints", "show", sid, "--json")
    assert isinstance(data, dict)
    assert data["worktree_head"] == new_head
    assert data["checkpoint"]["variables"] == ["secret", "shell"]


@pytest.mark.parametrize(
    ("max_iterations", "iteration", "expected"),
    [
        (3, 2, "resume would continue at step 1/3 of iteration 2/3"),
        (1, 2, "every step is done; resume would only finish the session (merge back)"),
    ],
)
def test_resume_point_after_a_finished_pass(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    max_iterations: int,
    iteration: int,
    expected: str,
) -> None:
    made = make_session(
        new_repo(tmp_path),
        status=RunStatus.INTERRUPTED,
        done=3,
        failed_step=False,
        worktree=False,
        options={"max_iterations": max_iterations},
    )
    # the pass checkpoint `prodigy run` saves after the last step of a pass
    with open_store(prodigy_home()) as store:
        last = store.checkpoints.latest(made.session.id)
        assert last is not None
        store.checkpoints.save(replace(last, iteration=iteration, next_step_index=0))
    code, out, _ = run_cli(capsys, "checkpoints", "show", made.session.id)
    assert code == 0
    assert expected in out
    assert f"iteration {iteration - 1} done (3/3 steps)" in out


def test_show_of_a_running_session_says_it_is_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.RUNNING, worktree=False)
    with running(made.session.id):
        code, out, _ = run_cli(capsys, "checkpoints", "show", made.session.id)
    assert code == 0
    assert "nothing to resume: the session is running (pid" in out


def test_clean_deletes_finished_sessions_checkpoints_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    done = make_session(repo, status=RunStatus.COMPLETED, worktree=False)
    failed = make_session(repo, status=RunStatus.FAILED, worktree=False)
    code, out, _ = run_cli(capsys, "checkpoints", "clean", "--yes")
    assert code == 0
    assert "Deleted 2 checkpoint(s) of 1 session(s)." in out
    with open_store(prodigy_home()) as store:
        assert store.checkpoints.history(done.session.id) == []
        assert len(store.checkpoints.history(failed.session.id)) == 2


def test_clean_of_a_resumable_session_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.FAILED, worktree=False)
    sid = made.session.id
    code, out, _ = run_cli(capsys, "checkpoints", "clean", sid, "--yes")
    assert code == 1
    assert "resume would start over from step 1; pass --force" in out
    code, out, _ = run_cli(capsys, "checkpoints", "clean", sid, "--yes", "--force")
    assert code == 0
    with open_store(prodigy_home()) as store:
        assert store.checkpoints.history(sid) == []


def test_clean_never_touches_a_running_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.RUNNING, worktree=False)
    with running(made.session.id):
        code, out, _ = run_cli(capsys, "checkpoints", "clean", made.session.id, "--yes", "--force")
    assert code == 1
    assert "it is running" in out
    with open_store(prodigy_home()) as store:
        assert len(store.checkpoints.history(made.session.id)) == 2


def test_clean_without_yes_off_a_terminal_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.COMPLETED, worktree=False)
    code, _, err = run_cli(capsys, "checkpoints", "clean")
    assert code == 2
    assert "pass --yes" in err
    with open_store(prodigy_home()) as store:
        assert len(store.checkpoints.history(made.session.id)) == 2


def test_unknown_session_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "checkpoints", "show", "session-missing")
    assert code == 2
    assert "prodigy sessions ls --all" in err
