"""What one map agent produced, and its `${map.results}` record (docs/mapreduce.md).

`AgentOutcome` is plain data so it can cross a process boundary (a remote executor returns
it as JSON); `result_record` gives the documented AgentResult shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from prodigy.core.usage import Usage

AgentStatus = Literal["success", "failed", "timeout"]
# Why an agent failed, as far as the runtime knows it; the DLQ error type is derived from it.
# "quota": the agent's account hit its usage limit; the item waits, it did not fail.
# "budget": a step reached the item's spending cap (an item over its cap is not retried)
FailureKind = Literal[
    "command", "timeout", "commit", "worktree", "merge_conflict", "unknown", "quota", "budget"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepUsage:
    """Tokens and cost of one agent step, for the usage roll-up."""

    step: str
    usage: Usage
    log_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentOutcome:
    """One attempt of one work item."""

    item_id: str
    index: int
    agent_id: str
    attempt: int
    status: AgentStatus
    output: str = ""
    commits: tuple[str, ...] = ()  # made by this agent only, oldest first
    files_modified: tuple[str, ...] = ()
    duration: float = 0.0
    worktree_path: str | None = None
    branch: str | None = None  # the agent's commits to merge, as a ref of the repository
    # a git bundle file holding `branch`, when the agent ran where the repository is not
    bundle: str | None = None
    error: str | None = None
    failure_kind: FailureKind | None = None
    exit_code: int | None = None
    failed_step: str | None = None
    log_path: str | None = None
    usage: tuple[StepUsage, ...] = field(default=())
    node: str | None = None  # where the attempt ran: "local", or a cluster node
    resets_at: float | None = None  # failure kind quota: when the limit resets (epoch s)
    limit_type: str | None = None  # failure kind quota: five_hour, seven_day ... if said

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def total_usage(self) -> Usage:
        return sum((u.usage for u in self.usage), Usage())

    def as_failed(self, kind: FailureKind, error: str) -> AgentOutcome:
        """The same attempt, now failed (e.g. its merge into the parent conflicted)."""
        return replace(self, status="failed", failure_kind=kind, error=error)

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON, for the store and for remote executors."""
        return {
            "item_id": self.item_id,
            "index": self.index,
            "agent_id": self.agent_id,
            "attempt": self.attempt,
            "status": self.status,
            "output": self.output,
            "commits": list(self.commits),
            "files_modified": list(self.files_modified),
            "duration": self.duration,
            "worktree_path": self.worktree_path,
            "branch": self.branch,
            "bundle": self.bundle,
            "error": self.error,
            "failure_kind": self.failure_kind,
            "exit_code": self.exit_code,
            "failed_step": self.failed_step,
            "log_path": self.log_path,
            "node": self.node,
            "resets_at": self.resets_at,
            "limit_type": self.limit_type,
            "usage": [
                {"step": u.step, "usage": u.usage.to_dict(), "log_path": u.log_path}
                for u in self.usage
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentOutcome:
        usage = tuple(
            StepUsage(step=u["step"], usage=Usage.from_dict(u["usage"]), log_path=u["log_path"])
            for u in data.get("usage", ())
        )
        plain = {k: v for k, v in data.items() if k != "usage"}
        plain["commits"] = tuple(plain.get("commits", ()))
        plain["files_modified"] = tuple(plain.get("files_modified", ()))
        return cls(**plain, usage=usage)


def duration_json(seconds: float) -> dict[str, int]:
    """A Rust `Duration` as serde writes it: `{"secs": u64, "nanos": u32}`."""
    whole = max(0, int(seconds))
    return {"secs": whole, "nanos": round((max(0.0, seconds) - whole) * 1e9) % 1_000_000_000}


def status_json(outcome: AgentOutcome) -> Any:
    if outcome.status == "success":
        return "Success"
    if outcome.status == "timeout":
        return "Timeout"
    return {"Failed": outcome.error or "failed"}


def result_record(outcome: AgentOutcome) -> dict[str, Any]:
    """The AgentResult record: one element of `${map.results}` (optional keys omitted)."""
    record: dict[str, Any] = {
        "item_id": outcome.item_id,
        "status": status_json(outcome),
        "output": outcome.output,
        "commits": list(outcome.commits),
        "duration": duration_json(outcome.duration),
    }
    if outcome.files_modified:
        record["files_modified"] = list(outcome.files_modified)
    if outcome.error is not None:
        record["error"] = outcome.error
    if outcome.worktree_path is not None:
        record["worktree_path"] = outcome.worktree_path
    if outcome.branch is not None:
        record["branch_name"] = outcome.branch
    record["worktree_session_id"] = outcome.agent_id
    if outcome.log_path is not None:
        record["json_log_location"] = outcome.log_path
    return record
