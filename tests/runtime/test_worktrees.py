"""Worktrees on real repositories: creation, clean-up on failure, removal, orphans."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import pytest
from tests.support.repos import commit_file, git

from prodigy.core.errors import GitError
from prodigy.runtime import git as g
from prodigy.runtime.worktrees import (
    BranchExistsError,
    create_worktree,
    find_orphans,
    list_worktrees,
    remove_worktree,
    worktree,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".prodigy" / "worktrees" / "repo-1234"


def admin_entries(repo: Path) -> list[str]:
    admin = repo / ".git" / "worktrees"
    return sorted(p.name for p in admin.iterdir()) if admin.is_dir() else []


def test_create_list_and_remove(repo: Path, root: Path) -> None:
    wt = asyncio.run(create_worktree(repo, root / "session-1", "prodigy-session-1", "master"))
    assert wt.path == (root / "session-1").resolve() and wt.branch == "prodigy-session-1"
    assert wt.base_sha == git(repo, "rev-parse", "master").strip()
    assert (wt.path / "README.md").read_text() == "# demo\n"
    infos = asyncio.run(list_worktrees(repo))
    assert [(i.path, i.branch) for i in infos] == [
        (repo, "master"),
        (wt.path, "prodigy-session-1"),
    ]
    assert infos[1].head == wt.base_sha and infos[1].locked is None
    # git config stays untouched: no upstream tracking was written (the config.lock race)
    assert "prodigy-session-1" not in git(repo, "config", "--list")

    asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=False))
    assert not wt.path.exists() and admin_entries(repo) == []
    assert not asyncio.run(g.branch_exists(repo, "prodigy-session-1"))
    # removing again is fine
    asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=False))


def test_remove_refuses_local_changes_without_force(repo: Path, root: Path) -> None:
    wt = asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "master"))
    (wt.path / "README.md").write_text("edited\n")
    with pytest.raises(GitError, match="cannot remove worktree"):
        asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=False))
    assert wt.path.exists() and asyncio.run(g.branch_exists(repo, "prodigy-s"))
    asyncio.run(remove_worktree(repo, wt.path, delete_branch=False, force=True))
    assert not wt.path.exists() and asyncio.run(g.branch_exists(repo, "prodigy-s"))


def test_remove_after_the_directory_vanished(repo: Path, root: Path) -> None:
    wt = asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "master"))
    shutil.rmtree(wt.path)
    assert asyncio.run(list_worktrees(repo))[1].prunable is not None
    asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=False))
    assert admin_entries(repo) == [] and not asyncio.run(g.branch_exists(repo, "prodigy-s"))


def test_remove_a_half_made_worktree_left_locked_by_a_killed_add(repo: Path, root: Path) -> None:
    wt = asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "master"))
    git(repo, "worktree", "lock", "--reason", "initializing", str(wt.path))
    shutil.rmtree(wt.path)
    info = asyncio.run(list_worktrees(repo))[1]
    assert (info.locked, info.prunable) == ("initializing", None)  # prune alone would skip it
    with pytest.raises(GitError, match="cannot remove worktree"):
        asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=False))
    asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=True))
    assert admin_entries(repo) == [] and not asyncio.run(g.branch_exists(repo, "prodigy-s"))


def test_failed_add_leaves_nothing_behind(repo: Path, root: Path) -> None:
    # A post-checkout hook that fails makes `git worktree add` fail after it made everything.
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(GitError, match="cannot create worktree"):
        asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "master"))
    assert not (root / "s").exists()
    assert admin_entries(repo) == []
    assert not asyncio.run(g.branch_exists(repo, "prodigy-s"))
    assert len(asyncio.run(list_worktrees(repo))) == 1


def test_failed_add_keeps_what_existed_before(repo: Path, root: Path) -> None:
    root.mkdir(parents=True)
    occupied = root / "occupied"
    occupied.write_text("user data\n")  # git creates the branch, then fails on the path
    with pytest.raises(GitError, match="already exists"):
        asyncio.run(create_worktree(repo, occupied, "prodigy-x", "master"))
    assert occupied.read_text() == "user data\n"
    assert not asyncio.run(g.branch_exists(repo, "prodigy-x"))

    git(repo, "branch", "prodigy-taken")
    with pytest.raises(GitError, match="branch 'prodigy-taken' already exists"):
        asyncio.run(create_worktree(repo, root / "t", "prodigy-taken", "master"))
    assert asyncio.run(g.branch_exists(repo, "prodigy-taken")) and not (root / "t").exists()


def test_bad_start_point_is_a_clear_error(repo: Path, root: Path) -> None:
    with pytest.raises(GitError, match="no-such-ref"):
        asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "no-such-ref"))
    assert not (root / "s").exists()


def test_parallel_creation_all_succeed(repo: Path, root: Path) -> None:
    async def many(prefix: str) -> list[Path]:
        made = await asyncio.gather(
            *(
                create_worktree(repo, root / f"{prefix}{i}", f"prodigy-{prefix}-{i}", "master")
                for i in range(6)
            )
        )
        return [w.path for w in made]

    paths = asyncio.run(many("a"))
    assert all((p / "README.md").exists() for p in paths)
    paths += asyncio.run(many("b"))  # a second event loop, as after a restart in-process
    assert len(asyncio.run(list_worktrees(repo))) == 13


def test_context_manager_removes_on_failure_and_keeps_on_success(repo: Path, root: Path) -> None:
    async def failing() -> None:
        async with worktree(repo, root / "f", "prodigy-f", "master") as wt:
            commit_file(wt.path, "x.txt", "x")
            raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        asyncio.run(failing())
    assert not (root / "f").exists() and not asyncio.run(g.branch_exists(repo, "prodigy-f"))

    async def ok() -> Path:
        async with worktree(repo, root / "k", "prodigy-k", "master") as wt:
            return wt.path

    kept = asyncio.run(ok())
    assert kept.exists() and asyncio.run(g.branch_exists(repo, "prodigy-k"))


def test_find_orphans(repo: Path, root: Path) -> None:
    live = asyncio.run(create_worktree(repo, root / "live", "prodigy-live", "master"))
    git(repo, "branch", "prodigy-lost")  # a prodigy branch with no worktree
    git(repo, "branch", "user-branch")  # not ours
    (root / "stray").mkdir()  # a directory git does not know
    (root / ".metadata").mkdir()  # hidden bookkeeping is not an orphan
    gone = asyncio.run(create_worktree(repo, root / "gone", "prodigy-gone", "master"))
    shutil.rmtree(gone.path)

    # a conflicting merge left half-done in the live worktree
    commit_file(repo, "README.md", "master side\n")
    commit_file(live.path, "README.md", "agent side\n")
    assert not asyncio.run(g.merge_no_ff(live.path, "master", "merge")).ok
    # and an index.lock left by a git that was killed an hour ago
    lock = Path(
        git(live.path, "rev-parse", "--path-format=absolute", "--git-path", "index.lock").strip()
    )
    lock.write_text("")
    old = time.time() - 3600
    os.utime(lock, (old, old))

    orphans = asyncio.run(find_orphans(repo, root))
    assert orphans
    assert orphans.branches == ("prodigy-lost",)
    assert orphans.unknown_dirs == ((root / "stray").resolve(),)
    assert orphans.stale_locks == (lock,)
    assert orphans.merges_in_progress == (live.path,)
    assert [w.branch for w in orphans.prunable] == ["prodigy-gone"]

    fresh = asyncio.run(find_orphans(repo, root, lock_age=7200))
    assert fresh.stale_locks == ()


def test_no_orphans_in_a_clean_repository(repo: Path, root: Path) -> None:
    asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "master"))
    assert not asyncio.run(find_orphans(repo, root))


def test_remove_with_the_branch_named_refuses_local_changes_and_prunes_a_vanished_one(
    repo: Path, root: Path
) -> None:
    # the caller names the branch (an agent's clean-up): one `worktree remove` when it can,
    # the same refusal and the same pruning as the listing path when it cannot
    wt = asyncio.run(create_worktree(repo, root / "s", "prodigy-s", "master"))
    (wt.path / "README.md").write_text("edited\n")
    with pytest.raises(GitError, match="cannot remove worktree"):
        asyncio.run(
            remove_worktree(repo, wt.path, delete_branch=True, force=False, branch="prodigy-s")
        )
    assert wt.path.exists() and asyncio.run(g.branch_exists(repo, "prodigy-s"))
    asyncio.run(remove_worktree(repo, wt.path, delete_branch=True, force=True, branch="prodigy-s"))
    assert not wt.path.exists() and admin_entries(repo) == []
    assert not asyncio.run(g.branch_exists(repo, "prodigy-s"))

    gone = asyncio.run(create_worktree(repo, root / "g", "prodigy-g", "master"))
    shutil.rmtree(gone.path)
    asyncio.run(
        remove_worktree(repo, gone.path, delete_branch=True, force=True, branch="prodigy-g")
    )
    assert admin_entries(repo) == [] and not asyncio.run(g.branch_exists(repo, "prodigy-g"))


def test_an_existing_branch_is_refused_by_its_own_error_and_kept(repo: Path, root: Path) -> None:
    git(repo, "branch", "prodigy-taken")
    with pytest.raises(BranchExistsError):
        asyncio.run(create_worktree(repo, root / "t", "prodigy-taken", "master"))
    assert asyncio.run(g.branch_exists(repo, "prodigy-taken"))
    sha = git(repo, "rev-parse", "master").strip()
    made = asyncio.run(create_worktree(repo, root / "u", "prodigy-u", sha))  # a full id as-is
    assert made.base_sha == sha and (made.path / "README.md").exists()


def test_delete_branch_says_whether_there_was_one(repo: Path) -> None:
    git(repo, "branch", "prodigy-d")
    assert asyncio.run(g.delete_branch(repo, "prodigy-d", force=True))
    assert not asyncio.run(g.delete_branch(repo, "prodigy-d", force=True))
