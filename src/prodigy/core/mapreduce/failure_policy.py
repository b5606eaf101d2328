"""The MapReduce error policy as decisions: retry or dead-letter an item, stop the job, pause.

Pure: the state is a frozen value and each event returns the next one; the clock comes in
as `now` (monotonic seconds). The rules, in the order they apply to a failed attempt:

1. `on_item_failure: retry` retries the item until `retry_config.max_attempts` attempts
   (default 3) were made, waiting the backoff between attempts.
2. A failure that is final (not retried) is counted. The job stops when
   `on_item_failure: stop`, `continue_on_failure: false`, more than `max_failures` items
   failed, or the failed share of all items exceeds `failure_threshold`.
3. The circuit breaker opens after `failure_threshold` failures in a row: no agent starts
   for `timeout` seconds, then `half_open_requests` trial agents may run; `success_threshold`
   successes in a row close it again, a failure re-opens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from prodigy.core.errors import NotImplementedYetError
from prodigy.core.workflow import ErrorPolicy
from prodigy.core.workflow.yaml_source import JsonValue

BUILTIN_ACTIONS = ("dlq", "retry", "skip", "stop")
BreakerState = Literal["closed", "open", "half_open"]


def check_policy(policy: ErrorPolicy, where: str) -> None:
    """Refuse what is parsed but not runnable (a custom failure handler name)."""
    if policy.on_item_failure not in BUILTIN_ACTIONS:
        raise NotImplementedYetError(
            f"{where}: on_item_failure: {policy.on_item_failure!r} (custom handlers); "
            f"use one of {', '.join(BUILTIN_ACTIONS)}"
        )


@dataclass(frozen=True, slots=True)
class PolicyState:
    failed: int = 0  # items whose failure is final
    consecutive_failures: int = 0
    breaker: BreakerState = "closed"
    opened_at: float = 0.0
    half_open_successes: int = 0
    half_open_started: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a failed attempt."""

    retry: bool
    delay: float = 0.0  # seconds before the retry starts
    stop_reason: str | None = None  # set: cancel running agents and fail the job

    @property
    def dead_letter(self) -> bool:
        return not self.retry


def max_attempts(policy: ErrorPolicy) -> int:
    if policy.on_item_failure != "retry":
        return 1
    return policy.retry_config.max_attempts if policy.retry_config else 3


def after_failure(
    policy: ErrorPolicy, state: PolicyState, *, attempt: int, total_items: int
) -> tuple[PolicyState, Decision]:
    """The next state and the decision for an attempt that failed."""
    if attempt < max_attempts(policy):
        return state, Decision(retry=True, delay=backoff_delay(policy, attempt))
    state = replace(state, failed=state.failed + 1)
    return state, Decision(retry=False, stop_reason=stop_reason(policy, state, total_items))


def after_attempt(policy: ErrorPolicy, state: PolicyState, *, ok: bool, now: float) -> PolicyState:
    """The circuit breaker after an agent finished; call it before the next agent may start."""
    if not ok:
        return _breaker_failure(policy, state, now)
    state = replace(state, consecutive_failures=0)
    if state.breaker != "half_open" or policy.circuit_breaker is None:
        return state
    successes = state.half_open_successes + 1
    if successes >= policy.circuit_breaker.success_threshold:
        return replace(state, breaker="closed", half_open_successes=0, half_open_started=0)
    return replace(state, half_open_successes=successes)


def stop_reason(policy: ErrorPolicy, state: PolicyState, total_items: int) -> str | None:
    """Why the job must stop now, or None to carry on."""
    if policy.on_item_failure == "stop":
        return "an item failed and on_item_failure is stop"
    if not policy.continue_on_failure:
        return "an item failed and continue_on_failure is false"
    if policy.max_failures is not None and state.failed > policy.max_failures:
        return f"{state.failed} items failed, more than max_failures ({policy.max_failures})"
    threshold = policy.failure_threshold
    if threshold is not None and total_items and state.failed / total_items > threshold:
        return (
            f"{state.failed} of {total_items} items failed, more than failure_threshold"
            f" {threshold:g}"
        )
    return None


def start_delay(
    policy: ErrorPolicy, state: PolicyState, *, now: float
) -> tuple[PolicyState, float]:
    """Seconds to wait before the next agent may start (0: now), and the state after starting.

    Call again after waiting: the breaker may have moved to half-open meanwhile.
    """
    breaker = policy.circuit_breaker
    if breaker is None or state.breaker == "closed":
        return state, 0.0
    if state.breaker == "open":
        remaining = state.opened_at + breaker.timeout - now
        if remaining > 0:
            return state, remaining
        state = replace(state, breaker="half_open", half_open_successes=0, half_open_started=0)
    if state.half_open_started >= breaker.half_open_requests:
        return state, breaker.timeout  # trial agents are still out; look again later
    return replace(state, half_open_started=state.half_open_started + 1), 0.0


def _breaker_failure(policy: ErrorPolicy, state: PolicyState, now: float) -> PolicyState:
    state = replace(state, consecutive_failures=state.consecutive_failures + 1)
    breaker = policy.circuit_breaker
    if breaker is None:
        return state
    if state.breaker == "half_open" or state.consecutive_failures >= breaker.failure_threshold:
        return replace(state, breaker="open", opened_at=now, half_open_successes=0)
    return state


def backoff_delay(policy: ErrorPolicy, attempt: int) -> float:
    """Seconds before attempt `attempt + 1`, from `retry_config.backoff` (default 1 s, x2)."""
    written = policy.retry_config.backoff if policy.retry_config else None
    kind, params = next(iter(written.items())) if written else ("exponential", None)
    spec: Mapping[str, JsonValue] = params if isinstance(params, Mapping) else {}
    k = max(1, attempt)
    if kind == "fixed":
        return seconds(spec.get("delay", spec.get("initial")), 1.0)
    initial = seconds(spec.get("initial"), 1.0)
    if kind == "linear":
        return initial + seconds(spec.get("increment"), initial) * (k - 1)
    if kind == "fibonacci":
        a, b = 1, 1
        for _ in range(k - 1):
            a, b = b, a + b
        return initial * a
    multiplier = spec.get("multiplier", 2.0)
    factor = float(multiplier) if isinstance(multiplier, int | float) else 2.0
    return float(initial * factor ** (k - 1))


def seconds(value: JsonValue, default: float) -> float:
    """A duration as serde writes it (`{secs, nanos}`), a number of seconds, or "2s"/"500ms"."""
    if isinstance(value, Mapping):
        secs, nanos = value.get("secs", 0), value.get("nanos", 0)
        if isinstance(secs, int | float) and isinstance(nanos, int | float):
            return float(secs) + float(nanos) / 1e9
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
            if text.endswith(suffix) and _number(text[: -len(suffix)]):
                return float(text[: -len(suffix)]) * scale
        if _number(text):
            return float(text)
    return default


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def report_now(policy: ErrorPolicy, failures: int) -> bool:
    """`error_collection`: show this failure now (immediate, or a full batch) or at the end."""
    if policy.error_collection == "immediate":
        return True
    if policy.error_collection == "batched":
        size = policy.batch_size or 1
        return failures % size == 0
    return False
