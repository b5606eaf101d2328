"""app/inspect/sessions and app/session/state called directly: what `sessions ls/show` and
`checkpoints` report, read from sessions in a real store with real worktrees."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.repos import git
from tests.support.sessions import Made, make_session, new_repo, prodigy_home, running

from prodigy.app.inspect.sessions import (
    SessionView,
    checkpoint_clean_refusal,
    list_views,
    view,
    worktree_head,
)
from prodigy.core.records import RunStatus
from prodigy.store import open_store


def _view(made: Made) -> SessionView:
    with open_store(prodigy_home()) as store:
        return view(store, prodigy_home(), store.sessions.require(made.session.id))


def test_a_failed_session_resumes_at_the_step_after_its_last_checkpoint(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), done=2, tokens=1000)
    shown = _view(made)
    assert shown.status == "failed" and shown.resumable
    assert shown.resume == f"prodigy resume {made.session.id}"
    assert shown.next_action == "resume would continue at step 3/3 of iteration 1"
    assert shown.total_steps == 3 and not shown.workflow_changed
    assert [s.step_index for s in shown.steps] == [0, 1, 2]
    assert shown.checkpoints == 2 and shown.agent_steps == 1
    assert shown.usage.input_tokens == 1000
    record = shown.to_json()
    assert record["checkpoint"]["variables"] == ["secret", "shell"]  # names, never values
    assert record["steps"][2]["error"].startswith("claude exited with status 1")


def test_a_running_session_is_live_and_not_resumable(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.RUNNING)
    with running(made.session.id):
        shown = _view(made)
        assert shown.status == "running" and not shown.resumable and shown.resume is None
        assert shown.next_action.startswith("nothing to resume: the session is running")
        assert checkpoint_clean_refusal(shown, force=True) is not None
    crashed = _view(made)
    assert crashed.status == "crashed" and crashed.resumable


def test_a_changed_workflow_file_is_reported(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    (repo / "wf.yml").write_text("commands:\n  - shell: echo changed\n")
    shown = _view(made)
    assert shown.workflow_changed and shown.total_steps == 1


def test_completed_sessions_are_listed_only_on_request(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    failed = make_session(repo)
    done = make_session(repo, status=RunStatus.COMPLETED, worktree=False)
    with open_store(prodigy_home()) as store:
        default = [v.session.id for v in list_views(store, prodigy_home())]
        everything = [v.session.id for v in list_views(store, prodigy_home(), include_all=True)]
        only_done = list_views(store, prodigy_home(), status="completed")
    assert default == [failed.session.id]
    assert set(everything) == {failed.session.id, done.session.id}
    assert [v.session.id for v in only_done] == [done.session.id]
    assert only_done[0].next_action == "nothing to resume: the session completed"


def test_checkpoints_of_a_resumable_session_are_kept_unless_forced(tmp_path: Path) -> None:
    shown = _view(make_session(new_repo(tmp_path)))
    refusal = checkpoint_clean_refusal(shown, force=False)
    assert refusal is not None and "--force" in refusal
    assert checkpoint_clean_refusal(shown, force=True) is None


def test_worktree_head_follows_the_worktree_and_is_none_once_it_is_gone(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), commits=1)
    head = asyncio.run(worktree_head(made.session))
    assert head == git(made.worktree, "rev-parse", "HEAD").strip()
    git(made.repo, "worktree", "remove", "--force", str(made.worktree))
    assert asyncio.run(worktree_head(made.session)) is None
