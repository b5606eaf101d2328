"""A job's spending while it runs, with made-up numbers: who may start, what each agent call
may spend, whose cap stopped an item (app/spending.py over core/budget.py)."""

from __future__ import annotations

from pathlib import Path

from prodigy.app.dlq.retry import retry_spending
from prodigy.app.session.opening import keep_raised_limits, stored_options
from prodigy.app.spending import JobSpending, job_spending
from prodigy.core.budget import Budget, Limits, Spend, amounts_text, spent_up
from prodigy.core.records import ItemState, UsageRecord
from prodigy.core.usage import Usage
from prodigy.store import open_store


def usd(cost: float, tokens: int = 0) -> Usage:
    return Usage(cost_usd=cost, input_tokens=tokens, output_tokens=0)


def test_cache_reads_do_not_count_against_the_budget() -> None:
    spending = JobSpending(budget=Budget(job=Limits(max_tokens=100)))
    spending.charge(Usage(input_tokens=30, output_tokens=20, cache_read_input_tokens=10_000))
    assert spending.spent == Spend(0.0, 50)
    assert spending.allowance() == Limits(max_tokens=50)


def test_without_a_per_item_cap_one_agent_learns_the_cost_then_the_budget_decides() -> None:
    spending = JobSpending(budget=Budget(job=Limits(max_cost_usd=1.0)))
    assert spending.admit().allowed
    first = spending.start("item_0")
    assert not spending.admit().allowed  # the cost of an item is unknown yet
    first.charge(usd(0.3))
    spending.stop("item_0")
    spending.settled("item_0")
    # 0.3 spent + 2 x 0.3 reserved fits; a third would make 1.2
    spending.start("item_1")
    assert spending.admit().allowed
    spending.start("item_2")
    verdict = spending.admit()
    assert not verdict.allowed and not verdict.exhausted  # wait for the running ones


def test_a_budget_with_nothing_left_for_one_more_item_is_exhausted() -> None:
    spending = JobSpending(budget=Budget(job=Limits(max_cost_usd=1.0)))
    for item in ("item_0", "item_1", "item_2"):
        gate = spending.start(item)
        gate.charge(usd(0.3))
        spending.stop(item)
        spending.settled(item)
    verdict = spending.admit()  # 0.9 spent, an item costs 0.3
    assert verdict.exhausted and "the next item would need $1.2000 of $1.0000" in verdict.reason


def test_an_items_allowance_is_its_caps_rest_within_the_jobs_rest_less_others_reserves() -> None:
    budget = Budget(job=Limits(max_cost_usd=1.0), per_item=Limits(max_cost_usd=0.4))
    spending = JobSpending(budget=budget)
    a = spending.start("item_0")
    b = spending.start("item_1")
    assert a.allowance() == Limits(max_cost_usd=0.4)  # its own cap binds
    a.charge(usd(0.1))
    b.charge(usd(0.35))
    # b: 0.05 left of its cap; a: 0.3 left of its cap, and the job has 1 - 0.45 - b's 0.05
    assert b.allowance().max_cost_usd == 0.4 - 0.35
    assert a.allowance().max_cost_usd == 0.4 - 0.1
    c = spending.start("item_2")
    # the job's rest for c: 1 - 0.45 spent - a's 0.3 and b's 0.05 still held = 0.2
    assert abs((c.allowance().max_cost_usd or 0) - 0.2) < 1e-9


def test_the_item_cap_tells_a_budget_exceeded_item_from_a_job_that_ran_out() -> None:
    budget = Budget(job=Limits(max_cost_usd=1.0), per_item=Limits(max_cost_usd=0.4))
    spending = JobSpending(budget=budget)
    spending.start("item_0").charge(usd(0.41))
    spending.stop("item_0")
    spending.start("item_1").charge(usd(0.2))
    spending.stop("item_1")
    assert spending.item_capped("item_0")
    assert not spending.item_capped("item_1")


def test_nothing_left_means_the_agent_is_not_started() -> None:
    spending = JobSpending(budget=Budget(job=Limits(max_cost_usd=0.5)))
    spending.charge(usd(0.5))
    assert spent_up(spending.allowance())
    assert (
        amounts_text(spending.spent, spending.budget.job, spent=True) == "$0.5000 of $0.5000 spent"
    )


def test_a_dlq_retry_gives_each_item_the_new_cap_for_this_retry_alone() -> None:
    workflow_budget = Budget(job=Limits(max_cost_usd=1.0), per_item=Limits(max_cost_usd=0.1))
    spending = retry_spending(workflow_budget, Limits(max_cost_usd=2.0))
    assert spending is not None
    assert spending.budget.job == Limits()  # the job's budget does not stop a retry
    assert spending.start("item_3").allowance() == Limits(max_cost_usd=2.0)
    assert retry_spending(Budget(), Limits()) is None


def test_a_job_resumed_counts_what_it_spent_before(tmp_path: Path) -> None:
    with open_store(tmp_path / "home") as store:
        key = store.repos.ensure(str(tmp_path)).key
        store.sessions.create(session_id="s-1", repo_key=key, workflow_path="wf", workflow_hash="h")
        store.jobs.create(job_id="job-1", session_id="s-1", parent_worktree=str(tmp_path))
        store.items.add("job-1", [("item_0", 1), ("item_1", 2)])
        for item, cost in (("item_0", 0.2), ("item_1", 0.05)):
            store.usage.record(
                UsageRecord(
                    session_id="s-1", step_id="x", usage=usd(cost, 10), job_id="job-1", item_id=item
                )
            )
        store.items.transition("job-1", "item_0", ItemState.RUNNING)
        store.items.transition("job-1", "item_0", ItemState.SUCCEEDED)
        store.items.transition("job-1", "item_0", ItemState.MERGED)
        budget = Budget(job=Limits(max_cost_usd=1.0), per_item=Limits(max_cost_usd=0.3))

        spending = job_spending(budget, store, "job-1")

        assert spending is not None
        assert abs(spending.spent.cost_usd - 0.25) < 1e-9 and spending.spent.tokens == 20
        assert spending.finished == [Spend(0.2, 10)]  # only the item that settled teaches
        # item_1's earlier attempt counts against its cap
        assert abs((spending.start("item_1").allowance().max_cost_usd or 0) - 0.25) < 1e-9
        assert job_spending(Budget(), store, "job-1") is None


def test_a_raised_limit_is_kept_for_later_resumes(tmp_path: Path) -> None:
    class Raise:
        max_cost_usd = 3.0
        max_tokens = None

    class Keep:
        max_cost_usd = None
        max_tokens = None

    with open_store(tmp_path / "home") as store:
        key = store.repos.ensure(str(tmp_path)).key
        store.sessions.create(
            session_id="s-1",
            repo_key=key,
            workflow_path="wf.yml",
            workflow_hash="h",
            options={"max_cost_usd": 1.0, "args": ["a"]},
        )
        record = store.sessions.require("s-1")
        keep_raised_limits(store, record, Raise())
        keep_raised_limits(store, record, Keep())

        later = stored_options(store, record)

        assert later.max_cost_usd == 3.0 and later.args == ("a",)
