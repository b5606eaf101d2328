"""The merge queue on real repositories: trailers, proof of landing, clean aborts."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from tests.support.repos import commit_file, git, make_repo

from prodigy.runtime.agents import AgentSettings, ScriptedAgent
from prodigy.runtime.merge_queue import MergeQueue, MergeRequest


@pytest.fixture
def parent(tmp_path: Path) -> Path:
    """A repository with `shared.txt` and two agent branches that both edit its line."""
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "shared.txt", "base\n")
    commit_file(repo, "other.txt", "keep\n")
    for name, text in (("agent-a", "A"), ("agent-b", "B")):
        git(repo, "checkout", "-q", "-b", name, "master")
        commit_file(repo, "shared.txt", f"{text}\n", f"edit {name}")
    git(repo, "checkout", "-q", "master")
    return repo


def _queue(parent: Path, tmp_path: Path) -> MergeQueue:
    # The scripted agent ignores the merge prompt and "succeeds": a resolver that lies.
    agent = ScriptedAgent(AgentSettings())
    return MergeQueue(parent, agent, dict(os.environ), tmp_path / "logs")


def test_a_clean_merge_lands_with_the_item_trailer(parent: Path, tmp_path: Path) -> None:
    result = asyncio.run(_queue(parent, tmp_path).merge(MergeRequest("job-1", "item_0", "agent-a")))
    assert result.merged and not result.used_claude
    assert result.commit == git(parent, "rev-parse", "HEAD").strip()
    body = git(parent, "log", "-1", "--format=%B")
    assert body.startswith("Merge agent agent-a (item_0)")
    assert "Prodigy-Item: job-1/item_0" in body
    assert git(parent, "merge-base", "--is-ancestor", "agent-a", "HEAD") == ""


def test_a_claimed_resolution_that_did_not_land_is_a_conflict(parent: Path, tmp_path: Path) -> None:
    queue = _queue(parent, tmp_path)
    assert asyncio.run(queue.merge(MergeRequest("job-1", "item_0", "agent-a"))).merged
    head = git(parent, "rev-parse", "HEAD").strip()
    result = asyncio.run(queue.merge(MergeRequest("job-1", "item_1", "agent-b")))
    assert not result.merged and result.used_claude
    assert result.conflicted_paths == ("shared.txt",)
    assert "shared.txt" in (result.error or "")
    assert git(parent, "rev-parse", "HEAD").strip() == head
    assert git(parent, "status", "--porcelain") == ""
    assert (parent / "shared.txt").read_text() == "A\n"


def test_a_failed_merge_keeps_uncommitted_changes_it_did_not_touch(
    parent: Path, tmp_path: Path
) -> None:
    queue = _queue(parent, tmp_path)
    assert asyncio.run(queue.merge(MergeRequest("job-1", "item_0", "agent-a"))).merged
    (parent / "other.txt").write_text("setup changed this\n")
    result = asyncio.run(queue.merge(MergeRequest("job-1", "item_1", "agent-b")))
    assert not result.merged
    assert (parent / "other.txt").read_text() == "setup changed this\n"
    assert (parent / "shared.txt").read_text() == "A\n"


def test_merges_are_serialized(parent: Path, tmp_path: Path) -> None:
    for k in range(4):
        git(parent, "checkout", "-q", "-b", f"agent-{k}", "master")
        commit_file(parent, f"f{k}.txt", f"{k}\n")
    git(parent, "checkout", "-q", "master")
    queue = _queue(parent, tmp_path)

    async def all_at_once() -> list[bool]:
        requests = [MergeRequest("job", f"item_{k}", f"agent-{k}") for k in range(4)]
        results = await asyncio.gather(*(queue.merge(r) for r in requests))
        return [r.merged for r in results]

    assert asyncio.run(all_at_once()) == [True] * 4
    first_parents = git(parent, "rev-list", "--first-parent", "--merges", "master").split()
    assert len(first_parents) == 4
    assert queue.waiting == 0


def test_a_branch_shipped_as_a_bundle_lands_like_a_local_one(parent: Path, tmp_path: Path) -> None:
    # A remote executor returns the agent's commits as a bundle; the branch is not local.
    bundle = tmp_path / "agent-a.bundle"
    git(parent, "bundle", "create", str(bundle), "agent-a")
    commit = git(parent, "rev-parse", "agent-a").strip()
    git(parent, "branch", "-D", "agent-a")
    request = MergeRequest("job-1", "item_0", "agent-a", bundle=str(bundle))
    result = asyncio.run(_queue(parent, tmp_path).merge(request))
    assert result.merged
    assert git(parent, "merge-base", "--is-ancestor", commit, "HEAD") == ""
    assert "Prodigy-Item: job-1/item_0" in git(parent, "log", "-1", "--format=%B")


def test_an_unreadable_bundle_is_refused_and_nothing_moves(parent: Path, tmp_path: Path) -> None:
    head = git(parent, "rev-parse", "HEAD").strip()
    bogus = tmp_path / "not-a.bundle"
    bogus.write_text("nothing\n")
    request = MergeRequest("job-1", "item_0", "agent-x", bundle=str(bogus))
    result = asyncio.run(_queue(parent, tmp_path).merge(request))
    assert not result.merged and "cannot read the agent's bundle" in (result.error or "")
    assert git(parent, "rev-parse", "HEAD").strip() == head


def test_the_parent_head_agents_start_from_follows_every_merge(
    parent: Path, tmp_path: Path
) -> None:
    queue = _queue(parent, tmp_path)

    async def scenario() -> list[tuple[str, str]]:
        seen = [(await queue.parent_head(), git(parent, "rev-parse", "HEAD").strip())]
        assert (await queue.merge(MergeRequest("job-1", "item_0", "agent-a"))).merged
        seen.append((await queue.parent_head(), git(parent, "rev-parse", "HEAD").strip()))
        # a conflict: the (lying) resolver is asked, the parent is put back
        assert not (await queue.merge(MergeRequest("job-1", "item_1", "agent-b"))).merged
        seen.append((await queue.parent_head(), git(parent, "rev-parse", "HEAD").strip()))
        return seen

    seen = asyncio.run(scenario())
    assert [known for known, _ in seen] == [actual for _, actual in seen]
    assert seen[0][0] != seen[1][0]  # the clean merge moved it
