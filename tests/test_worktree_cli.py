"""`prodigy worktree ls/clean` on real worktrees and branches of throwaway repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodigy.app.paths import worktrees_dir
from prodigy.core.records import RunStatus
from prodigy.core.records import repo_key as key_of
from prodigy.store import open_store
from tests.support.cli import run_cli, run_json
from tests.support.repos import git
from tests.support.sessions import (
    make_session,
    new_repo,
    prodigy_home,
    running,
)


def _rows(
    capsys: pytest.CaptureFixture[str], repo: Path, where: Path | None = None
) -> dict[str, dict[str, object]]:
    data = run_json(capsys, "worktree", "ls", "--json", "-p", str(where or repo))
    assert isinstance(data, dict)
    assert data["repository"] == str(repo)
    return {row["name"]: row for row in data["worktrees"]}


def _branches(repo: Path) -> set[str]:
    return set(git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split())


def test_ls_lists_sessions_worktrees_and_orphans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    failed = make_session(repo, status=RunStatus.FAILED, commits=1)
    done = make_session(repo, status=RunStatus.COMPLETED)
    live = make_session(repo, status=RunStatus.RUNNING)
    root = worktrees_dir(prodigy_home()) / key_of(str(repo))
    git(repo, "worktree", "add", "-q", "-b", "prodigy-stray", str(root / "stray"), "HEAD")
    git(repo, "branch", "prodigy-lost")
    (root / "leftover").mkdir()
    (root / "leftover" / ".git").write_text("gitdir: /nowhere\n")
    with running(live.session.id):
        rows = _rows(capsys, repo)
        code, out, _ = run_cli(capsys, "worktree", "ls", "-p", str(repo))
    assert code == 0
    assert rows[failed.session.id]["status"] == "failed"
    assert rows[failed.session.id]["unmerged_commits"] == 1
    assert rows[failed.session.id]["orphan"] is False
    assert rows[live.session.id]["status"] == "running"
    assert rows[live.session.id]["pid"] is not None
    assert rows[done.session.id]["orphan_reason"] == "its session is completed"
    assert rows["stray"]["orphan_reason"] == "no session recorded for it"
    assert rows["prodigy-lost"]["kind"] == "branch"
    assert rows["leftover"]["orphan_reason"] == "git does not know this directory"
    assert rows[done.session.id]["disk_bytes"] > 0  # type: ignore[operator]
    assert "Orphans (4;" in out
    assert f"{done.session.id}: its session is completed" in out


def test_ls_from_inside_a_session_worktree_names_the_main_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    assert set(_rows(capsys, repo, where=made.worktree)) == {made.session.id}


def test_ls_detailed_shows_changes_and_disk_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    (made.worktree / "scratch.txt").write_text("x" * 4096)
    code, out, _ = run_cli(capsys, "worktree", "ls", "--detailed", "-p", str(repo))
    assert code == 0
    assert "changes:   uncommitted changes" in out
    assert "KiB" in out
    assert f"path:      {made.worktree}" in out


def test_ls_of_a_repository_without_worktrees_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    code, out, _ = run_cli(capsys, "worktree", "ls", "-p", str(repo))
    assert code == 0
    assert f"No prodigy worktrees or branches for {repo}." in out


def test_clean_orphans_removes_only_orphans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    failed = make_session(repo, status=RunStatus.FAILED)
    done = make_session(repo, status=RunStatus.COMPLETED)
    git(repo, "branch", "prodigy-lost")
    code, out, _ = run_cli(capsys, "worktree", "clean", "--orphans", "-p", str(repo))
    assert code == 0, out
    assert "2 removed, 0 kept." in out
    assert not done.worktree.exists()
    assert failed.worktree.exists()
    assert _branches(repo) == {"master", failed.branch}


def test_clean_never_loses_unmerged_commits_or_changes_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    unmerged = make_session(repo, status=RunStatus.COMPLETED, commits=2)
    dirty = make_session(repo, status=RunStatus.COMPLETED)
    (dirty.worktree / "README.md").write_text("edited\n")
    code, out, _ = run_cli(capsys, "worktree", "clean", "--all", "-p", str(repo))
    assert code == 0
    assert f"2 commit(s) on {unmerged.branch} are not merged into any other branch" in out
    assert "or pass -f to delete them" in out
    assert "has uncommitted changes" in out
    assert unmerged.worktree.exists() and dirty.worktree.exists()
    code, out, _ = run_cli(capsys, "worktree", "clean", "--all", "-f", "-p", str(repo))
    assert code == 0
    assert "losing 2 unmerged commit(s)" in out
    assert not unmerged.worktree.exists() and not dirty.worktree.exists()
    assert _branches(repo) == {"master"}


def test_clean_name_keeps_a_resumable_session_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo, status=RunStatus.INTERRUPTED)
    sid = made.session.id
    code, out, _ = run_cli(capsys, "worktree", "clean", sid, "-p", str(repo))
    assert code == 1
    assert f"session {sid} can still be resumed (`prodigy resume {sid}`)" in out
    code, out, _ = run_cli(capsys, "worktree", "clean", made.branch, "-f", "-p", str(repo))
    assert code == 0
    assert f"session {sid} marked cancelled" in out
    assert not made.worktree.exists()
    with open_store(prodigy_home()) as store:
        assert store.sessions.require(sid).status is RunStatus.CANCELLED


def test_clean_never_touches_a_running_session_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    live = make_session(repo, status=RunStatus.RUNNING)
    with running(live.session.id):
        code, out, _ = run_cli(capsys, "worktree", "clean", "--all", "-f", "-p", str(repo))
    assert code == 0
    assert f"Kept {live.session.id}: in use by a running prodigy (pid" in out
    assert live.worktree.exists()
    assert live.branch in _branches(repo)


def test_clean_dry_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = new_repo(tmp_path)
    done = make_session(repo, status=RunStatus.COMPLETED)
    code, out, _ = run_cli(capsys, "worktree", "clean", "--all", "--dry-run", "-p", str(repo))
    assert code == 0
    assert f"Would remove {done.session.id}" in out
    assert "1 would be removed, 0 kept." in out
    assert done.worktree.exists() and done.branch in _branches(repo)


def test_clean_older_than_spares_new_worktrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    done = make_session(repo, status=RunStatus.COMPLETED)
    code, out, _ = run_cli(capsys, "worktree", "clean", "--older-than", "2h", "-p", str(repo))
    assert code == 0
    assert "Nothing to clean" in out
    assert done.worktree.exists()
    code, out, _ = run_cli(capsys, "worktree", "clean", "--older-than", "0s", "-p", str(repo))
    assert code == 0
    assert not done.worktree.exists()


def test_clean_leaves_directories_that_are_not_worktree_leftovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    root = worktrees_dir(prodigy_home()) / key_of(str(repo))
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "notes.txt").write_text("keep me")
    code, out, _ = run_cli(capsys, "worktree", "clean", "--orphans", "-f", "-p", str(repo))
    assert code == 0
    assert "Kept mine: not a worktree prodigy left behind" in out
    assert (root / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say what to clean"),
        (["nope"], "no prodigy worktree or branch named 'nope'"),
        (["x", "--all"], "either a worktree NAME or --all/--orphans"),
        (["--older-than", "later"], "expected a duration"),
    ],
)
def test_clean_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    repo = new_repo(tmp_path)
    code, _, err = run_cli(capsys, "worktree", "clean", *args, "-p", str(repo))
    assert code == 2
    assert message in err


def test_merge_of_an_unknown_session_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(capsys, "worktree", "merge", "x")
    assert code == 2
    assert "no session 'x'" in err


def test_agent_worktrees_belong_to_their_job_and_mapreduce_cleans_only_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    parent = make_session(repo, status=RunStatus.COMPLETED)
    root = worktrees_dir(prodigy_home()) / key_of(str(repo))
    job = "mapreduce-20261125-ab12"
    recorded, guessed = root / job / "agent-0", root / job / "agent-1"
    git(repo, "worktree", "add", "-q", "-b", f"prodigy-agent-{job}-0", str(recorded), "HEAD")
    git(repo, "worktree", "add", "-q", "-b", f"prodigy-agent-{job}-1", str(guessed), "HEAD")
    with open_store(prodigy_home()) as store:
        store.jobs.create(job_id=job, session_id=parent.session.id)
        store.worktrees.record(
            path=str(recorded),
            repo_key=key_of(str(repo)),
            branch=f"prodigy-agent-{job}-0",
            job_id=job,
            item_id="item-0",
        )
    rows = _rows(capsys, repo)
    for name in (f"{job}/agent-0", f"{job}/agent-1"):
        assert rows[name]["job_id"] == job
        assert rows[name]["session_id"] == parent.session.id
        assert rows[name]["orphan_reason"] == "its session is completed"
    code, out, _ = run_cli(capsys, "worktree", "clean", "--mapreduce", "-p", str(repo))
    assert code == 0, out
    assert "2 removed, 0 kept." in out
    assert not recorded.exists() and not guessed.exists()
    assert parent.worktree.exists()
    with open_store(prodigy_home()) as store:
        assert store.worktrees.get(str(recorded)) is None
