"""List prices of the models whose CLIs report no dollar cost, and the cost estimate from them.

Codex and Gemini CLI report tokens but no cost; prodigy estimates one from this table. The
table is versioned and dated: a price changes, a model appears, and the estimate is only as
good as the last update. A model the table does not list gets cost source `unknown` and a
cost of 0, never a guess shown as fact. Claude Code reports its own cost (`reported`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from prodigy.core.usage import Usage

PRICES_VERSION = 1
PRICES_DATE = "2026-07-04"  # when the rates below were read from the vendors' price pages
_PER_TOKEN = 1_000_000  # rates are in USD per million tokens


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens; reasoning tokens are billed as output by both vendors."""

    input: float
    cached_input: float
    output: float


# Standard tier, short context (OpenAI <= 272K, Google <= 200K input tokens), text.
PRICES: dict[str, Price] = {
    # OpenAI, https://openai.com/api/pricing
    "gpt-5.5": Price(5.00, 0.50, 30.00),
    "gpt-5.4": Price(2.50, 0.25, 15.00),
    "gpt-5.4-mini": Price(0.75, 0.075, 4.50),
    "gpt-5.4-nano": Price(0.20, 0.02, 1.25),
    # Google, https://ai.google.dev/gemini-api/docs/pricing
    "gemini-3.1-pro-preview": Price(2.00, 0.20, 12.00),
    "gemini-3-flash-preview": Price(0.50, 0.05, 3.00),
    "gemini-2.5-pro": Price(1.25, 0.125, 10.00),
    "gemini-2.5-flash": Price(0.30, 0.03, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.01, 0.40),
}


def price_of(model: str | None) -> Price | None:
    """The price of `model`, also under a provider prefix (`openai/gpt-5.5`); None if unlisted."""
    if not model:
        return None
    return PRICES.get(model) or PRICES.get(model.rsplit("/", 1)[-1])


def estimate_cost(usage: Usage, models: dict[str, Usage] | None = None) -> Usage:
    """`usage` with `cost_usd` and `cost_source` from the table.

    `models` splits the usage per model when the run used several (Gemini routes between
    flash and pro): each part is priced on its own and any unlisted model makes the whole
    cost unknown, because a partial sum would understate it.
    """
    parts = models if models else {usage.model or "": usage}
    total = 0.0
    for model, part in parts.items():
        price = price_of(model)
        if price is None:
            return replace(usage, cost_usd=0.0, cost_source="unknown")
        total += (
            (part.input_tokens + part.cache_creation_input_tokens) * price.input
            + part.cache_read_input_tokens * price.cached_input
            + part.output_tokens * price.output
        ) / _PER_TOKEN
    return replace(usage, cost_usd=total, cost_source="estimated")
