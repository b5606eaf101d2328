"""Retry arithmetic for `retry:` (docs/retry.md): delays, jitter, which failures retry, the budget.

Pure: the clock and the random source are handed in, so every rule is tested without waiting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from prodigy.core.workflow import RetryPolicy, Step, Workflow

# What each `retry_on` kind looks for in a failure's message and output (case-insensitive).
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "network": ("network", "connection", "refused", "unreachable"),
    "timeout": ("timeout", "timed out"),
    "server_error": ("500", "502", "503", "504", "server error"),
    "rate_limit": ("rate limit", "429", "too many requests"),
}


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed attempt looked like, as far as retry_on can tell."""

    message: str  # the error line plus the tail of the output
    exit_code: int
    timed_out: bool = False
    error_kind: str | None = None  # agent error kind: rate_limit, timeout, ...


def delay_before(policy: RetryPolicy, retry: int) -> float:
    """Seconds to wait before retry number `retry` (1 = the first retry), capped at max_delay."""
    k = max(1, retry)
    backoff = policy.backoff
    initial = policy.initial_delay
    if backoff.kind == "fixed":
        delay = initial
    elif backoff.kind == "linear":
        increment = initial if backoff.increment is None else backoff.increment
        delay = initial + increment * (k - 1)
    elif backoff.kind == "fibonacci":
        delay = initial * fibonacci(k)
    elif backoff.kind == "custom":
        delay = backoff.delays[k - 1] if k <= len(backoff.delays) else policy.max_delay
    else:
        delay = initial * backoff.base ** (k - 1)
    return max(0.0, min(delay, policy.max_delay))


def fibonacci(k: int) -> int:
    """1, 1, 2, 3, 5 ... for k = 1, 2, 3 ..."""
    a, b = 1, 1
    for _ in range(k - 1):
        a, b = b, a + b
    return a


def with_jitter(policy: RetryPolicy, delay: float, uniform: Callable[[], float]) -> float:
    """`delay` moved by up to ±jitter_factor of itself when `jitter: true` (uniform in [0, 1))."""
    if not policy.jitter or delay <= 0:
        return delay
    factor = min(max(policy.jitter_factor, 0.0), 1.0)
    return max(0.0, delay * (1 + factor * (2 * uniform() - 1)))


def should_retry(policy: RetryPolicy, failure: Failure) -> bool:
    """Whether `retry_on` accepts this failure; an empty `retry_on` retries every failure."""
    if not (policy.retry_on or policy.retry_on_patterns or policy.retry_on_exit_codes):
        return True
    text = failure.message.lower()
    for kind in policy.retry_on:
        if kind == "timeout" and (failure.timed_out or failure.error_kind == "timeout"):
            return True
        if kind == "rate_limit" and failure.error_kind == "rate_limit":
            return True
        if any(word in text for word in _KIND_WORDS.get(kind, ())):
            return True
    if failure.exit_code in policy.retry_on_exit_codes:
        return True
    return any(_search(pattern, failure.message) for pattern in policy.retry_on_patterns)


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False  # the loader reports bad patterns; at runtime one never matches


def within_budget(policy: RetryPolicy, elapsed: float, next_delay: float) -> bool:
    """`retry_budget`: a retry may start only if waiting for it keeps the step inside it."""
    return policy.retry_budget is None or elapsed + next_delay <= policy.retry_budget


def with_retry_defaults(workflow: Workflow) -> Workflow:
    """`retry_defaults:` given to every phase step that has no `retry:` of its own."""
    defaults = workflow.retry_defaults
    if defaults is None:
        return workflow

    def fill(steps: tuple[Step, ...]) -> tuple[Step, ...]:
        return tuple(s if s.retry is not None else replace(s, retry=defaults) for s in steps)

    changed = replace(workflow, steps=fill(workflow.steps), reduce=fill(workflow.reduce))
    if workflow.setup is not None:
        changed = replace(changed, setup=replace(workflow.setup, steps=fill(workflow.setup.steps)))
    if workflow.map is not None:
        template = fill(workflow.map.agent_template)
        changed = replace(changed, map=replace(workflow.map, agent_template=template))
    if workflow.merge is not None:
        changed = replace(changed, merge=replace(workflow.merge, steps=fill(workflow.merge.steps)))
    return changed
