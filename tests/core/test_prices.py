"""Cost estimates from the dated price table: listed models priced, unlisted ones unknown."""

from __future__ import annotations

import pytest

from prodigy.core.prices import PRICES, PRICES_DATE, estimate_cost, price_of
from prodigy.core.usage import Usage, cost_text, total_usage


def test_the_table_is_dated() -> None:
    assert PRICES_DATE.count("-") == 2
    assert "gpt-5.5" in PRICES and "gemini-2.5-flash" in PRICES


def test_a_listed_model_is_estimated_from_input_cached_and_output_rates() -> None:
    usage = Usage(
        input_tokens=1_000_000,
        cache_read_input_tokens=2_000_000,
        output_tokens=100_000,
        model="gpt-5.5",
    )

    priced = estimate_cost(usage)

    assert priced.cost_source == "estimated"
    assert priced.cost_usd == pytest.approx(5.00 + 2 * 0.50 + 0.1 * 30.00)
    assert cost_text(priced) == "$9.0000 (estimated)"


def test_a_provider_prefix_is_ignored() -> None:
    assert price_of("openai/gpt-5.5") == PRICES["gpt-5.5"]


def test_an_unlisted_model_costs_unknown_never_a_guess() -> None:
    priced = estimate_cost(Usage(input_tokens=10, output_tokens=10, model="gpt-99"))

    assert (priced.cost_usd, priced.cost_source) == (0.0, "unknown")
    assert cost_text(priced) == "cost unknown (a model without a price)"
    assert estimate_cost(Usage(input_tokens=10)).cost_source == "unknown"  # no model at all


def test_each_model_of_a_routed_run_is_priced_on_its_own() -> None:
    flash = Usage(input_tokens=1_000_000, model="gemini-2.5-flash")
    pro = Usage(output_tokens=1_000_000, model="gemini-2.5-pro")

    priced = estimate_cost(flash + pro, {"gemini-2.5-flash": flash, "gemini-2.5-pro": pro})
    assert priced.cost_usd == pytest.approx(0.30 + 10.00)

    partly = estimate_cost(flash + pro, {"gemini-2.5-flash": flash, "gemini-9": pro})
    assert partly.cost_source == "unknown"


def test_a_roll_up_is_as_weak_as_its_weakest_cost() -> None:
    reported = Usage(cost_usd=1.0, cost_source="reported")
    estimated = Usage(cost_usd=2.0, cost_source="estimated")
    unknown = Usage(cost_source="unknown")

    assert total_usage([reported, reported]).cost_source == "reported"
    assert total_usage([reported, estimated]).cost_source == "estimated"
    assert total_usage([estimated, unknown, reported]).cost_source == "unknown"
    assert total_usage([]).cost_source is None
    assert Usage.from_dict(estimated.to_dict()) == estimated
