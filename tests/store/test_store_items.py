"""MapReduce jobs and the work-item state machine: every transition is one transaction."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prodigy.core.records import (
    ITEM_TRANSITIONS,
    IllegalTransitionError,
    ItemState,
    JobPhase,
    RunStatus,
)
from prodigy.store import Store

S = ItemState


def test_a_job_starts_in_setup_and_is_linked_from_its_session(
    store: Store, session_id: str
) -> None:
    job = store.jobs.create(job_id="job-9", session_id=session_id, parent_branch="prodigy-s")
    assert (job.phase, job.status, job.total_items) == (JobPhase.SETUP, RunStatus.RUNNING, 0)
    assert store.sessions.require(session_id).job_id == "job-9"
    assert store.jobs.find(session_id=session_id) == [job]


def test_job_fields_are_updated_one_transition_at_a_time(store: Store, job_id: str) -> None:
    store.jobs.set_setup_captures(job_id, {"files": ["a.py", "b.py"]})
    store.jobs.set_phase(job_id, JobPhase.MAP)
    store.jobs.set_parent_head(job_id, "c0ffee")
    done = store.jobs.set_status(job_id, RunStatus.COMPLETED)
    assert done.setup_captures == {"files": ["a.py", "b.py"]}
    assert (done.phase, done.parent_head, done.finished_at is not None) == (
        JobPhase.MAP, "c0ffee", True,
    )  # fmt: skip
    with pytest.raises(IllegalTransitionError, match=f"job {job_id}"):
        store.jobs.set_status(job_id, RunStatus.FAILED)


def test_items_are_added_in_order_once(store: Store, job_id: str) -> None:
    assert store.items.add(job_id, [("a", {"file": "a.py"}), ("b", {"file": "b.py"})]) == 2
    # adding the same input again on resume adds nothing; new ids go after the old ones
    assert store.items.add(job_id, [("b", {"file": "other"}), ("c", 3)]) == 1
    items = store.items.find(job_id)
    assert [(i.item_id, i.index, i.data) for i in items] == [
        ("a", 0, {"file": "a.py"}), ("b", 1, {"file": "b.py"}), ("c", 2, 3),
    ]  # fmt: skip
    assert all(i.state is S.PENDING and i.attempts == 0 for i in items)
    assert store.jobs.require(job_id).total_items == 3


def test_the_happy_path_records_attempt_branch_result_and_merge(store: Store, job_id: str) -> None:
    store.items.add(job_id, [("a", {})])
    running = store.items.transition(
        job_id, "a", S.RUNNING, agent_branch="prodigy-agent-job-1-0", agent_worktree="/wt/a"
    )
    assert (running.attempts, running.started_at is not None) == (1, True)
    done = store.items.transition(job_id, "a", S.SUCCEEDED, result={"status": "success"})
    assert done.finished_at is not None
    merged = store.items.transition(job_id, "a", S.MERGED, merge_commit="abc123")
    assert (merged.state, merged.merge_commit, merged.result) == (
        S.MERGED, "abc123", {"status": "success"},
    )  # fmt: skip
    assert merged.agent_branch == "prodigy-agent-job-1-0"


def test_items_can_be_read_without_their_data_and_results(store: Store, job_id: str) -> None:
    store.items.add(job_id, [("a", {"file": "a.py"}), ("b", {"file": "b.py"})])
    store.items.transition(job_id, "a", S.RUNNING, agent_branch="br-a")
    store.items.transition(job_id, "a", S.SUCCEEDED, result={"status": "success"})
    full, light = store.items.find(job_id), store.items.find(job_id, payload=False)
    assert [(i.item_id, i.index, i.state, i.attempts, i.agent_branch) for i in light] == [
        (i.item_id, i.index, i.state, i.attempts, i.agent_branch) for i in full
    ]
    assert {(i.data, i.result) for i in light} == {(None, None)}
    assert store.items.data_of(job_id) == [{"file": "a.py"}, {"file": "b.py"}]
    assert store.items.ids(job_id, states=(S.SUCCEEDED, S.MERGED)) == {"a"}


def test_retry_counts_attempts_and_clears_the_old_error(store: Store, job_id: str) -> None:
    store.items.add(job_id, [("a", {})])
    store.items.transition(job_id, "a", S.RUNNING)
    failed = store.items.transition(job_id, "a", S.FAILED, error="exit 1")
    assert failed.error == "exit 1"
    store.items.transition(job_id, "a", S.PENDING)
    again = store.items.transition(job_id, "a", S.RUNNING)
    assert (again.attempts, again.error, again.finished_at) == (2, None, None)


def test_an_illegal_transition_raises_and_changes_nothing(store: Store, job_id: str) -> None:
    store.items.add(job_id, [("a", {})])
    before = store.items.require(job_id, "a")
    with pytest.raises(IllegalTransitionError, match="item 'a': cannot go from pending to merged"):
        store.items.transition(job_id, "a", S.MERGED, merge_commit="abc")
    assert store.items.require(job_id, "a") == before


def test_reconcile_marks_landed_items_merged_from_any_state(store: Store, job_id: str) -> None:
    store.items.add(job_id, [("a", {}), ("b", {})])
    store.items.transition(job_id, "a", S.RUNNING)
    merged = store.items.reconcile_merged(job_id, "a", "feed")
    assert (merged.state, merged.merge_commit) == (S.MERGED, "feed")
    # already merged: the first merge commit is kept
    assert store.items.reconcile_merged(job_id, "a", "beef").merge_commit == "feed"
    counts = store.jobs.item_counts(job_id)
    assert (counts[S.MERGED], counts[S.PENDING], counts[S.FAILED]) == (1, 1, 0)
    assert [i.item_id for i in store.items.find(job_id, states=[S.PENDING])] == ["b"]


def test_an_error_inside_a_grouped_transaction_rolls_everything_back(
    store: Store, job_id: str
) -> None:
    store.items.add(job_id, [("a", {})])
    with pytest.raises(RuntimeError), store.transaction():  # noqa: PT012 - the crash is mid-block
        store.items.transition(job_id, "a", S.RUNNING)
        store.events.append("agent_started", {"item_id": "a"}, job_id=job_id)
        raise RuntimeError("crash between the two writes")
    assert store.items.require(job_id, "a").state is S.PENDING
    assert store.events.query(job_id=job_id) == []


def test_a_transition_is_durable_once_the_call_returns(store: Store, job_id: str) -> None:
    store.items.add(job_id, [("a", {})])
    store.items.transition(job_id, "a", S.RUNNING)
    # a second, independent connection sees the committed state at once
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT state, attempts FROM items").fetchall() == [("running", 1)]
    conn.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.sampled_from(list(ItemState)), max_size=12))
def test_the_store_follows_the_state_machine_exactly(
    store: Store, job_id: str, moves: list[ItemState]
) -> None:
    item_id = f"item-{len(store.items.find(job_id))}"
    store.items.add(job_id, [(item_id, {})])
    state, attempts = S.PENDING, 0
    for target in moves:
        if target in ITEM_TRANSITIONS[state]:
            record = store.items.transition(job_id, item_id, target)
            state, attempts = target, attempts + (target is S.RUNNING)
        else:
            with pytest.raises(IllegalTransitionError):
                store.items.transition(job_id, item_id, target)
            record = store.items.require(job_id, item_id)
        assert (record.state, record.attempts) == (state, attempts)


def test_item_data_keeps_its_key_order(store: Store, job_id: str) -> None:
    data = {"zeta": 1, "alpha": {"y": 2, "b": 3}}
    store.items.add(job_id, [("a", data)])
    assert list(store.items.require(job_id, "a").data) == ["zeta", "alpha"]
    assert list(store.items.require(job_id, "a").data["alpha"]) == ["y", "b"]
