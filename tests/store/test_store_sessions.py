"""Sessions, their status transitions, checkpoints and usage roll-ups."""

from __future__ import annotations

import pytest

from prodigy.core.errors import StoreError
from prodigy.core.records import (
    Checkpoint,
    IllegalTransitionError,
    RunStatus,
    StepRecord,
    UsageRecord,
)
from prodigy.core.usage import Usage
from prodigy.store import Store, open_store


def _checkpoint(session_id: str, next_step: int, **variables: object) -> Checkpoint:
    return Checkpoint(
        session_id=session_id,
        iteration=1,
        next_step_index=next_step,
        completed_step_ids=tuple(f"step-{i}" for i in range(next_step)),
        variables=variables,
        git_head="0" * 40,
        workflow_hash="sha256:abc",
    )


def _step(session_id: str, index: int, **extra: object) -> StepRecord:
    return StepRecord(
        session_id=session_id, iteration=1, step_index=index, step_id=f"step-{index}",
        success=True, started_at="2026-01-01T00:00:00.000000Z",
        finished_at="2026-01-01T00:00:01.000000Z", **extra,
    )  # fmt: skip


def test_a_new_session_is_running_with_its_fields(store: Store) -> None:
    repo = store.repos.ensure("/home/u/proj")
    created = store.sessions.create(
        session_id="s-1", repo_key=repo.key, workflow_path="/home/u/proj/wf.yml",
        workflow_hash="h1", mode="mapreduce", worktree_path="/wt/s-1", branch="prodigy-s-1",
        target_branch="main",
    )  # fmt: skip
    assert created.status is RunStatus.RUNNING
    assert created.finished_at is None
    assert store.sessions.require("s-1") == created
    assert store.sessions.find(repo_key=repo.key) == [created]
    with pytest.raises(StoreError, match="already exists"):
        store.sessions.create(
            session_id="s-1", repo_key=repo.key, workflow_path="x", workflow_hash="h"
        )


def test_status_follows_the_run_state_machine(store: Store, session_id: str) -> None:
    failed = store.sessions.set_status(session_id, RunStatus.FAILED, error="step 2 failed")
    assert failed.error == "step 2 failed"
    assert failed.finished_at is not None
    resumed = store.sessions.set_status(session_id, RunStatus.RUNNING)
    assert resumed.finished_at is None
    store.sessions.set_status(session_id, RunStatus.COMPLETED)
    with pytest.raises(IllegalTransitionError, match="cannot go from completed to running"):
        store.sessions.set_status(session_id, RunStatus.RUNNING)
    assert store.sessions.require(session_id).status is RunStatus.COMPLETED


def test_update_changes_only_the_given_fields(store: Store, session_id: str) -> None:
    before = store.sessions.require(session_id)
    after = store.sessions.update(session_id, iteration=3, branch="prodigy-x")
    assert (after.iteration, after.branch) == (3, "prodigy-x")
    assert after.workflow_path == before.workflow_path
    assert after.updated_at > before.updated_at


def test_unknown_session_names_the_fix(store: Store) -> None:
    with pytest.raises(StoreError, match="prodigy sessions list"):
        store.sessions.require("nope")


def test_sessions_are_listed_newest_first(store: Store, session_id: str) -> None:
    repo = store.repos.ensure("/work/demo")
    store.sessions.create(session_id="session-2", repo_key=repo.key, workflow_path="w",
                          workflow_hash="h")  # fmt: skip
    assert [s.id for s in store.sessions.find()] == ["session-2", session_id]
    assert [s.id for s in store.sessions.find(limit=1)] == ["session-2"]


def test_checkpoint_round_trip_with_its_step(store: Store, session_id: str) -> None:
    saved = store.checkpoints.save(
        _checkpoint(session_id, 1, ticket="PROJ-1", nested={"a": [1, 2]}),
        step=_step(session_id, 0, output="built", captured={"ticket": "PROJ-1"}),
    )
    loaded = store.checkpoints.latest(session_id)
    assert loaded == saved
    assert loaded.variables == {"ticket": "PROJ-1", "nested": {"a": [1, 2]}}
    assert loaded.completed_step_ids == ("step-0",)
    assert loaded.git_head == "0" * 40
    assert loaded.seq > 0
    assert loaded.saved_at
    [step] = store.checkpoints.steps(session_id)
    assert (step.output, step.captured, step.success) == ("built", {"ticket": "PROJ-1"}, True)


def test_latest_checkpoint_wins_and_history_is_kept(store: Store, session_id: str) -> None:
    for n in range(1, 4):
        store.checkpoints.save(_checkpoint(session_id, n), step=_step(session_id, n - 1))
    latest = store.checkpoints.latest(session_id)
    assert latest is not None
    assert latest.next_step_index == 3
    assert [c.next_step_index for c in store.checkpoints.history(session_id)] == [1, 2, 3]
    assert store.checkpoints.get(latest.seq) == latest
    assert store.checkpoints.delete(session_id) == 3
    assert store.checkpoints.latest(session_id) is None


def test_a_failed_save_writes_nothing(store: Store, session_id: str) -> None:
    store.checkpoints.save(_checkpoint(session_id, 1), step=_step(session_id, 0))
    # the step belongs to a session that does not exist: the foreign key fails the save
    with pytest.raises(StoreError):
        store.checkpoints.save(_checkpoint(session_id, 2), step=_step("ghost", 1))
    latest = store.checkpoints.latest(session_id)
    assert latest is not None
    assert latest.next_step_index == 1
    assert len(store.checkpoints.steps(session_id)) == 1


def test_checkpoint_survives_reopening(store: Store, session_id: str) -> None:
    store.checkpoints.save(_checkpoint(session_id, 2, x="y"))
    store.close()
    with open_store(store.path.parent) as reopened:
        latest = reopened.checkpoints.latest(session_id)
        assert latest is not None
        assert (latest.next_step_index, latest.variables) == (2, {"x": "y"})


def test_usage_rolls_up_per_session_job_and_item(store: Store, job_id: str) -> None:
    session_id = store.jobs.require(job_id).session_id

    def record(item: str | None, model: str, tokens: int, cost: float) -> None:
        store.usage.record(
            UsageRecord(
                session_id=session_id, step_id="claude: /fix", job_id=item and job_id,
                item_id=item, claude_session_id="c-1", log_path="/logs/x.jsonl",
                usage=Usage(duration_ms=1000, turns=2, input_tokens=tokens, output_tokens=1,
                            cache_read_input_tokens=5, cost_usd=cost, model=model),
            )
        )  # fmt: skip

    record(None, "opus", 100, 0.5)
    record("item-a", "sonnet", 10, 0.25)
    record("item-a", "sonnet", 20, 0.25)
    record("item-b", "haiku", 30, 0.125)
    whole = store.usage.for_session(session_id)
    assert (whole.input_tokens, whole.output_tokens, whole.turns) == (160, 4, 8)
    assert whole.cost_usd == pytest.approx(1.125)
    assert whole.duration_ms == 4000
    assert whole.model == "haiku,opus,sonnet"
    job = store.usage.for_job(job_id)
    assert (job.input_tokens, job.cache_read_input_tokens) == (60, 15)
    item = store.usage.for_item(job_id, "item-a")
    assert (item.input_tokens, item.cost_usd, item.model) == (30, 0.5, "sonnet")
    assert store.usage.for_item(job_id, "none") == Usage()
    entries = store.usage.entries(session_id)
    assert [e.usage.input_tokens for e in entries] == [100, 10, 20, 30]
    assert entries[0].claude_session_id == "c-1"


def test_save_records_usage_in_the_same_transaction(store: Store, session_id: str) -> None:
    store.checkpoints.save(
        _checkpoint(session_id, 1),
        step=_step(session_id, 0),
        usage=UsageRecord(session_id=session_id, step_id="step-0",
                          usage=Usage(input_tokens=7, cost_usd=0.01)),
    )  # fmt: skip
    assert store.usage.for_session(session_id).input_tokens == 7


def test_deleting_a_session_removes_what_belongs_to_it_but_not_its_dlq(
    store: Store, job_id: str
) -> None:
    session_id = store.jobs.require(job_id).session_id
    store.checkpoints.save(_checkpoint(session_id, 1), step=_step(session_id, 0))
    store.items.add(job_id, [("a", {})])
    store.dlq.add_failure(job_id=job_id, item_id="a", item_data={}, failure={},
                          error_signature="s")  # fmt: skip
    assert store.sessions.delete(session_id)
    assert store.sessions.get(session_id) is None
    assert store.checkpoints.history(session_id) == []
    assert store.checkpoints.steps(session_id) == []
    assert store.jobs.get(job_id) is None
    assert store.items.find(job_id) == []
    assert [r.item_id for r in store.dlq.find(job_id=job_id)] == ["a"]
    assert not store.sessions.delete(session_id)
