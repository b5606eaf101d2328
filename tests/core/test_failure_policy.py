"""The error policy's decisions, as a pure state machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.errors import NotImplementedYetError
from prodigy.core.mapreduce import failure_policy as fp
from prodigy.core.workflow import CircuitBreaker, ErrorPolicy, ItemRetry


def _fail(policy: ErrorPolicy, state: fp.PolicyState, *, attempt: int = 1, total: int = 10,
          now: float = 0.0) -> tuple[fp.PolicyState, fp.Decision]:  # fmt: skip
    state = fp.after_attempt(policy, state, ok=False, now=now)
    return fp.after_failure(policy, state, attempt=attempt, total_items=total)


def test_default_policy_dead_letters_and_carries_on() -> None:
    state, decision = _fail(ErrorPolicy(), fp.PolicyState())
    assert decision.dead_letter and decision.stop_reason is None and state.failed == 1


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=8))
def test_retry_until_max_attempts(max_attempts: int, attempt: int) -> None:
    policy = ErrorPolicy(on_item_failure="retry", retry_config=ItemRetry(max_attempts=max_attempts))
    state, decision = _fail(policy, fp.PolicyState(), attempt=attempt)
    assert decision.retry == (attempt < max_attempts)
    assert state.failed == (0 if decision.retry else 1)


@given(st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=12))
def test_max_failures_stops_only_beyond_the_limit(limit: int, failures: int) -> None:
    policy, state = ErrorPolicy(max_failures=limit), fp.PolicyState()
    reasons = []
    for _ in range(failures):
        state, decision = _fail(policy, state, total=100)
        reasons.append(decision.stop_reason)
    assert [r is not None for r in reasons] == [n > limit for n in range(1, failures + 1)]


@given(
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=1, max_value=20),
)
def test_failure_threshold_is_a_share_of_all_items(threshold: float, total: int, n: int) -> None:
    policy, state = ErrorPolicy(failure_threshold=threshold), fp.PolicyState()
    decision = fp.Decision(retry=False)
    for _ in range(n):
        state, decision = _fail(policy, state, total=total)
    assert (decision.stop_reason is not None) == (n / total > threshold)


def test_stop_and_continue_on_failure_stop_at_once() -> None:
    for policy in (ErrorPolicy(on_item_failure="stop"), ErrorPolicy(continue_on_failure=False)):
        assert _fail(policy, fp.PolicyState())[1].stop_reason is not None


def test_circuit_breaker_opens_waits_half_opens_and_closes() -> None:
    breaker = CircuitBreaker(
        failure_threshold=2, success_threshold=2, timeout=10.0, half_open_requests=1
    )
    policy, state = ErrorPolicy(circuit_breaker=breaker), fp.PolicyState()
    state, _ = _fail(policy, state, now=0.0)
    assert fp.start_delay(policy, state, now=1.0)[1] == 0  # one failure: still closed
    state, _ = _fail(policy, state, now=1.0)
    assert state.breaker == "open"
    assert fp.start_delay(policy, state, now=5.0)[1] == pytest.approx(6.0)
    state, wait = fp.start_delay(policy, state, now=11.5)
    assert (state.breaker, wait) == ("half_open", 0.0)
    assert fp.start_delay(policy, state, now=11.6)[1] > 0  # only one trial agent at a time
    state = fp.after_attempt(policy, state, ok=True, now=12.0)
    assert state.breaker == "half_open"
    state = fp.after_attempt(policy, state, ok=True, now=13.0)
    assert state.breaker == "closed"


def test_a_failure_while_half_open_reopens_the_breaker() -> None:
    breaker = CircuitBreaker(failure_threshold=1, timeout=5.0, half_open_requests=2)
    policy = ErrorPolicy(circuit_breaker=breaker)
    state, _ = _fail(policy, fp.PolicyState(), now=0.0)
    state, _ = fp.start_delay(policy, state, now=6.0)
    state, _ = _fail(policy, state, now=7.0)
    assert state.breaker == "open" and state.opened_at == 7.0


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        (None, [1.0, 2.0, 4.0]),
        ({"fixed": {"delay": {"secs": 0, "nanos": 250_000_000}}}, [0.25, 0.25, 0.25]),
        ({"linear": {"initial": 1, "increment": "500ms"}}, [1.0, 1.5, 2.0]),
        (
            {"exponential": {"initial": {"secs": 2, "nanos": 0}, "multiplier": 3.0}},
            [2.0, 6.0, 18.0],
        ),
        ({"fibonacci": {"initial": "1s"}}, [1.0, 1.0, 2.0]),
    ],
)
def test_backoff_kinds(backoff: dict[str, object] | None, delays: list[float]) -> None:
    policy = ErrorPolicy(
        on_item_failure="retry",
        retry_config=ItemRetry(max_attempts=5, backoff=backoff),  # type: ignore[arg-type]
    )
    assert [fp.backoff_delay(policy, k) for k in (1, 2, 3)] == pytest.approx(delays)


def test_error_collection_says_when_to_report() -> None:
    assert fp.report_now(ErrorPolicy(error_collection="immediate"), 1)
    assert not fp.report_now(ErrorPolicy(), 1)
    batched = ErrorPolicy(error_collection="batched", batch_size=3)
    assert [fp.report_now(batched, n) for n in range(1, 7)] == [False, False, True] * 2


def test_custom_failure_handlers_are_refused_not_ignored() -> None:
    with pytest.raises(NotImplementedYetError, match=r"wf\.yml: on_item_failure: 'notify'"):
        fp.check_policy(ErrorPolicy(on_item_failure="notify"), "wf.yml")
