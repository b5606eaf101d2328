"""app/clean/worktrees called directly: what `prodigy worktree clean` selects, keeps and
removes, on worktrees and branches in a real repository with sessions in a real store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.repos import git
from tests.support.sessions import make_session, new_repo, prodigy_home

from prodigy.app.clean.worktrees import CleanOutcome, Selection, clean, named_session, select
from prodigy.app.inspect.worktrees import WorktreeEntry, list_entries
from prodigy.core.errors import UsageError
from prodigy.core.records import RunStatus
from prodigy.store import open_store


def _entries(repo: Path) -> list[WorktreeEntry]:
    with open_store(prodigy_home()) as store:
        return asyncio.run(list_entries(store, prodigy_home(), repo))


def _clean(
    repo: Path, entries: list[WorktreeEntry], *, force: bool = False, dry_run: bool = False
) -> list[CleanOutcome]:
    with open_store(prodigy_home()) as store:
        return asyncio.run(clean(store, repo, entries, force=force, dry_run=dry_run))


def test_a_selection_must_say_what_and_not_twice(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with pytest.raises(UsageError, match="say what to clean"):
        select([], Selection(), now)
    with pytest.raises(UsageError, match="either a worktree NAME or --all/--orphans"):
        select([], Selection(name="x", all=True), now)
    with pytest.raises(UsageError, match="no prodigy worktree or branch named 'x'"):
        select([], Selection(name="x"), now)


def test_orphans_and_age_narrow_the_selection(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    failed = make_session(repo)
    make_session(repo, status=RunStatus.CANCELLED)
    entries = _entries(repo)
    now = datetime.now(UTC)
    assert len(select(entries, Selection(all=True), now)) == 2
    [orphan] = select(entries, Selection(orphans=True), now)
    assert orphan.session is not None and orphan.session.status is RunStatus.CANCELLED
    assert select(entries, Selection(all=True, older_than=timedelta(days=1)), now) == []
    [named] = select(entries, Selection(name=failed.branch), now)
    assert named.path == failed.worktree


def test_a_session_id_prefix_names_its_worktree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    entries = _entries(repo)
    prefix = made.session.id[: len("session-") + 8]
    with open_store(prodigy_home()) as store:
        resolved = named_session(store, entries, Selection(name=prefix))
    assert resolved.name == made.session.id
    [entry] = select(entries, resolved, datetime.now(UTC))
    assert entry.branch == made.branch


def test_work_is_kept_unless_forced_and_forcing_cancels_the_session(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo, commits=1)
    [kept] = _clean(repo, _entries(repo))
    assert not kept.removed
    assert "1 commit(s) on" in kept.note and "not merged into any other branch" in kept.note
    [dry] = _clean(repo, _entries(repo), force=True, dry_run=True)
    assert dry.removed and "losing 1 unmerged commit(s)" in dry.note
    assert made.worktree.is_dir()
    [done] = _clean(repo, _entries(repo), force=True)
    assert done.removed and f"session {made.session.id} marked cancelled" in done.note
    assert not made.worktree.exists()
    assert made.branch not in git(repo, "branch", "--list").split()
    with open_store(prodigy_home()) as store:
        assert store.sessions.require(made.session.id).status is RunStatus.CANCELLED


def test_a_resumable_session_keeps_its_worktree_without_commits(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    [kept] = _clean(repo, _entries(repo))
    assert not kept.removed
    assert f"`prodigy resume {made.session.id}`" in kept.note and "-f" in kept.note


def test_a_leftover_branch_and_a_finished_session_worktree_go(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo, status=RunStatus.CANCELLED)
    git(repo, "branch", "prodigy-session-lost")
    outcomes = _clean(repo, _entries(repo))
    assert all(o.removed for o in outcomes) and len(outcomes) == 2
    assert not made.worktree.exists()
    assert git(repo, "branch", "--list", "prodigy-*") == ""
