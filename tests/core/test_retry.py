"""Retry arithmetic: delays per backoff, jitter bounds, retry_on matching, budget, defaults."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.retry import (
    Failure,
    delay_before,
    fibonacci,
    should_retry,
    with_jitter,
    with_retry_defaults,
    within_budget,
)
from prodigy.core.workflow import RetryPolicy, load_workflow
from prodigy.core.workflow.step_model import Backoff


def policy(**kw: object) -> RetryPolicy:
    return RetryPolicy(**kw)  # type: ignore[arg-type]


def test_fixed_backoff_waits_the_initial_delay_every_time() -> None:
    p = policy(backoff=Backoff(kind="fixed"), initial_delay=0.2)
    assert [delay_before(p, k) for k in (1, 2, 3)] == [0.2, 0.2, 0.2]


def test_linear_backoff_adds_the_increment() -> None:
    p = policy(backoff=Backoff(kind="linear", increment=2.0), initial_delay=1.0)
    assert [delay_before(p, k) for k in (1, 2, 3)] == [1.0, 3.0, 5.0]


def test_exponential_backoff_multiplies_by_base_and_caps_at_max_delay() -> None:
    p = policy(backoff=Backoff(kind="exponential", base=3.0), initial_delay=1.0, max_delay=10.0)
    assert [delay_before(p, k) for k in (1, 2, 3, 4)] == [1.0, 3.0, 9.0, 10.0]


def test_fibonacci_backoff() -> None:
    p = policy(backoff=Backoff(kind="fibonacci"), initial_delay=0.5, max_delay=100.0)
    assert [delay_before(p, k) for k in range(1, 7)] == [0.5, 0.5, 1.0, 1.5, 2.5, 4.0]
    assert [fibonacci(k) for k in range(1, 8)] == [1, 1, 2, 3, 5, 8, 13]


def test_custom_delays_then_max_delay() -> None:
    p = policy(backoff=Backoff(kind="custom", delays=(0.1, 0.7)), max_delay=4.0)
    assert [delay_before(p, k) for k in (1, 2, 3)] == [0.1, 0.7, 4.0]


@given(
    st.sampled_from(["fixed", "linear", "exponential", "fibonacci", "custom"]),
    st.floats(0, 100),
    st.floats(0, 100),
    st.integers(1, 60),
)
def test_every_delay_is_between_zero_and_max_delay(
    kind: str, initial: float, max_delay: float, k: int
) -> None:
    p = policy(
        backoff=Backoff(kind=kind, delays=(initial * 2,)),  # type: ignore[arg-type]
        initial_delay=initial,
        max_delay=max_delay,
    )
    assert 0.0 <= delay_before(p, k) <= max_delay


@given(st.floats(0, 1000), st.floats(0, 1), st.floats(0, 0.999999))
def test_jitter_stays_within_the_factor(delay: float, factor: float, r: float) -> None:
    p = policy(jitter=True, jitter_factor=factor)
    moved = with_jitter(p, delay, lambda: r)
    assert delay * (1 - factor) - 1e-9 <= moved <= delay * (1 + factor) + 1e-9


def test_no_jitter_unless_asked() -> None:
    assert with_jitter(policy(jitter=False), 2.0, lambda: 0.0) == 2.0
    assert with_jitter(policy(jitter=True, jitter_factor=0.5), 2.0, lambda: 0.0) == 1.0


def test_empty_retry_on_retries_everything() -> None:
    assert should_retry(policy(), Failure("anything at all", 1))


def test_retry_on_kinds_match_the_message() -> None:
    net = policy(retry_on=("network",))
    assert should_retry(net, Failure("curl: Connection refused", 7))
    assert not should_retry(net, Failure("assertion failed", 1))
    rate = policy(retry_on=("rate_limit",))
    assert should_retry(rate, Failure("HTTP 429 Too Many Requests", 1))
    assert should_retry(rate, Failure("", 1, error_kind="rate_limit"))
    server = policy(retry_on=("server_error",))
    assert should_retry(server, Failure("upstream said 503", 1))
    timeout = policy(retry_on=("timeout",))
    assert should_retry(timeout, Failure("", -1, timed_out=True))
    assert not should_retry(timeout, Failure("exit code 1", 1))


def test_retry_on_exit_codes_and_patterns() -> None:
    p = policy(retry_on_exit_codes=(75,), retry_on_patterns=(r"HTTP 5\d\d",))
    assert should_retry(p, Failure("exit code 75", 75))
    assert should_retry(p, Failure("got HTTP 502 from api", 1))
    assert not should_retry(p, Failure("HTTP 404", 1))


def test_invalid_pattern_never_matches() -> None:
    assert not should_retry(policy(retry_on_patterns=("(",)), Failure("(", 1))


def test_budget() -> None:
    assert within_budget(policy(), 1e9, 1e9)
    p = policy(retry_budget=5.0)
    assert within_budget(p, 2.0, 3.0)
    assert not within_budget(p, 2.5, 3.0)


def test_loader_reads_exit_code_matchers(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yml"
    wf.write_text(
        "commands:\n"
        "  - shell: 'true'\n"
        "    retry: {attempts: 2, retry_on: [network, {exit_code: 75}, {pattern: 'x+'}]}\n"
    )
    retry = load_workflow(wf).workflow.steps[0].retry
    assert retry is not None
    assert retry.retry_on == ("network",)
    assert retry.retry_on_exit_codes == (75,)
    assert retry.retry_on_patterns == ("x+",)


def test_retry_defaults_fill_steps_without_their_own(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yml"
    wf.write_text(
        "retry_defaults: {attempts: 4}\n"
        "commands:\n"
        "  - shell: 'true'\n"
        "  - shell: 'true'\n"
        "    retry: {attempts: 2}\n"
    )
    filled = with_retry_defaults(load_workflow(wf).workflow)
    assert [s.retry.attempts for s in filled.steps if s.retry] == [4, 2]
