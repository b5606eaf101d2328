"""What a run reports while it works: plain values a display, a log or a dashboard can consume."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class SessionStarted:
    session_id: str
    workflow: str
    worktree: str
    branch: str
    target_branch: str


@dataclass(frozen=True, slots=True)
class StepStarted:
    index: int
    total: int
    label: str
    command: str  # after interpolation, secrets masked
    log_path: str | None = None


@dataclass(frozen=True, slots=True)
class StepOutput:
    index: int
    stream: Literal["stdout", "stderr", "agent"]
    line: str


@dataclass(frozen=True, slots=True)
class StepFinished:
    index: int
    label: str
    success: bool
    duration: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StepSkipped:
    index: int
    label: str
    reason: str


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """A step attempt failed and `retry:` will run it again after a delay."""

    label: str
    attempt: int  # the attempt that failed, from 1
    attempts: int  # attempts allowed in total
    delay: float  # seconds before the next attempt
    reason: str  # masked


@dataclass(frozen=True, slots=True)
class Note:
    level: Literal["info", "warn", "error", "success"]
    text: str


@dataclass(frozen=True, slots=True)
class QuotaWarned(Note):
    """A warning note that is also a `quota_warning` event: an agent reported nearing its
    usage limit (Claude Code's `rate_limit_event` with `allowed_warning`)."""

    step: str = ""
    info: Mapping[str, object] = field(default_factory=dict)


ProgressEvent = (
    SessionStarted | StepStarted | StepOutput | StepFinished | StepSkipped | RetryScheduled | Note
)


class Reporter(Protocol):
    """Receives progress events; implementations must not raise."""

    def emit(self, event: ProgressEvent) -> None: ...


class NullReporter:
    """Discards every event."""

    def emit(self, event: ProgressEvent) -> None:
        return None
