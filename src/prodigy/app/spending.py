"""A run's budget while it runs: what was spent, who may start, what each agent call may spend.

`JobSpending` is the gate of a job or a sequential session: setup, reduce and sequential
steps ask it before each agent call (`allowance`) and report after (`charge`); the map phase
asks it before each agent start (`admit`, the rule in core/budget.py) and gives each
attempt an `ItemGate`, whose allowance is the smaller of what is left of the item's cap and
of the job's budget once the other running items' reserves are set aside. So N agents at
once cannot spend the job's rest N times (docs/budgets-and-quotas.md).

Spend starts from the store (earlier runs of the job count) and grows in memory as agent
calls finish, before their usage is written with the item's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prodigy.core.budget import (
    Admission,
    Budget,
    Limits,
    Spend,
    admit,
    exceeds,
    item_allowance,
    item_reserve,
    spend_of,
)
from prodigy.core.records import ItemState
from prodigy.core.usage import Usage
from prodigy.store import Store


@dataclass(slots=True)
class JobSpending:
    """The budget of one job (or one sequential session) in this process."""

    budget: Budget
    spent: Spend = field(
        default_factory=Spend
    )  # every agent call charged so far, running items' calls included
    finished: list[Spend] = field(default_factory=list)  # items that settled, all attempts
    running: dict[str, ItemGate] = field(default_factory=dict)  # by item id
    earlier: dict[str, Spend] = field(default_factory=dict)  # items' spend before this run

    @classmethod
    def for_job(
        cls, budget: Budget, store: Store, job_id: str, *, settled: set[str]
    ) -> JobSpending:
        """A job's spending so far; `settled` names its items that finished for good."""
        per_item = {k: spend_of(v) for k, v in store.usage.per_item(job_id).items()}
        return cls(
            budget=budget,
            spent=spend_of(store.usage.for_job(job_id)),
            finished=[per_item[i] for i in settled if i in per_item],
            earlier=per_item,
        )

    @classmethod
    def for_session(cls, budget: Budget, store: Store, session_id: str) -> JobSpending:
        return cls(budget=budget, spent=spend_of(store.usage.for_session(session_id)))

    # SpendGate for the steps that are not map items (setup, reduce, sequential steps)
    def allowance(self) -> Limits:
        return item_allowance(
            Budget(job=self.budget.job), Spend(), self.spent + self._held(exclude=None)
        )

    def charge(self, usage: Usage) -> None:
        self.spent = self.spent + spend_of(usage)

    def admit(self) -> Admission:
        """May one more map agent start now?"""
        return admit(self.budget, self.spent, len(self.running), self.finished)

    def start(self, item_id: str) -> ItemGate:
        """An admitted attempt of `item_id` starts; its gate holds it until `stop`."""
        gate = ItemGate(self, self.earlier.get(item_id, Spend()))
        self.running[item_id] = gate
        return gate

    def stop(self, item_id: str) -> ItemGate | None:
        """The attempt of `item_id` ended (its usage is in the store from now on)."""
        gate = self.running.pop(item_id, None)
        if gate is not None:
            self.earlier[item_id] = gate.item_spent
        return gate

    def settled(self, item_id: str) -> None:
        """`item_id` finished for good (landed or dead-lettered): its cost teaches the reserve."""
        if item_id in self.earlier:
            self.finished.append(self.earlier[item_id])

    def item_capped(self, item_id: str) -> bool:
        """True when the item has reached its own cap (not just the job's rest)."""
        return exceeds(self.earlier.get(item_id, Spend()), self.budget.per_item)

    def _held(self, *, exclude: ItemGate | None) -> Spend:
        """What the running items (but `exclude`) may still spend: their reserve, less what
        they spent (that is already in `spent`)."""
        reserve = item_reserve(self.budget, self.finished) or Spend()
        held = Spend()
        for gate in self.running.values():
            if gate is not exclude:
                mine = gate.attempt
                held = held + Spend(
                    max(reserve.cost_usd - mine.cost_usd, 0.0), max(reserve.tokens - mine.tokens, 0)
                )
        return held


@dataclass(slots=True)
class ItemGate:
    """The SpendGate of one attempt of one map item."""

    job: JobSpending
    before: Spend  # the item's earlier attempts
    attempt: Spend = field(default_factory=Spend)

    @property
    def item_spent(self) -> Spend:
        return self.before + self.attempt

    def allowance(self) -> Limits:
        held = self.job._held(exclude=self)
        return item_allowance(self.job.budget, self.item_spent, self.job.spent + held)

    def charge(self, usage: Usage) -> None:
        spend = spend_of(usage)
        self.attempt = self.attempt + spend
        self.job.spent = self.job.spent + spend


def job_spending(budget: Budget, store: Store, job_id: str) -> JobSpending | None:
    """The spending of a job with a budget (earlier runs of it count); None without one."""
    if budget.job.unlimited and budget.per_item.unlimited:
        return None
    final = (ItemState.MERGED, ItemState.DEAD_LETTERED)
    settled = {r.item_id for r in store.items.find(job_id, states=final)}
    return JobSpending.for_job(budget, store, job_id, settled=settled)
