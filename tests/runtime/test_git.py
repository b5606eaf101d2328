"""The git helpers against real repositories."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.support.repos import commit_file, git, make_repo

from prodigy.core.errors import GitError
from prodigy.runtime import git as g


def test_git_failure_names_command_exit_code_and_output(repo: Path) -> None:
    with pytest.raises(GitError) as info:
        asyncio.run(g.git(repo, "rev-parse", "--verify", "no-such-ref"))
    message = str(info.value)
    assert "git rev-parse --verify no-such-ref" in message and "exit 128" in message
    assert str(repo) in message and "Needed a single revision" in message
    result = asyncio.run(g.git(repo, "rev-parse", "--verify", "no-such-ref", check=False))
    assert result.returncode == 128


def test_repository_redirecting_variables_are_scrubbed(repo: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")
    hostile = {
        "PATH": "/usr/bin:/bin",
        "GIT_DIR": str(other / ".git"),
        "GIT_WORK_TREE": str(other),
        "GIT_INDEX_FILE": str(other / ".git" / "index"),
        "GIT_AUTHOR_NAME": "Kept Author",
        "GIT_AUTHOR_EMAIL": "kept@example.invalid",
    }
    top = asyncio.run(g.git(repo, "rev-parse", "--show-toplevel", env=hostile)).stdout.strip()
    assert Path(top) == repo
    asyncio.run(g.git(repo, "commit", "-q", "--allow-empty", "-m", "x", env=hostile))
    assert (
        git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Kept Author <kept@example.invalid>"
    )


def test_repo_root_and_errors_outside_a_repository(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    assert asyncio.run(g.repo_root(repo / "sub")) == repo
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(GitError, match="not inside a git repository"):
        asyncio.run(g.repo_root(outside))


def test_branch_sha_and_detached_head(repo: Path) -> None:
    assert asyncio.run(g.current_branch(repo)) == "master"
    sha = asyncio.run(g.head_sha(repo))
    assert sha == git(repo, "rev-parse", "HEAD").strip() and len(sha) == 40
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(GitError, match=r"HEAD is detached.*git switch"):
        asyncio.run(g.current_branch(repo))


def test_head_sha_of_an_empty_repository_says_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(GitError, match="no commits yet"):
        asyncio.run(g.head_sha(empty))


def test_is_dirty(repo: Path) -> None:
    assert not asyncio.run(g.is_dirty(repo))
    (repo / "new.txt").write_text("x")
    assert asyncio.run(g.is_dirty(repo))
    assert not asyncio.run(g.is_dirty(repo, include_untracked=False))
    (repo / "README.md").write_text("changed\n")
    assert asyncio.run(g.is_dirty(repo, include_untracked=False))


def test_rev_list_commit_count_and_ancestry(repo: Path) -> None:
    base = asyncio.run(g.head_sha(repo))
    first = commit_file(repo, "a.txt", "a")
    second = commit_file(repo, "b.txt", "b")
    assert asyncio.run(g.rev_list(repo, base, "HEAD")) == [first, second]
    assert asyncio.run(g.commit_count(repo, base, "HEAD")) == 2
    assert asyncio.run(g.commit_count(repo, "HEAD", base)) == 0
    assert asyncio.run(g.is_ancestor(repo, base, second))
    assert not asyncio.run(g.is_ancestor(repo, second, base))


def test_branch_exists_and_delete(repo: Path) -> None:
    git(repo, "branch", "topic")
    assert asyncio.run(g.branch_exists(repo, "topic"))
    assert not asyncio.run(g.branch_exists(repo, "topi"))
    git(repo, "checkout", "-q", "topic")
    commit_file(repo, "t.txt", "t")
    git(repo, "checkout", "-q", "master")
    with pytest.raises(GitError, match="not fully merged"):
        asyncio.run(g.delete_branch(repo, "topic"))
    assert asyncio.run(g.delete_branch(repo, "topic", force=True))
    assert not asyncio.run(g.branch_exists(repo, "topic"))
    assert not asyncio.run(g.delete_branch(repo, "topic", force=True))


def _diverge(repo: Path, same_file: bool) -> None:
    git(repo, "checkout", "-q", "-b", "topic")
    commit_file(repo, "shared.txt" if same_file else "topic.txt", "topic\n", "topic work")
    git(repo, "checkout", "-q", "master")
    commit_file(repo, "shared.txt" if same_file else "master.txt", "master\n", "master work")


def test_merge_no_ff_creates_a_merge_commit_with_trailer(repo: Path) -> None:
    _diverge(repo, same_file=False)
    message = "Merge topic\n\nProdigy-Item: job-1/item-a"
    outcome = asyncio.run(g.merge_no_ff(repo, "topic", message))
    assert outcome.ok and outcome.conflicted_paths == ()
    assert len(git(repo, "log", "-1", "--format=%P").split()) == 2
    assert asyncio.run(g.is_ancestor(repo, "topic", "HEAD"))
    assert asyncio.run(g.trailers(repo, "HEAD", first_parent=True)) == ["job-1/item-a"]


def test_merge_conflict_is_reported_and_can_be_aborted(repo: Path) -> None:
    _diverge(repo, same_file=True)
    before = git(repo, "rev-parse", "HEAD")
    outcome = asyncio.run(g.merge_no_ff(repo, "topic", "Merge topic"))
    assert not outcome.ok and outcome.conflicted_paths == ("shared.txt",)
    assert asyncio.run(g.is_merge_in_progress(repo))
    assert asyncio.run(g.abort_merge(repo))
    assert not asyncio.run(g.is_merge_in_progress(repo))
    assert git(repo, "rev-parse", "HEAD") == before and not asyncio.run(g.is_dirty(repo))
    assert not asyncio.run(g.abort_merge(repo))


def test_merge_blocked_by_local_changes_raises_and_leaves_no_merge(repo: Path) -> None:
    _diverge(repo, same_file=False)
    git(repo, "checkout", "-q", "topic")
    git(repo, "checkout", "-q", "master")
    (repo / "topic.txt").write_text("untracked in the way\n")
    with pytest.raises(GitError, match="would be overwritten"):
        asyncio.run(g.merge_no_ff(repo, "topic", "Merge topic"))
    assert not asyncio.run(g.is_merge_in_progress(repo))


def test_merge_in_progress_is_seen_in_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    _diverge(repo, same_file=True)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "parent", str(linked), "master")
    assert (linked / ".git").is_file()  # the naive <worktree>/.git/MERGE_HEAD cannot exist
    outcome = asyncio.run(g.merge_no_ff(linked, "topic", "Merge topic"))
    assert not outcome.ok and asyncio.run(g.is_merge_in_progress(linked))
    assert not asyncio.run(g.is_merge_in_progress(repo))


def test_trailers_on_a_range_oldest_first(repo: Path) -> None:
    base = asyncio.run(g.head_sha(repo))
    for key in ("j/1", "j/2"):
        git(repo, "commit", "-q", "--allow-empty", "-m", f"work\n\nProdigy-Item: {key}")
    git(repo, "commit", "-q", "--allow-empty", "-m", "no trailer\n\nOther: x")
    git(repo, "commit", "-q", "--allow-empty", "-m", "two\n\nProdigy-Item: j/3\nProdigy-Item: j/4")
    assert asyncio.run(g.trailers(repo, "HEAD", base=base)) == ["j/1", "j/2", "j/3", "j/4"]
    assert asyncio.run(g.trailers(repo, "HEAD", key="Other")) == ["x"]
    assert asyncio.run(g.trailers(repo, "HEAD", base="HEAD")) == []


def test_git_path_and_common_dir_from_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    assert asyncio.run(g.common_dir(linked)) == repo / ".git"
    lock = asyncio.run(g.git_path(linked, "index.lock"))
    assert lock.parent.parent == repo / ".git" / "worktrees"
