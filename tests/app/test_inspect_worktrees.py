"""app/inspect/worktrees called directly: the worktrees, leftover directories and branches
`prodigy worktree ls/clean` find for a repository, from a real store and real git."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from tests.support.repos import git
from tests.support.sessions import make_session, new_repo, prodigy_home

from prodigy.app.inspect.worktrees import (
    WorktreeEntry,
    details,
    list_entries,
    main_repository,
    resumable_session,
    worktree_root,
)
from prodigy.core.records import RunStatus
from prodigy.store import open_store


def _entries(repo: Path) -> dict[str, WorktreeEntry]:
    with open_store(prodigy_home()) as store:
        found = asyncio.run(list_entries(store, prodigy_home(), repo))
    return {e.name: e for e in found}


def test_a_failed_session_worktree_is_listed_resumable_not_orphaned(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo, commits=2)
    [entry] = _entries(repo).values()
    assert entry.kind == "worktree" and entry.path == made.worktree
    assert entry.branch == made.branch and entry.status == "failed"
    assert entry.orphan is None and not entry.missing
    assert resumable_session(entry) is not None
    found = asyncio.run(details(repo, entry))
    assert found.unmerged_commits == 2 and not found.dirty and found.disk_bytes > 0
    (made.worktree / "scratch.txt").write_text("local change\n")
    assert asyncio.run(details(repo, entry)).dirty


def test_a_finished_session_worktree_is_an_orphan_saying_why(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    make_session(repo, status=RunStatus.CANCELLED)
    [entry] = _entries(repo).values()
    assert entry.orphan == "its session is cancelled"
    assert resumable_session(entry) is None


def test_leftover_directories_and_branches_are_found(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    root = worktree_root(prodigy_home(), repo)
    (root / "session-gone").mkdir(parents=True)
    git(repo, "branch", "prodigy-session-lost")
    entries = _entries(repo)
    assert entries["session-gone"].kind == "directory"
    assert entries["session-gone"].orphan == "git does not know this directory"
    assert entries["prodigy-session-lost"].kind == "branch"
    assert entries["prodigy-session-lost"].orphan == "no session recorded for it"
    assert entries["prodigy-session-lost"].created is not None


def test_a_worktree_whose_directory_is_gone_is_missing(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    shutil.rmtree(made.worktree)
    [entry] = _entries(repo).values()
    assert entry.missing and entry.orphan == "its directory is gone"


def test_the_main_repository_is_found_from_a_linked_worktree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    made = make_session(repo)
    assert asyncio.run(main_repository(made.worktree)) == repo
    assert asyncio.run(main_repository(repo)) == repo
