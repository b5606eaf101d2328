"""The outcome of one agent run, and the rules that tell a quota failure from a task failure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from prodigy.core.quota import is_quota_text
from prodigy.core.usage import Usage

ErrorKind = Literal[
    "task",  # the agent ran and failed at the task (or said so with is_error)
    "rate_limit",  # HTTP 429 / rate_limit_error / "usage limit reached": wait, then retry
    "overloaded",  # HTTP 529 / overloaded_error: the API is busy, retry later
    "timeout",  # the run hit its timeout and was killed
    "no_result",  # the process ended without a final `result` record
    "not_found",  # the agent executable does not exist
    "interrupted",  # killed by SIGINT/SIGTERM from outside
    "quota",  # a usage limit or quota of the account: wait until `resets_at`, then retry
    "auth",  # the API key or login was refused: retrying cannot help
    "budget",  # the run reached the spending cap it was given (--max-budget-usd, a token cap)
]
ERROR_KINDS: tuple[ErrorKind, ...] = get_args(ErrorKind)

# Kinds caused by the provider rather than the task: retrying the same prompt can succeed.
TRANSIENT_KINDS: frozenset[ErrorKind] = frozenset({"rate_limit", "overloaded"})

NO_RESULT_MESSAGE = "agent ended without a result"


@dataclass(frozen=True, slots=True)
class AgentResult:
    """What an agent run produced. Truthy exactly when the run succeeded."""

    success: bool
    exit_code: int | None
    text: str = ""
    is_error: bool = False
    session_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    log_path: Path | None = None
    error_kind: ErrorKind | None = None
    error_message: str = ""
    stderr_tail: str = ""
    resets_at: float | None = None  # quota failures: when the limit lifts (epoch s), if said
    limit_type: str | None = None  # quota failures: five_hour, seven_day ... if said
    # the agent reported nearing its usage limit (Claude's `allowed_warning` info)
    quota_warning: dict[str, object] | None = None

    def __bool__(self) -> bool:
        return self.success

    @property
    def transient(self) -> bool:
        """True when the failure came from the provider's limits, not from the task."""
        return self.error_kind in TRANSIENT_KINDS

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, for events, the DLQ and the store."""
        return {
            "success": self.success,
            "exit_code": self.exit_code,
            "text": self.text,
            "is_error": self.is_error,
            "session_id": self.session_id,
            "usage": self.usage.to_dict(),
            "log_path": str(self.log_path) if self.log_path is not None else None,
            "error_kind": self.error_kind,
            "error_message": self.error_message,
            "stderr_tail": self.stderr_tail,
            "resets_at": self.resets_at,
            "limit_type": self.limit_type,
            "quota_warning": self.quota_warning,
        }


# Order matters: a message that mentions both is treated as a rate limit.
_RATE_LIMIT = re.compile(
    r"rate_limit_error|rate[ -]limit|usage limit|too many requests"
    r"|\b(?:session|weekly|daily|5-hour|opus|sonnet) limit reached"
    r"|\b(?:api error|error|status(?: code)?|http(?:/[\d.]+)?|code)\W{0,3}429\b",
    re.IGNORECASE,
)
_OVERLOADED = re.compile(
    r"overloaded_error|\boverloaded\b"
    r"|\b(?:api error|error|status(?: code)?|http(?:/[\d.]+)?|code)\W{0,3}529\b",
    re.IGNORECASE,
)


# Gemini CLI stops retrying a 429 by itself when told to wait this long: an account quota.
_LONG_RETRY = re.compile(r"retry in \d{3,}(?:\.\d+)?s\b", re.IGNORECASE)
_AUTH = re.compile(
    r"authentication_error|unauthenticated|unauthori[sz]ed|permission_denied"
    r"|invalid[ _]api[ _]key|api key not valid|incorrect api key|invalid auth method"
    r"|\b(?:api error|error|status(?: code)?|http(?:/[\d.]+)?|code)\W{0,3}40[13]\b",
    re.IGNORECASE,
)


# Gemini CLI's words for a 429 it gave up on ("Please wait and try again later").
_SLOW_DOWN = re.compile(r"try again later|resource_exhausted", re.IGNORECASE)
# A busy provider: Codex says "We're currently experiencing high demand" for a 5xx, Google
# answers 503 UNAVAILABLE.
_BUSY = re.compile(
    r"experiencing high demand|\bUNAVAILABLE\b|service unavailable"
    r"|\b(?:error|status(?: code)?|http(?:/[\d.]+)?|code)\W{0,3}503\b",
    re.IGNORECASE,
)


def classify_agent_failure(*texts: str) -> ErrorKind:
    """Like `classify_failure`, telling also a quota ('quota') and a refused key ('auth').

    Used by the Codex and Gemini agents, whose CLIs say both plainly.
    """
    joined = "\n".join(texts)
    if is_quota_text(joined) or _LONG_RETRY.search(joined):
        return "quota"
    if _AUTH.search(joined):
        return "auth"
    kind = classify_failure(*texts)
    if kind == "task" and _SLOW_DOWN.search(joined):
        return "rate_limit"
    if kind == "task" and _BUSY.search(joined):
        return "overloaded"
    return kind


def classify_failure(*texts: str) -> ErrorKind:
    """Kind of a failed run from its result text and stderr: 'rate_limit', 'overloaded' or 'task'.

    A bare number is not enough ("line 429" is a task failure); the code must follow a word
    like "API Error", "status" or "HTTP", which is how Claude Code and the API report it.
    """
    joined = "\n".join(texts)
    if _RATE_LIMIT.search(joined):
        return "rate_limit"
    if _OVERLOADED.search(joined):
        return "overloaded"
    return "task"
