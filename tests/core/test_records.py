"""Pure row types: repository keys and the state machines."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.records import (
    ITEM_TRANSITIONS,
    RUN_TRANSITIONS,
    ItemState,
    RunStatus,
    item_can_be_reconciled,
    item_transition_allowed,
    repo_key,
)


def test_repo_key_is_the_name_plus_a_short_hash() -> None:
    assert re.fullmatch(r"myrepo-[0-9a-f]{8}", repo_key("/home/me/src/myrepo"))


def test_same_directory_name_in_two_places_gives_two_keys() -> None:
    assert repo_key("/home/a/app") != repo_key("/home/b/app")


def test_unsafe_characters_in_the_name_are_replaced() -> None:
    assert re.fullmatch(r"my-repo-[0-9a-f]{8}", repo_key("/tmp/my repo!"))
    assert repo_key("/").startswith("repo-")


@given(path=st.text(min_size=1, max_size=60))
def test_repo_key_is_stable_and_safe_for_paths(path: str) -> None:
    key = repo_key(path)
    assert key == repo_key(path)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", key)
    assert not key.startswith((".", "-"))


def test_every_item_state_is_reachable_from_pending() -> None:
    seen, frontier = {ItemState.PENDING}, [ItemState.PENDING]
    while frontier:
        for nxt in ITEM_TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(ItemState)


def test_merged_is_final_and_only_reached_after_success() -> None:
    assert ITEM_TRANSITIONS[ItemState.MERGED] == frozenset()
    sources = {s for s, targets in ITEM_TRANSITIONS.items() if ItemState.MERGED in targets}
    assert sources == {ItemState.SUCCEEDED}
    assert not item_transition_allowed(ItemState.PENDING, ItemState.SUCCEEDED)
    assert item_transition_allowed(ItemState.DEAD_LETTERED, ItemState.PENDING)


def test_reconciliation_applies_to_every_state_but_merged() -> None:
    assert {s for s in ItemState if item_can_be_reconciled(s)} == set(ItemState) - {
        ItemState.MERGED
    }


def test_completed_and_cancelled_runs_are_final_and_failures_resumable() -> None:
    # a completed session only goes on to merge; the merge ends completed (or cancelled)
    assert RUN_TRANSITIONS[RunStatus.COMPLETED] == frozenset({RunStatus.MERGING})
    assert RUN_TRANSITIONS[RunStatus.MERGING] == {RunStatus.COMPLETED, RunStatus.CANCELLED}
    assert RUN_TRANSITIONS[RunStatus.CANCELLED] == frozenset()
    for status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        assert RunStatus.RUNNING in RUN_TRANSITIONS[status]
