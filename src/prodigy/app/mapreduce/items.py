"""What happens to one item's finished attempt: usage, landing in the parent, the DLQ, events.

Each function commits its state change to the store when it happens, in one transaction with
the events that describe it (one fsync per transition; a crash keeps both or neither).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prodigy.app.mapreduce.dead_letters import make_room
from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.spending import JobSpending
from prodigy.core import event_payloads as ev
from prodigy.core.clock import timestamp
from prodigy.core.mapreduce.failures import (
    error_signature,
    failure_entry,
    manual_review_required,
    reprocess_eligible,
    worktree_artifacts,
)
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.core.progress import Reporter
from prodigy.core.quota import QuotaPolicy
from prodigy.core.records import ItemRecord, ItemState, UsageRecord, WorktreeState
from prodigy.core.variables import JsonValue
from prodigy.core.workflow import ErrorPolicy
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.executor import AgentRunner
from prodigy.runtime.map_agent import AgentSetting, AgentSpec, AgentTask, discard_agent_worktree
from prodigy.runtime.merge_queue import BranchMergeResult, MergeQueue, MergeRequest
from prodigy.runtime.remote.coordinator import drop_incoming, is_incoming
from prodigy.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class MapJob:
    """Everything the map phase of one job works with."""

    store: Store
    events: JobEvents
    reporter: Reporter
    job_id: str
    session_id: str
    policy: ErrorPolicy
    max_parallel: int
    setting: AgentSetting  # where agent worktrees live (repo, agents_root)
    spec: AgentSpec  # what every agent runs: the data each task carries
    runner: AgentRunner[AgentTask, AgentOutcome]  # where agents run
    queue: MergeQueue
    repo_key: str
    remote: bool = False  # agents run on other machines (commits come back as bundles)
    timeout_action: str = "Dlq"  # timeout_config.timeout_action: Dlq | Skip | Fail | ...
    dlq_capacity: int = 1000  # config dlq.capacity: a full DLQ evicts (and archives) its oldest
    quota: QuotaPolicy = field(default_factory=QuotaPolicy)  # on a usage limit: wait|pause|fail
    spending: JobSpending | None = None  # the job's budget (None: no budget)


def record_worktree(job: MapJob, path: Path, branch: str, item_id: str) -> None:
    """So `prodigy worktree ls/clean` know whose worktree it is, even after a crash."""
    job.store.worktrees.record(
        path=str(path),
        repo_key=job.repo_key,
        branch=branch,
        session_id=job.session_id,
        job_id=job.job_id,
        item_id=item_id,
    )


def keep_failed_worktree(job: MapJob, outcome: AgentOutcome) -> None:
    """A failed agent's worktree stays for inspection; its record says so."""
    if outcome.worktree_path and job.store.worktrees.get(outcome.worktree_path) is not None:
        job.store.worktrees.set_state(outcome.worktree_path, WorktreeState.FAILED)


def record_usage(job: MapJob, outcome: AgentOutcome) -> None:
    """Tokens and cost of every agent step, attributed to the job and the item."""
    for step in outcome.usage:
        job.store.usage.record(
            UsageRecord(
                session_id=job.session_id,
                step_id=step.step,
                usage=step.usage,
                job_id=job.job_id,
                item_id=outcome.item_id,
                log_path=step.log_path,
            )
        )


def record_merge_usage(job: MapJob, item_id: str, merged: BranchMergeResult) -> None:
    """An agent resolving a merge conflict spends too: on the job and the item it merged."""
    job.store.usage.record(
        UsageRecord(
            session_id=job.session_id,
            step_id=f"merge {item_id}",
            usage=merged.usage,
            job_id=job.job_id,
            item_id=item_id,
            log_path=merged.log_path,
        )
    )
    if job.spending is not None:
        job.spending.charge(merged.usage)


async def land(job: MapJob, outcome: AgentOutcome, *, landed_before: int) -> AgentOutcome:
    """Merge a successful agent's branch into the parent; a refused merge fails the item."""
    branch = outcome.branch or ""
    if not outcome.commits:
        job.store.items.transition(job.job_id, outcome.item_id, ItemState.MERGED)
        await cleanup(job, outcome)
        return outcome
    payload = ev.merge_event(job.job_id, outcome.agent_id, outcome.item_id, branch)
    job.events.record(ev.MERGE_STARTED, payload, agent_id=outcome.agent_id)
    crash_point("before-merge")
    merged = await job.queue.merge(
        MergeRequest(job.job_id, outcome.item_id, branch, bundle=outcome.bundle)
    )
    if merged.used_claude:
        record_merge_usage(job, outcome.item_id, merged)
    if not merged.merged:
        error = merged.error or "the merge into the parent did not land"
        job.events.record(
            ev.MERGE_CONFLICT,
            {**payload, "conflicted_paths": list(merged.conflicted_paths), "error": error},
            agent_id=outcome.agent_id,
        )
        return outcome.as_failed("merge_conflict", error)
    assert merged.commit is not None
    if merged.used_claude:  # the conflict happened, even though Claude resolved it
        job.events.record(
            ev.MERGE_CONFLICT,
            {
                **payload,
                "conflicted_paths": list(merged.conflicted_paths),
                "resolved_by": "claude",
            },
            agent_id=outcome.agent_id,
        )
    crash_point("after-merge-before-journal")
    # the item's new state, the parent's head and the events that say so: one transaction
    with job.store.transaction():
        job.store.items.transition(
            job.job_id, outcome.item_id, ItemState.MERGED, merge_commit=merged.commit
        )
        job.store.jobs.set_parent_head(job.job_id, merged.commit)
        job.events.record(
            ev.MERGE_COMPLETED,
            {**payload, "merge_commit": merged.commit, "used_claude": merged.used_claude},
            agent_id=outcome.agent_id,
        )
        # Counted from the store, not from this process: they grow over the whole job, across
        # concurrent landings and resumes (`version` is the number of merges so far).
        counts = job.store.jobs.item_counts(job.job_id)
        landed = counts.get(ItemState.MERGED, 0)
        finished = landed + counts.get(ItemState.DEAD_LETTERED, 0) + counts.get(ItemState.FAILED, 0)
        job.events.record(
            ev.CHECKPOINT_CREATED,
            ev.checkpoint_created(
                job.job_id, max(landed, landed_before + 1), finished, merged.commit
            ),
        )
    await cleanup(job, outcome)
    return outcome


async def cleanup(job: MapJob, outcome: AgentOutcome) -> None:
    """The landed agent's worktree and branch (or a remote agent's incoming ref) are no
    longer needed."""
    if is_incoming(outcome.branch):
        await drop_incoming(job.setting.repo, job.job_id, outcome.item_id)
    elif outcome.worktree_path and outcome.branch:
        await discard_agent_worktree(job.setting.repo, Path(outcome.worktree_path), outcome.branch)
        with job.store.transaction():
            job.store.worktrees.forget(outcome.worktree_path)
            job.events.record(
                ev.WORKTREE_CLEANED,
                {
                    "job_id": job.job_id,
                    "agent_id": outcome.agent_id,
                    "worktree_name": Path(outcome.worktree_path).name,
                },
                agent_id=outcome.agent_id,
            )


def record_failure_events(job: MapJob, outcome: AgentOutcome, *, will_retry: bool) -> None:
    """agent_timed_out / agent_failed; a refused merge has its own merge_conflict event."""
    if outcome.failure_kind == "merge_conflict":
        return
    if outcome.status == "timeout":
        job.events.record(
            ev.AGENT_TIMED_OUT,
            {
                "job_id": job.job_id,
                "agent_id": outcome.agent_id,
                "item_id": outcome.item_id,
                "error": outcome.error,
            },
            agent_id=outcome.agent_id,
        )
    job.events.record(
        ev.AGENT_FAILED,
        ev.agent_failed(job.job_id, outcome, will_retry=will_retry),
        agent_id=outcome.agent_id,
    )


def dead_letter(job: MapJob, outcome: AgentOutcome, item_data: JsonValue) -> None:
    """The DLQ entry (seed fields), the item's final state and its event, in one transaction."""
    make_room(
        job.store, job.events, job.reporter, item_id=outcome.item_id, capacity=job.dlq_capacity
    )
    with job.store.transaction():
        record = job.store.dlq.add_failure(
            job_id=job.job_id,
            item_id=outcome.item_id,
            item_data=item_data,
            failure=failure_entry(outcome, timestamp=timestamp()),
            error_signature=error_signature(outcome),
            worktree_artifacts=worktree_artifacts(outcome),
            reprocess_eligible=reprocess_eligible(outcome),
            manual_review_required=manual_review_required(outcome),
        )
        crash_point("mid-dlq-add")  # inside the transaction: neither half may survive alone
        job.store.items.transition(job.job_id, outcome.item_id, ItemState.DEAD_LETTERED)
        job.events.record(
            ev.DLQ_ITEM_ADDED, ev.dlq_item_added(job.job_id, outcome, record.failure_count)
        )


def to_pending(store: Store, item: ItemRecord) -> None:
    """Back to pending from wherever a failure or a crash left it, along the state machine."""
    if item.state is ItemState.SUCCEEDED:  # finished, but its merge never landed
        store.items.transition(item.job_id, item.item_id, ItemState.FAILED)
    if item.state is not ItemState.PENDING:
        store.items.transition(item.job_id, item.item_id, ItemState.PENDING)
