"""Failed map items: the DLQ error type, the error signature and the seed DLQ fields.

The runtime knows why most agents fail (timeout, exit code, merge conflict ...), so that
decides first; prodigy 0.4.4's text heuristics (docs/dlq.md) only classify the rest.
"""

from __future__ import annotations

import re
from typing import Any

from prodigy.core import dlq_rules
from prodigy.core.mapreduce.results import AgentOutcome

ErrorType = str | dict[str, dict[str, int]]  # "Timeout" or {"CommandFailed": {"exit_code": 3}}

_EXIT = re.compile(r"exit(?:ed with)? code:? (-?\d+)|status code:? (-?\d+)", re.IGNORECASE)
_ELIGIBLE_WORDS = ("timeout", "timed out", "network", "temporary", "rate limit", "resource")
_REVIEW_WORDS = (
    "permission",
    "access denied",
    "critical",
    "fatal",
    "corrupted",
    "validation",
    "commit required",
    "commit_required",
    "commit validation",
)


def command_failed(exit_code: int) -> ErrorType:
    return {"CommandFailed": {"exit_code": exit_code}}


def classify_message(message: str) -> ErrorType:
    """prodigy's text heuristics, in its order, for failures of unknown cause."""
    text = message.lower()
    rules: tuple[tuple[tuple[str, ...], str], ...] = (
        (("commit required", "commit_required", "commit validation"), "CommitValidationFailed"),
        (("timeout", "timed out"), "Timeout"),
        (("merge", "conflict"), "MergeConflict"),
        (("worktree",), "WorktreeError"),
        (("validation", "invalid"), "ValidationFailed"),
        (("resource", "out of memory"), "ResourceExhausted"),
    )
    for words, kind in rules:
        if any(word in text for word in words):
            return kind
    match = _EXIT.search(message)
    if match:
        return command_failed(int(match.group(1) or match.group(2)))
    return "Unknown"


def error_type(outcome: AgentOutcome) -> ErrorType:
    """The DLQ `error_type` of a failed attempt."""
    kind = outcome.failure_kind
    if outcome.status == "timeout" or kind == "timeout":
        return "Timeout"
    if kind == "merge_conflict":
        return "MergeConflict"
    if kind == "budget":  # over the per-item cap: `dlq retry --max-cost-usd` gives a new one
        return "BudgetExceeded"
    if kind == "worktree":
        return "WorktreeError"
    if kind == "commit":
        return "CommitValidationFailed"
    if kind == "command" and outcome.exit_code not in (None, 0):
        assert outcome.exit_code is not None
        return command_failed(outcome.exit_code)
    return classify_message(outcome.error or "")


def failure_reason(outcome: AgentOutcome) -> ErrorType:
    """The event's `failure_reason`: prodigy's FailureReason has no validation/resource kinds."""
    found = error_type(outcome)
    return "Unknown" if found in ("ValidationFailed", "ResourceExhausted") else found


def error_signature(outcome: AgentOutcome) -> str:
    """`<type>::<first 10 words>` (core.dlq_rules): same cause, same signature across items."""
    return dlq_rules.error_signature(error_type(outcome), outcome.error or "")


def manual_review_required(outcome: AgentOutcome) -> bool:
    text = (outcome.error or "").lower()
    return error_type(outcome) == "CommitValidationFailed" or any(w in text for w in _REVIEW_WORDS)


def reprocess_eligible(outcome: AgentOutcome) -> bool:
    """Retrying may help: a transient cause, or anything that does not need a human first."""
    text = (outcome.error or "").lower()
    if error_type(outcome) in ("Timeout", "BudgetExceeded") or any(
        w in text for w in _ELIGIBLE_WORDS
    ):
        return True
    return not manual_review_required(outcome)


def failure_entry(outcome: AgentOutcome, *, timestamp: str) -> dict[str, Any]:
    """One element of the DLQ item's `failure_history` (docs/dlq.md)."""
    entry: dict[str, Any] = {
        "attempt_number": outcome.attempt,
        "timestamp": timestamp,
        "error_type": error_type(outcome),
        "error_message": outcome.error or "failed",
        "stack_trace": None,
        "agent_id": outcome.agent_id,
        "step_failed": outcome.failed_step or "agent_execution",
        "duration_ms": round(outcome.duration * 1000),
    }
    if outcome.log_path is not None:
        entry["json_log_location"] = outcome.log_path
    return entry


def worktree_artifacts(outcome: AgentOutcome) -> dict[str, Any] | None:
    """Where the failed agent's work is kept (its worktree and branch stay for inspection)."""
    if outcome.worktree_path is None and outcome.branch is None:
        return None
    return {
        "worktree_path": outcome.worktree_path,
        "branch_name": outcome.branch,
        "uncommitted_changes": None,
        "error_logs": outcome.log_path,
    }
