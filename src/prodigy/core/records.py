"""Row types shared by the store and the use cases: frozen values, no I/O.

JSON-valued fields hold plain JSON values (dict, list, str, int, float, bool, None).
Timestamps are RFC 3339 UTC strings with microseconds, e.g. `2026-11-25T15:50:59.123456Z`,
so they sort as text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from prodigy.core.errors import StoreError
from prodigy.core.usage import Usage

Json = Any  # a JSON value; nested types are not worth spelling out in the row types


def repo_key(resolved_path: str) -> str:
    """`<readable name>-<8 hex of sha256(path)>`: two repos with one directory name differ."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", PurePosixPath(resolved_path).name).strip(".-")
    digest = hashlib.sha256(resolved_path.encode()).hexdigest()[:8]
    return f"{name or 'repo'}-{digest}"


class IllegalTransitionError(StoreError):
    """A state change the state machine does not allow; names the record and both states."""


class RunStatus(StrEnum):
    """Status of a session or a MapReduce job."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    MERGING = "merging"  # steps done, the merge into the target branch has not landed yet
    PAUSED = "paused"  # budget exhausted or usage limit hit: resumable, see pause_reason


# Failed and interrupted runs may be resumed; completed and cancelled are final, except that
# a completed session merges (completed -> merging -> completed; `resume` finishes a merging
# one whose process died).
RUN_TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    RunStatus.RUNNING: frozenset(
        {
            RunStatus.COMPLETED,
            RunStatus.FAILED,
            RunStatus.INTERRUPTED,
            RunStatus.CANCELLED,
            RunStatus.PAUSED,
        }
    ),
    # paused: resumed (by itself after a quota wait, or by resume-job), or given up
    RunStatus.PAUSED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.FAILED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED}),
    RunStatus.INTERRUPTED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED}),
    RunStatus.COMPLETED: frozenset({RunStatus.MERGING}),
    RunStatus.MERGING: frozenset({RunStatus.COMPLETED, RunStatus.CANCELLED}),
    RunStatus.CANCELLED: frozenset(),
}


class ItemState(StrEnum):
    """Where a MapReduce work item is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MERGED = "merged"
    DEAD_LETTERED = "dead_lettered"


ITEM_TRANSITIONS: Mapping[ItemState, frozenset[ItemState]] = {
    ItemState.PENDING: frozenset({ItemState.RUNNING}),
    # back to pending: the run was interrupted and resume starts the agent again
    ItemState.RUNNING: frozenset({ItemState.SUCCEEDED, ItemState.FAILED, ItemState.PENDING}),
    # failed after success: the merge into the parent was refused (conflict)
    ItemState.SUCCEEDED: frozenset({ItemState.MERGED, ItemState.FAILED}),
    ItemState.FAILED: frozenset({ItemState.PENDING, ItemState.DEAD_LETTERED}),
    ItemState.DEAD_LETTERED: frozenset({ItemState.PENDING}),
    ItemState.MERGED: frozenset(),
}


def item_transition_allowed(current: ItemState, target: ItemState) -> bool:
    """Whether the state machine allows `current -> target` (see ITEM_TRANSITIONS)."""
    return target in ITEM_TRANSITIONS[current]


def item_can_be_reconciled(current: ItemState) -> bool:
    """Git is the truth: an item whose trailer is in the parent branch is merged from any state."""
    return current is not ItemState.MERGED


class JobPhase(StrEnum):
    SETUP = "setup"
    MAP = "map"
    REDUCE = "reduce"
    DONE = "done"


class WorktreeState(StrEnum):
    """The states of prodigy's worktree metadata (docs/inspection.md)."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    MERGED = "merged"
    CLEANED_UP = "cleaned_up"
    FAILED = "failed"
    ABANDONED = "abandoned"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoRecord:
    key: str
    path: str
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    id: str
    repo_key: str
    workflow_path: str
    workflow_hash: str
    status: RunStatus
    mode: str  # "standard", "iterative" or "mapreduce"
    worktree_path: str | None
    branch: str | None
    target_branch: str | None
    started_at: str
    updated_at: str
    finished_at: str | None
    error: str | None
    iteration: int
    job_id: str | None
    options: Mapping[str, Json] = field(default_factory=dict)  # how the run was started
    workflow_text: str | None = None  # the workflow as it was at start (masked)
    pause_reason: str | None = None  # paused sessions: "budget" or "quota"
    resume_at: str | None = None  # a quota pause: when the limit resets (ISO UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRecord:
    """One finished step of a session (or of a map agent, with job and item set)."""

    session_id: str
    iteration: int
    step_index: int
    step_id: str  # display name of the step, e.g. "shell: make test"
    success: bool
    started_at: str
    finished_at: str
    output: str | None = None
    error: str | None = None
    captured: Mapping[str, Json] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """Resume point of a session: the steps before `next_step_index` are done."""

    session_id: str
    iteration: int
    next_step_index: int
    completed_step_ids: tuple[str, ...]
    variables: Mapping[str, Json]
    git_head: str | None
    workflow_hash: str
    seq: int = 0  # assigned by the store; increases with every save
    saved_at: str = ""  # assigned by the store


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRecord:
    """What one agent step consumed, and where it ran; roll-ups return a plain `Usage`."""

    session_id: str
    step_id: str
    usage: Usage
    job_id: str | None = None
    item_id: str | None = None
    claude_session_id: str | None = None
    log_path: str | None = None
    recorded_at: str = ""  # assigned by the store


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRecord:
    id: str
    session_id: str
    phase: JobPhase
    status: RunStatus
    setup_captures: Mapping[str, Json]
    parent_worktree: str | None
    parent_branch: str | None
    parent_head: str | None  # HEAD of the parent worktree after the latest merge
    total_items: int
    created_at: str
    updated_at: str
    finished_at: str | None
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRecord:
    job_id: str
    item_id: str
    index: int
    data: Json
    state: ItemState
    attempts: int
    agent_branch: str | None
    agent_worktree: str | None
    result: Json
    error: str | None
    merge_commit: str | None
    created_at: str
    updated_at: str
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DlqRecord:
    """A dead-lettered item; fields and JSON names follow prodigy's DeadLetteredItem.

    See docs/dlq.md."""

    job_id: str
    item_id: str
    item_data: Json
    first_attempt: str
    last_attempt: str
    failure_count: int
    failure_history: tuple[Mapping[str, Json], ...]
    error_signature: str
    worktree_artifacts: Mapping[str, Json] | None
    reprocess_eligible: bool
    manual_review_required: bool

    def to_json(self) -> dict[str, Json]:
        """The DeadLetteredItem shape `dlq export` writes."""
        return {
            "item_id": self.item_id,
            "item_data": self.item_data,
            "first_attempt": self.first_attempt,
            "last_attempt": self.last_attempt,
            "failure_count": self.failure_count,
            "failure_history": [dict(entry) for entry in self.failure_history],
            "error_signature": self.error_signature,
            "worktree_artifacts": (
                None if self.worktree_artifacts is None else dict(self.worktree_artifacts)
            ),
            "reprocess_eligible": self.reprocess_eligible,
            "manual_review_required": self.manual_review_required,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    seq: int  # monotonic; `events follow` reads everything after the last seq it saw
    id: str
    ts: str
    event_type: str
    payload: Mapping[str, Json]
    job_id: str | None = None
    session_id: str | None = None
    agent_id: str | None = None

    def to_json(self) -> dict[str, Json]:
        """The JSONL record shape of prodigy's event log (docs/events.md)."""
        return {
            "id": self.id,
            "timestamp": self.ts,
            # prodigy correlates by logger; the job (or session) is the closest stable unit here
            "correlation_id": self.job_id or self.session_id or self.id,
            "event": {**self.payload, "event_type": self.event_type},
        }


_json_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses


def event_json_line(
    *,
    id: str,
    ts: str,
    event_type: str,
    payload_text: str,
    job_id: str | None = None,
    session_id: str | None = None,
) -> str:
    """`json.dumps(EventRecord(...).to_json(), ensure_ascii=False)` for an event whose payload
    is JSON text as the store keeps it (`json.dumps` of an object, ensure_ascii=False), built
    around that text instead of decoding and encoding it again (`events export` of 100,000
    events spent most of its time there). Any other payload text goes the long way."""
    kind = _json_string(event_type)
    if payload_text == "{}":
        event = f'{{"event_type": {kind}}}'
    elif (
        payload_text.startswith('{"')
        and payload_text.endswith("}")
        and '"event_type"' not in payload_text
    ):
        event = f'{payload_text[:-1]}, "event_type": {kind}}}'
    else:
        record = EventRecord(
            seq=0, id=id, ts=ts, event_type=event_type, payload=json.loads(payload_text),
            job_id=job_id, session_id=session_id,
        )  # fmt: skip
        return json.dumps(record.to_json(), ensure_ascii=False)
    correlation = _json_string(job_id or session_id or id)
    return (
        f'{{"id": {_json_string(id)}, "timestamp": {_json_string(ts)}, '
        f'"correlation_id": {correlation}, "event": {event}}}'
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorktreeRecord:
    path: str
    repo_key: str
    branch: str
    state: WorktreeState
    created_at: str
    updated_at: str
    session_id: str | None = None
    job_id: str | None = None
    item_id: str | None = None
