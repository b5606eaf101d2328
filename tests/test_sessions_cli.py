"""`prodigy sessions ls/show/clean` on sessions in a real store with real git worktrees."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from prodigy.app.paths import logs_dir
from prodigy.core.records import RunStatus
from prodigy.store import open_store
from tests.support.cli import run_cli, run_json
from tests.support.sessions import (
    make_session,
    new_repo,
    prodigy_home,
    running,
)


def _ids(data: object) -> set[str]:
    assert isinstance(data, list)
    return {row["id"] for row in data}


def test_ls_shows_live_and_resumable_sessions_and_all_adds_finished_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    failed = make_session(repo, status=RunStatus.FAILED, worktree=False)
    done = make_session(repo, status=RunStatus.COMPLETED, worktree=False)
    crashed = make_session(repo, status=RunStatus.RUNNING, worktree=False)
    live = make_session(repo, status=RunStatus.RUNNING, worktree=False)
    with running(live.session.id):
        code, out, _ = run_cli(capsys, "sessions", "ls")
        assert code == 0
        assert failed.session.id in out and crashed.session.id in out and live.session.id in out
        assert done.session.id not in out
        assert "crashed" in out
        assert "2 ok, 1 failed (of 3)" in out
        assert "prodigy resume <ID>" in out
        everything = run_json(capsys, "sessions", "ls", "--all", "--json")
        assert _ids(everything) == {s.session.id for s in (failed, done, crashed, live)}
        statuses = {row["id"]: row["status"] for row in everything}  # type: ignore[union-attr]
        assert statuses[live.session.id] == "running"
        assert statuses[crashed.session.id] == "crashed"
        assert _ids(run_json(capsys, "sessions", "ls", "--status", "crashed", "--json")) == {
            crashed.session.id
        }
        assert _ids(run_json(capsys, "sessions", "list", "--status", "completed", "--json")) == {
            done.session.id
        }


def test_ls_with_nothing_to_show_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "sessions", "ls")
    assert code == 0
    assert "No sessions running or resumable" in out and "--all" in out


def test_show_reports_steps_usage_and_the_exact_resume_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo, status=RunStatus.FAILED, done=2, tokens=1200)
    sid = made.session.id
    code, out, _ = run_cli(capsys, "sessions", "show", sid)
    assert code == 0
    assert "failed (resumable)" in out
    assert f"Worktree:  {made.worktree}" in out or str(made.worktree) in out
    assert f"{made.branch} (merges into master)" in out
    assert "✓ 1.1 shell: echo 0" in out and "✓ 1.2 shell: echo 1" in out
    assert "✗ 1.3 claude: /fix the bug: claude exited with status 1" in out
    assert "1,250 tokens" in out and "$0.0125" in out and "claude-sonnet" in out
    assert "resume would continue at step 3/3 of iteration 1" in out
    assert f"Resume:    prodigy resume {sid}" in out
    data = run_json(capsys, "sessions", "show", sid[:20], "--json")
    assert isinstance(data, dict)
    assert data["id"] == sid and data["resumable"] is True
    assert data["resume_command"] == f"prodigy resume {sid}"
    assert data["usage"]["cost_usd"] == pytest.approx(0.0125)
    assert data["checkpoint"]["variables"] == ["secret", "shell"]
    assert [s["success"] for s in data["steps"]] == [True, True, False]


def test_show_of_a_completed_session_offers_no_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.COMPLETED, done=3, failed_step=False)
    code, out, _ = run_cli(capsys, "sessions", "show", made.session.id)
    assert code == 0
    assert "nothing to resume: the session completed" in out
    assert "Resume:" not in out


def test_show_notices_a_changed_workflow_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    (repo / "wf.yml").write_text("commands:\n  - shell: echo only\n")
    code, out, _ = run_cli(capsys, "sessions", "show", made.session.id)
    assert code == 0
    assert "(changed since the run started)" in out


@pytest.mark.parametrize("wanted", ["session-nope", "zzz"])
def test_unknown_session_exits_2_with_a_hint(
    wanted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "sessions", "show", wanted)
    assert code == 2
    assert f"no session {wanted!r}" in err and "prodigy sessions ls --all" in err


def test_ambiguous_prefix_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = new_repo(tmp_path)
    make_session(repo, worktree=False)
    make_session(repo, worktree=False)
    code, _, err = run_cli(capsys, "sessions", "show", "session-")
    assert code == 2
    assert "matches 2 sessions" in err


def test_clean_removes_finished_sessions_keeps_running_resumable_and_unmerged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    done = make_session(repo, status=RunStatus.COMPLETED, worktree=False)
    unmerged = make_session(repo, status=RunStatus.COMPLETED, commits=2)
    resumable = make_session(repo, status=RunStatus.INTERRUPTED, worktree=False)
    live = make_session(repo, status=RunStatus.RUNNING, worktree=False)
    log_dir = logs_dir(prodigy_home()) / done.session.repo_key / done.session.id
    log_dir.mkdir(parents=True)
    (log_dir / "001-claude.jsonl").write_text("{}\n")
    with running(live.session.id):
        code, out, _ = run_cli(capsys, "sessions", "clean", "--yes", "--all")
    assert code == 0, out
    assert f"Kept {unmerged.session.id}: its branch {unmerged.branch} has 2 commit(s)" in out
    assert "Removed 2 session(s)." in out
    with open_store(prodigy_home()) as store:
        assert store.sessions.get(done.session.id) is None
        assert store.sessions.get(resumable.session.id) is None
        assert store.sessions.get(unmerged.session.id) is not None
        assert store.sessions.get(live.session.id) is not None
    assert not log_dir.exists()
    code, out, _ = run_cli(capsys, "sessions", "clean", "--yes", "--force")
    assert code == 0
    assert "Removed 1 session(s)." in out
    with open_store(prodigy_home()) as store:
        assert store.sessions.get(unmerged.session.id) is None
        assert store.sessions.get(live.session.id) is not None


def test_clean_without_all_keeps_resumable_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.FAILED, worktree=False)
    code, out, _ = run_cli(capsys, "sessions", "clean", "--yes")
    assert code == 0
    assert "1 resumable session(s) kept; `--all` removes them too." in out
    assert "No sessions to remove." in out
    with open_store(prodigy_home()) as store:
        assert store.sessions.get(made.session.id) is not None


def test_clean_older_than_spares_recent_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.COMPLETED, worktree=False)
    code, out, _ = run_cli(capsys, "sessions", "clean", "--older-than", "7d", "--yes")
    assert code == 0
    assert "No sessions to remove." in out
    code, _, err = run_cli(capsys, "sessions", "clean", "--older-than", "soon", "--yes")
    assert code == 2
    assert "expected a duration such as 30m, 2h or 7d" in err
    with open_store(prodigy_home()) as store:
        assert store.sessions.get(made.session.id) is not None


def test_clean_refuses_without_a_terminal_or_yes(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.COMPLETED, worktree=False)
    proc = subprocess.run(
        [sys.executable, "-m", "prodigy", "sessions", "clean"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "stdin is not a terminal; pass --yes" in proc.stderr
    with open_store(prodigy_home()) as store:
        assert store.sessions.get(made.session.id) is not None


@pytest.mark.parametrize(("answer", "removed"), [(b"n\n", False), (b"y\n", True)])
def test_clean_asks_on_a_terminal(tmp_path: Path, answer: bytes, removed: bool) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.COMPLETED, worktree=False)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "prodigy", "sessions", "clean"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=dict(os.environ),
    )
    os.close(follower)
    output = b""
    while b"[y/N]" not in output:
        output += os.read(leader, 1024)
    os.write(leader, answer)
    assert proc.wait(timeout=30) == (0 if removed else 1)
    os.close(leader)
    with open_store(prodigy_home()) as store:
        assert (store.sessions.get(made.session.id) is None) is removed


def test_inspecting_a_real_failed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = new_repo(tmp_path)
    (repo / "wf.yml").write_text(
        'commands:\n  - shell: "echo one"\n  - claude: "/do it"\n  - shell: "exit 3"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "prodigy", "run", "wf.yml", "-y", "--agent", "scripted"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [row] = run_json(capsys, "sessions", "ls", "--json")  # type: ignore[misc]
    sid = row["id"]
    assert row["status"] == "failed" and row["resume_command"] == f"prodigy resume {sid}"
    assert f"Resume with: prodigy resume {sid}" in proc.stdout + proc.stderr
    code, out, _ = run_cli(capsys, "checkpoints", "show", sid)
    assert code == 0
    assert "resume would continue at step 3/3 of iteration 1" in out
    code, out, _ = run_cli(capsys, "logs", sid, "--latest")
    assert code == 0
    assert "$ exit 3" in out and "exit code 3" in out  # the newest log: the failed shell step
    code, out, _ = run_cli(capsys, "logs", sid, "2")
    assert code == 0
    assert "[result] success" in out
    rows = run_json(capsys, "worktree", "ls", "--json", "-p", str(repo))
    assert [w["session_id"] for w in rows["worktrees"]] == [sid]  # type: ignore[call-overload,index]


def test_clean_of_a_hostile_session_id_deletes_nothing_outside_the_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = prodigy_home()
    victim = home / "victim"
    victim.mkdir(parents=True)
    (victim / "keep.txt").write_text("precious")
    with open_store(home) as store:
        key = store.repos.ensure(str(tmp_path / "gone")).key
        store.sessions.create(
            session_id="../../victim", repo_key=key, workflow_path="wf.yml", workflow_hash="h"
        )
        store.sessions.set_status("../../victim", RunStatus.COMPLETED)
    code, out, _ = run_cli(capsys, "sessions", "clean", "--yes")
    assert code == 0, out
    assert "Removed 1 session(s)." in out
    assert (victim / "keep.txt").read_text() == "precious"


def test_ls_lists_paused_sessions_as_resumable_with_reason_and_reset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = new_repo(tmp_path)
    quota = make_session(repo, status=RunStatus.RUNNING, worktree=False)
    budget = make_session(repo, status=RunStatus.RUNNING, worktree=False)
    with open_store(prodigy_home()) as store:
        store.sessions.pause(quota.session.id, "quota", resume_at="2026-12-08T03:20:00Z")
        store.sessions.pause(budget.session.id, "budget", note="budget exhausted: $1 of $1")
    code, out, _ = run_cli(capsys, "sessions", "ls")
    assert code == 0
    assert "paused (quota, resumes 2026-12-08 03:20)" in out
    assert "paused (budget)" in out
    rows = {row["id"]: row for row in run_json(capsys, "sessions", "ls", "--json")}  # type: ignore[union-attr]
    assert rows[quota.session.id]["status"] == "paused"
    assert rows[quota.session.id]["pause_reason"] == "quota"
    assert rows[quota.session.id]["resume_at"] == "2026-12-08T03:20:00Z"
    assert rows[quota.session.id]["resumable"] is True
    assert rows[budget.session.id]["pause_reason"] == "budget"
    assert rows[budget.session.id]["resume_at"] is None
    assert "--max-cost-usd" in rows[budget.session.id]["next"]
    with open_store(prodigy_home()) as store:
        resumed = store.sessions.set_status(quota.session.id, RunStatus.RUNNING)
    assert (resumed.pause_reason, resumed.resume_at) == (None, None)
