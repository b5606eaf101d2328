"""Token, cost and time usage of agent runs, and their roll-up per item, job and session."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

# Where a cost figure comes from: the agent said it (Claude Code), prodigy computed it from
# its price table (core/prices.py), or nobody knows (a model the table does not list).
CostSource = Literal["reported", "estimated", "unknown"]
COST_SOURCES: tuple[CostSource, ...] = get_args(CostSource)


@dataclass(frozen=True, slots=True)
class Usage:
    """What one or more agent runs consumed. `Usage()` is the neutral element of `+`.

    Token counts are normalised across vendors (docs/agents.md, "Usage and cost"):
    `input_tokens` excludes cache reads and writes, `output_tokens` includes reasoning, and
    `reasoning_tokens` says how many of the output tokens were reasoning.
    """

    duration_ms: int = 0
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0
    model: str | None = None
    reasoning_tokens: int = 0  # part of output_tokens
    cost_source: CostSource | None = None  # None: no run yet (the neutral element)

    @property
    def total_tokens(self) -> int:
        """All tokens sent and received, cache reads and writes included."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            duration_ms=self.duration_ms + other.duration_ms,
            turns=self.turns + other.turns,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=(
                self.cache_creation_input_tokens + other.cache_creation_input_tokens
            ),
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            model=_merge_models(self.model, other.model),
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cost_source=merge_cost_sources(self.cost_source, other.cost_source),
        )

    def __radd__(self, other: object) -> Usage:
        # sum() starts from the integer 0
        if other == 0:
            return self
        if isinstance(other, Usage):
            return other + self
        return NotImplemented

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; `total_tokens` is included for readers that want one number."""
        return {
            "duration_ms": self.duration_ms,
            "turns": self.turns,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": self.cost_usd,
            "model": self.model,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_source": self.cost_source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Usage:
        """Inverse of `to_dict`; missing or mistyped fields count as zero."""
        model = data.get("model")
        source = data.get("cost_source")
        return cls(
            duration_ms=int_field(data.get("duration_ms")),
            turns=int_field(data.get("turns")),
            input_tokens=int_field(data.get("input_tokens")),
            output_tokens=int_field(data.get("output_tokens")),
            cache_creation_input_tokens=int_field(data.get("cache_creation_input_tokens")),
            cache_read_input_tokens=int_field(data.get("cache_read_input_tokens")),
            cost_usd=float_field(data.get("cost_usd")),
            model=model if isinstance(model, str) and model else None,
            reasoning_tokens=int_field(data.get("reasoning_tokens")),
            cost_source=source if source in COST_SOURCES else None,
        )


def cost_text(usage: Usage) -> str:
    """The cost as a reader should take it: `$0.0421`, `$0.3051 (estimated)`, `cost unknown`."""
    if usage.cost_source == "unknown":
        return "cost unknown (a model without a price)"
    suffix = " (estimated)" if usage.cost_source == "estimated" else ""
    return f"${usage.cost_usd:.4f}{suffix}"


def total_usage(usages: Iterable[Usage]) -> Usage:
    """Roll several runs up into one record (an item's steps, a job's items, ...)."""
    return sum(usages, Usage())


def merge_cost_sources(left: CostSource | None, right: CostSource | None) -> CostSource | None:
    """The source of a sum of costs: its weakest part (unknown < estimated < reported)."""
    known = [s for s in (left, right) if s is not None]
    return max(known, key=COST_SOURCES.index) if known else None


def _merge_models(left: str | None, right: str | None) -> str | None:
    # a roll-up over runs with different models names all of them, sorted, comma-separated
    names = {name for part in (left, right) if part for name in part.split(",") if name}
    return ",".join(sorted(names)) or None


def int_field(value: object) -> int:
    """Read a token or time count from untrusted JSON; anything that is not a number is 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return 0


def float_field(value: object) -> float:
    """Read a cost from untrusted JSON; anything that is not a number is 0.0."""
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return 0.0
