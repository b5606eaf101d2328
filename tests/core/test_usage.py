"""Usage records: roll-up with + and sum(), JSON round trip, tolerant reading of numbers."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.usage import Usage, float_field, int_field, total_usage

counts = st.integers(min_value=0, max_value=10**9)
usages = st.builds(
    Usage,
    duration_ms=counts,
    turns=counts,
    input_tokens=counts,
    output_tokens=counts,
    cache_creation_input_tokens=counts,
    cache_read_input_tokens=counts,
    cost_usd=st.floats(min_value=0, max_value=1000, allow_nan=False),
    model=st.sampled_from([None, "claude-sonnet-4", "claude-haiku-4", "scripted"]),
)


def test_adding_two_runs_adds_every_count_and_names_both_models() -> None:
    a = Usage(duration_ms=100, turns=2, input_tokens=10, output_tokens=5, cost_usd=0.5, model="m1")
    b = Usage(duration_ms=50, turns=1, cache_read_input_tokens=7, cost_usd=0.25, model="m2")
    total = a + b
    assert total == Usage(
        duration_ms=150,
        turns=3,
        input_tokens=10,
        output_tokens=5,
        cache_read_input_tokens=7,
        cost_usd=0.75,
        model="m1,m2",
    )
    assert total.total_tokens == 22


def test_same_model_stays_one_name_and_missing_model_is_ignored() -> None:
    assert (Usage(model="m") + Usage(model="m") + Usage()).model == "m"
    assert (Usage() + Usage()).model is None


def test_sum_and_total_usage_of_nothing_is_zero() -> None:
    assert sum([], Usage()) == Usage()
    assert total_usage([]) == Usage()
    assert sum([Usage(turns=1), Usage(turns=2)]) == Usage(turns=3)  # sum() starts from 0


@given(st.lists(usages, max_size=6))
def test_roll_up_is_order_independent(items: list[Usage]) -> None:
    forward, backward = total_usage(items), total_usage(reversed(items))
    assert forward.turns == backward.turns == sum(u.turns for u in items)
    assert forward.total_tokens == backward.total_tokens
    assert forward.model == backward.model
    assert math.isclose(forward.cost_usd, backward.cost_usd, rel_tol=1e-9, abs_tol=1e-9)


@given(usages)
def test_to_dict_round_trips(usage: Usage) -> None:
    data = usage.to_dict()
    assert data["total_tokens"] == usage.total_tokens
    assert Usage.from_dict(data) == usage


def test_from_dict_treats_garbage_as_zero() -> None:
    usage = Usage.from_dict({"turns": "3", "input_tokens": True, "cost_usd": None, "model": ""})
    assert usage == Usage()


def test_number_fields_reject_non_numbers_and_non_finite_values() -> None:
    assert int_field(12.9) == 12
    assert int_field(float("inf")) == 0
    assert int_field("12") == 0
    assert float_field(3) == 3.0
    assert float_field(float("nan")) == 0.0
    assert float_field(False) == 0.0
