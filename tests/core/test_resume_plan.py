"""core.resume_plan: what runs again on resume; landed items never do."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.mapreduce.resume_plan import input_changes, parse_landed, plan_resume
from prodigy.core.records import ItemRecord, ItemState


def _item(index: int, state: ItemState, attempts: int = 1) -> ItemRecord:
    return ItemRecord(
        job_id="job",
        item_id=f"item_{index}",
        index=index,
        data={"id": index},
        state=state,
        attempts=attempts,
        agent_branch=None,
        agent_worktree=None,
        result=None,
        error=None,
        merge_commit=None,
        created_at="",
        updated_at="",
        started_at=None,
        finished_at=None,
    )


def test_git_wins_and_only_unsettled_items_run_again() -> None:
    items = [
        _item(0, ItemState.MERGED),
        _item(1, ItemState.SUCCEEDED),  # landed, the store missed it
        _item(2, ItemState.RUNNING, attempts=1),
        _item(3, ItemState.PENDING, attempts=0),
        _item(4, ItemState.DEAD_LETTERED, attempts=3),
        _item(5, ItemState.FAILED, attempts=2),
    ]
    plan = plan_resume(items, {"item_1": "abc"}, {"item_4": 3})
    assert plan.reconcile == {"item_1": "abc"}
    assert plan.rerun == {2: 2, 3: 1, 5: 3}
    assert plan.kept_in_dlq == ("item_4",)
    assert set(plan.done) == {"item_0", "item_1"}


def test_max_retries_gives_dead_lettered_items_another_try() -> None:
    items = [_item(0, ItemState.DEAD_LETTERED), _item(1, ItemState.DEAD_LETTERED)]
    plan = plan_resume(items, {}, {"item_0": 1, "item_1": 3}, max_retries=2)
    assert plan.rerun == {0: 2} and plan.retried_from_dlq == ("item_0",)
    assert plan.kept_in_dlq == ("item_1",)


@given(
    st.lists(st.sampled_from(list(ItemState)), max_size=20),
    st.sets(st.integers(0, 19)),
    st.integers(0, 3),
)
def test_every_item_is_in_exactly_one_bucket_and_landed_never_reruns(
    states: list[ItemState], landed_at: set[int], max_retries: int
) -> None:
    items = [_item(i, s) for i, s in enumerate(states)]
    landed = {f"item_{i}": f"sha{i}" for i in landed_at if i < len(items)}
    plan = plan_resume(items, landed, {}, max_retries=max_retries)
    rerun = {f"item_{i}" for i in plan.rerun}
    buckets = [set(plan.done), rerun, set(plan.kept_in_dlq)]
    assert sum(len(b) for b in buckets) == len(items)
    assert set().union(*buckets) == {i.item_id for i in items}
    assert not rerun & set(landed)
    assert not rerun & {i.item_id for i in items if i.state is ItemState.MERGED}


def test_parse_landed_reads_this_jobs_trailers_only() -> None:
    log = "c2\x01job/item_3\x02other/item_1\0\nc1\x01job/item_0\0\nc0\x01\0"
    assert parse_landed(log, "job") == {"item_3": "c2", "item_0": "c1"}


@given(st.lists(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), max_size=8))
def test_reordering_the_input_is_no_change(items: list[dict[str, int]]) -> None:
    assert input_changes(items, list(reversed(items))) == ([], [])


def test_appended_and_removed_items_are_found_by_content() -> None:
    added, removed = input_changes([{"a": 1}, {"b": 2}], [{"b": 2}, {"c": 3}])
    assert added == [{"c": 3}] and removed == [{"a": 1}]
    assert json.dumps(added)
