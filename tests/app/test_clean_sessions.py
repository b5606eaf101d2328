"""app/clean/sessions called directly: which sessions `prodigy sessions clean` removes, and
why it keeps the others, on sessions in a real store with real branches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.repos import git
from tests.support.sessions import make_session, new_repo, prodigy_home, running

from prodigy.app.clean.sessions import CleanPlan, apply_clean, plan_clean
from prodigy.core.records import RunStatus
from prodigy.store import open_store


def _plan(
    *,
    now: datetime | None = None,
    older_than: timedelta | None = None,
    include_resumable: bool = False,
    force: bool = False,
) -> CleanPlan:
    with open_store(prodigy_home()) as store:
        return asyncio.run(
            plan_clean(
                store,
                prodigy_home(),
                now=now or datetime.now(UTC),
                older_than=older_than,
                include_resumable=include_resumable,
                force=force,
            )
        )


def _verdicts(plan: CleanPlan) -> dict[str, str | None]:
    return {item.session.id: item.kept for item in plan.items}


def test_finished_sessions_go_and_resumable_ones_only_with_all(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    done = make_session(repo, status=RunStatus.COMPLETED, worktree=False)
    failed = make_session(repo, worktree=False)
    plan = _plan()
    assert _verdicts(plan) == {done.session.id: None} and plan.resumable_skipped == 1
    assert set(_verdicts(_plan(include_resumable=True))) == {done.session.id, failed.session.id}


def test_a_running_session_is_kept_even_when_forced(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.RUNNING, worktree=False)
    with running(made.session.id):
        [item] = _plan(include_resumable=True, force=True).items
    assert item.kept is not None and item.kept.startswith("it is running")


def test_unmerged_commits_keep_a_session_unless_forced(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.CANCELLED, commits=2)
    [item] = _plan().items
    assert item.kept is not None
    assert f"its branch {made.branch} has 2 commit(s) not merged" in item.kept
    assert "--force" in item.kept
    [forced] = _plan(force=True).items
    assert forced.kept is None
    git(made.repo, "merge", "-q", made.branch)
    [merged] = _plan().items
    assert merged.kept is None


def test_older_than_leaves_recent_sessions(tmp_path: Path) -> None:
    make_session(new_repo(tmp_path), status=RunStatus.COMPLETED, worktree=False)
    assert _plan(older_than=timedelta(days=1)).items == ()
    two_days_on = datetime.now(UTC) + timedelta(days=2)
    assert len(_plan(now=two_days_on, older_than=timedelta(days=1)).items) == 1


def test_apply_removes_the_rows_and_the_log_directory(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    done = make_session(repo, status=RunStatus.COMPLETED, worktree=False)
    kept = make_session(repo, worktree=False)
    plan = _plan()
    [item] = plan.items
    assert item.logs is not None
    item.logs.mkdir(parents=True)
    (item.logs / "001-claude.jsonl").write_text("{}\n")
    with open_store(prodigy_home()) as store:
        removed = apply_clean(store, plan)
        assert [r.session.id for r in removed] == [done.session.id]
        assert store.sessions.get(done.session.id) is None
        assert store.sessions.get(kept.session.id) is not None
    assert not item.logs.exists()
