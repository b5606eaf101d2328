"""Repository keys and worktree records."""

from __future__ import annotations

import pytest

from prodigy.core.errors import StoreError
from prodigy.core.records import WorktreeState
from prodigy.store import Store


def test_two_repos_with_one_directory_name_get_different_keys(store: Store) -> None:
    one = store.repos.ensure("/home/a/app")
    two = store.repos.ensure("/home/b/app")
    assert one.key != two.key
    assert one.key.startswith("app-")
    assert store.repos.ensure("/home/a/app") == one
    assert {r.path for r in store.repos.all()} == {"/home/a/app", "/home/b/app"}


def test_worktree_records_follow_their_state(store: Store) -> None:
    created = store.worktrees.record(
        path="/h/worktrees/app-1/session-1", repo_key="app-1", branch="prodigy-session-1",
        session_id="session-1",
    )  # fmt: skip
    agent = store.worktrees.record(
        path="/h/worktrees/app-1/agent-0", repo_key="app-1", branch="prodigy-agent-j-0",
        session_id="session-1", job_id="j", item_id="item_0",
    )  # fmt: skip
    assert created.state is WorktreeState.IN_PROGRESS
    merged = store.worktrees.set_state(agent.path, WorktreeState.MERGED)
    assert merged.state is WorktreeState.MERGED
    assert merged.item_id == "item_0"
    assert [w.path for w in store.worktrees.find(repo_key="app-1")] == [created.path, agent.path]
    assert store.worktrees.find(states=[WorktreeState.MERGED]) == [merged]
    assert store.worktrees.find(job_id="j") == [merged]
    assert store.worktrees.forget(agent.path)
    assert store.worktrees.get(agent.path) is None
    with pytest.raises(StoreError, match="no worktree"):
        store.worktrees.set_state(agent.path, WorktreeState.CLEANED_UP)
