"""Payloads of MapReduce job events, in the record shapes of prodigy's event log (docs/events.md).

Every payload carries `job_id`; agent events carry `agent_id` and `item_id`. Durations are
`{"secs", "nanos"}` as prodigy serializes them; tokens and cost ride along where known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prodigy.core.clock import format_ts
from prodigy.core.mapreduce.failures import error_signature, failure_reason, reprocess_eligible
from prodigy.core.mapreduce.results import AgentOutcome, duration_json
from prodigy.core.quota import QuotaHit
from prodigy.core.usage import Usage

if TYPE_CHECKING:  # the workflow model (pydantic, ruamel): `dlq` and `events` need none of it
    from prodigy.core.mapreduce.job_plan import MapLimits
    from prodigy.core.workflow import ErrorPolicy, MapPhase

Payload = dict[str, Any]

# Event types, one name each (prodigy's where it has one).
JOB_STARTED = "job_started"
JOB_COMPLETED = "job_completed"
JOB_FAILED = "job_failed"
JOB_PAUSED = "job_paused"  # the map phase was drained; pending items wait for a resume
SETUP_STARTED = "setup_phase_started"
SETUP_COMPLETED = "setup_phase_completed"
MAP_STARTED = "map_phase_started"
MAP_COMPLETED = "map_phase_completed"
REDUCE_STARTED = "reduce_phase_started"
REDUCE_COMPLETED = "reduce_phase_completed"
AGENT_STARTED = "agent_started"
AGENT_PROGRESS = "agent_progress"
AGENT_COMPLETED = "agent_completed"
AGENT_FAILED = "agent_failed"
AGENT_TIMED_OUT = "agent_timed_out"
AGENT_RETRYING = "agent_retrying"
MERGE_STARTED = "merge_started"
MERGE_COMPLETED = "merge_completed"
MERGE_CONFLICT = "merge_conflict"
WORKTREE_CLEANED = "worktree_cleaned"
DLQ_ITEM_ADDED = "d_l_q_item_added"  # serde's spelling of DLQItemAdded, as 0.4.4 writes it
CHECKPOINT_CREATED = "checkpoint_created"
DLQ_ITEM_REMOVED = "d_l_q_item_removed"  # serde's spelling of DLQItemRemoved, as 0.4.4's
DLQ_ITEMS_EVICTED = "d_l_q_items_evicted"
DLQ_ITEMS_REPROCESSED = "d_l_q_items_reprocessed"
DLQ_ANALYSIS = "d_l_q_analysis_generated"
# Resume's own events: what it found in git and repaired before continuing.
ITEM_RECONCILED = "item_reconciled"
JOB_RESUMED = "job_resumed"
LEFTOVER_REPAIRED = "leftover_repaired"
# A sequential step's retry attempt (the map phase's is AGENT_RETRYING).
STEP_RETRY_SCHEDULED = "step_retry_scheduled"
# budgets and usage limits (issue 14; docs/budgets-and-quotas.md)
QUOTA_LIMIT_HIT = "quota_limit_hit"
QUOTA_WARNING = "quota_warning"
BUDGET_EXHAUSTED = "budget_exhausted"


def usage_json(usage: Usage) -> Payload:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cost_usd": usage.cost_usd,
        "cost_source": usage.cost_source,
    }


def job_started(
    job_id: str, phase: MapPhase, limits: MapLimits, policy: ErrorPolicy, timestamp: str
) -> Payload:
    return {
        "job_id": job_id,
        "config": {
            "input": phase.input,
            "json_path": phase.json_path or "",
            "max_parallel": limits.max_parallel,
            "agent_timeout_secs": limits.agent_timeout,
            "continue_on_failure": policy.continue_on_failure,
            "batch_size": policy.batch_size,
            "enable_checkpoints": True,
            "max_items": phase.max_items,
            "offset": phase.offset,
        },
        "total_items": 0,  # known once the input is read: see map_phase_started
        "timestamp": timestamp,
    }


def job_completed(
    job_id: str, seconds: float, successful: int, failed: int, usage: Usage
) -> Payload:
    return {
        "job_id": job_id,
        "duration": duration_json(seconds),
        "success_count": successful,
        "failure_count": failed,
        "usage": usage_json(usage),
    }


def job_failed(job_id: str, error: str, partial_results: int) -> Payload:
    return {"job_id": job_id, "error": error, "partial_results": partial_results}


def phase(job_id: str, **fields: Any) -> Payload:
    """setup/map/reduce started and completed: the job id and the phase's counters."""
    return {"job_id": job_id, **fields}


def agent_started(
    job_id: str, agent_id: str, item_id: str, worktree: str, attempt: int, *, node: str
) -> Payload:
    return {
        "job_id": job_id,
        "agent_id": agent_id,
        "item_id": item_id,
        "worktree": worktree,
        "attempt": attempt,
        "node": node,
    }


def agent_progress(
    job_id: str, agent_id: str, item_id: str, *, step: str, index: int, total: int
) -> Payload:
    return {
        "job_id": job_id,
        "agent_id": agent_id,
        "item_id": item_id,
        "step": step,
        "progress_pct": round(100 * index / total, 1) if total else 0.0,
    }


def agent_completed(job_id: str, outcome: AgentOutcome) -> Payload:
    return {
        "job_id": job_id,
        "agent_id": outcome.agent_id,
        "item_id": outcome.item_id,
        "duration": duration_json(outcome.duration),
        "commits": list(outcome.commits),
        "json_log_location": outcome.log_path,
        "attempt": outcome.attempt,
        "node": outcome.node,
        "usage": usage_json(outcome.total_usage()),
    }


def agent_failed(job_id: str, outcome: AgentOutcome, *, will_retry: bool) -> Payload:
    return {
        "job_id": job_id,
        "agent_id": outcome.agent_id,
        "item_id": outcome.item_id,
        "error": outcome.error,
        "failure_reason": failure_reason(outcome),
        "retry_eligible": will_retry or reprocess_eligible(outcome),
        "duration": duration_json(outcome.duration),
        "attempt": outcome.attempt,
        "json_log_location": outcome.log_path,
        "usage": usage_json(outcome.total_usage()),
    }


def agent_retrying(job_id: str, outcome: AgentOutcome, delay: float) -> Payload:
    return {
        "job_id": job_id,
        "agent_id": outcome.agent_id,
        "item_id": outcome.item_id,
        "attempt": outcome.attempt + 1,
        "backoff_ms": round(delay * 1000),
    }


def merge_event(job_id: str, agent_id: str, item_id: str, branch: str, **fields: Any) -> Payload:
    return {"job_id": job_id, "agent_id": agent_id, "item_id": item_id, "branch": branch, **fields}


def dlq_item_added(job_id: str, outcome: AgentOutcome, failure_count: int) -> Payload:
    return {
        "job_id": job_id,
        "item_id": outcome.item_id,
        "error_signature": error_signature(outcome),
        "failure_count": failure_count,
    }


def checkpoint_created(job_id: str, version: int, agents_completed: int, head: str) -> Payload:
    return {
        "job_id": job_id,
        "version": version,
        "agents_completed": agents_completed,
        "parent_head": head,
    }


def quota_limit_hit(
    job_id: str | None, item_id: str | None, hit: QuotaHit, *, message: str, resume_at: str
) -> Payload:
    """The agent's account hit its usage limit; `resume_at` adds jitter to the reset.
    `message` is the agent's text, masked by the caller."""
    return {
        "job_id": job_id,
        "item_id": item_id,
        "resets_at": format_ts(hit.resets_at) if hit.resets_at else None,
        "limit_type": hit.limit_type,
        "message": message,
        "resume_at": resume_at,
    }


def quota_warning(job_id: str | None, item_id: str | None, info: dict[str, Any]) -> Payload:
    """The agent reported nearing its usage limit (`allowed_warning`)."""
    return {"job_id": job_id, "item_id": item_id, "rate_limit_info": info}


def job_paused(job_id: str | None, reason: str, resume_at: str | None, detail: str) -> Payload:
    return {"job_id": job_id, "reason": reason, "resume_at": resume_at, "detail": detail}


def job_resumed(job_id: str | None, reason: str) -> Payload:
    return {"job_id": job_id, "reason": reason}


def budget_exhausted(
    job_id: str | None, spent_usd: float, spent_tokens: int, detail: str
) -> Payload:
    return {
        "job_id": job_id,
        "spent_cost_usd": spent_usd,
        "spent_tokens": spent_tokens,
        "detail": detail,
    }
