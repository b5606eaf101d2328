"""Budgets: how much a job or an item may spend, and the admission rule for starting agents.

A job budget must hold with N agents running at once. Before an agent starts, the money
(and tokens) already spent, plus a reserve for every running item, plus a reserve for the
new one must fit in the limit. The reserve per item is the per-item cap when there is one,
else the 90th percentile of what finished items cost. With no cap and nothing finished yet
the cost of an item is unknown, so only one agent runs until the first one finishes: the
budget is then overshot by at most one item, never by N.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from prodigy.core.usage import Usage

OnExhausted = Literal["pause", "fail"]


@dataclass(frozen=True, slots=True)
class Limits:
    """A cap in dollars and/or tokens; None means no cap on that measure."""

    max_cost_usd: float | None = None
    max_tokens: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.max_cost_usd is None and self.max_tokens is None


@dataclass(frozen=True, slots=True)
class Spend:
    """Money and tokens (input + output; cache reads not counted) spent so far."""

    cost_usd: float = 0.0
    tokens: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.cost_usd + other.cost_usd, self.tokens + other.tokens)


def spend_of(usage: Usage) -> Spend:
    """What a run counts against a budget: its cost, and its input + output tokens (cache
    reads and writes are not counted: they are cheap and would swamp the figure)."""
    return Spend(usage.cost_usd, usage.input_tokens + usage.output_tokens)


class SpendGate(Protocol):
    """Asked before each agent call what it may spend, and told what it spent after."""

    def allowance(self) -> Limits:
        """What the next agent call may spend; a measure at 0 means it must not start."""
        ...

    def charge(self, usage: Usage) -> None:
        """An agent call finished having used `usage`."""
        ...


def spent_up(limits: Limits) -> bool:
    """True when an allowance leaves nothing to spend on a measure it caps."""
    if limits.max_cost_usd is not None and limits.max_cost_usd <= 0:
        return True
    return limits.max_tokens is not None and limits.max_tokens <= 0


@dataclass(frozen=True, slots=True)
class Budget:
    """The `budget:` block of a workflow, after CLI overrides."""

    job: Limits = Limits()
    per_item: Limits = Limits()
    on_exhausted: OnExhausted = "pause"


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether one more agent may start now, and if not, why."""

    allowed: bool
    exhausted: bool = False  # True: nothing more can start until the limit is raised
    reason: str = ""


def exceeds(spend: Spend, limits: Limits) -> bool:
    """True when `spend` has reached a cap (a cap of 0 is reached at once)."""
    if limits.max_cost_usd is not None and spend.cost_usd >= limits.max_cost_usd:
        return True
    return limits.max_tokens is not None and spend.tokens >= limits.max_tokens


def percentile_90(values: Sequence[float]) -> float:
    """Nearest-rank 90th percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(math.ceil(0.9 * len(ordered)), 1)
    return ordered[rank - 1]


def item_reserve(budget: Budget, finished: Sequence[Spend]) -> Spend | None:
    """What to set aside for one running item: the per-item cap, else the 90th percentile
    of finished items; None when a measure the job caps cannot be estimated yet."""
    cost = budget.per_item.max_cost_usd
    tokens = budget.per_item.max_tokens
    if cost is None and finished:
        cost = percentile_90([s.cost_usd for s in finished])
    if tokens is None and finished:
        tokens = math.ceil(percentile_90([float(s.tokens) for s in finished]))
    if (budget.job.max_cost_usd is not None and cost is None) or (
        budget.job.max_tokens is not None and tokens is None
    ):
        return None
    return Spend(cost or 0.0, tokens or 0)


def admit(budget: Budget, spent: Spend, running: int, finished: Sequence[Spend]) -> Admission:
    """May one more agent start, given what was spent and how many agents are running?"""
    limits = budget.job
    if limits.unlimited:
        return Admission(True)
    if exceeds(spent, limits):
        return Admission(False, exhausted=True, reason="spent " + amounts_text(spent, limits))
    reserve = item_reserve(budget, finished)
    if reserve is None:
        # cost of an item unknown: learn it from one agent before starting more
        return Admission(running == 0, reason="" if running == 0 else "learning item cost")
    needed = spent + Spend(reserve.cost_usd * (running + 1), reserve.tokens * (running + 1))
    if not _over(needed, limits):
        return Admission(True)
    if running > 0:
        return Admission(False, reason="waiting for running agents to finish")
    # Nothing runs and even one more item would not fit on the estimate: the budget is spent
    # unless the estimate is zero-cost, which `_over` already let through.
    return Admission(
        False, exhausted=True, reason="the next item would need " + amounts_text(needed, limits)
    )


def item_allowance(budget: Budget, item_spent: Spend, job_spent: Spend) -> Limits:
    """What one more step of an item may spend: the smaller of the item's and the job's rest."""
    cost_left = _left(budget.per_item.max_cost_usd, item_spent.cost_usd)
    job_cost_left = _left(budget.job.max_cost_usd, job_spent.cost_usd)
    tokens_left = _left_int(budget.per_item.max_tokens, item_spent.tokens)
    job_tokens_left = _left_int(budget.job.max_tokens, job_spent.tokens)
    return Limits(_min_opt(cost_left, job_cost_left), _min_opt_int(tokens_left, job_tokens_left))


def _over(spend: Spend, limits: Limits) -> bool:
    if limits.max_cost_usd is not None and spend.cost_usd > limits.max_cost_usd:
        return True
    return limits.max_tokens is not None and spend.tokens > limits.max_tokens


def amounts_text(spend: Spend, limits: Limits, *, spent: bool = False) -> str:
    """`$0.4210 of $0.5000[ spent], 12000 of 20000 tokens`: the measures the limits cap."""
    parts = []
    if limits.max_cost_usd is not None:
        word = " spent" if spent else ""
        parts.append(f"${spend.cost_usd:.4f} of ${limits.max_cost_usd:.4f}{word}")
    if limits.max_tokens is not None:
        parts.append(f"{spend.tokens} of {limits.max_tokens} tokens")
    return ", ".join(parts) or "no limit"


def _left(cap: float | None, spent: float) -> float | None:
    return None if cap is None else max(cap - spent, 0.0)


def _left_int(cap: int | None, spent: int) -> int | None:
    return None if cap is None else max(cap - spent, 0)


def _min_opt(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _min_opt_int(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)
