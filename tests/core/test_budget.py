"""The budget admission rule: N parallel agents cannot overshoot a job budget N times."""

import pytest

from prodigy.core.budget import Budget, Limits, Spend, admit, item_allowance, percentile_90


def test_no_budget_admits_everything() -> None:
    assert admit(Budget(), Spend(100.0, 10**9), running=50, finished=[]).allowed


def test_unknown_item_cost_runs_one_agent_until_the_first_finishes() -> None:
    budget = Budget(job=Limits(max_cost_usd=5.0))
    assert admit(budget, Spend(), running=0, finished=[]).allowed
    second = admit(budget, Spend(), running=1, finished=[])
    assert not second.allowed
    assert not second.exhausted


def test_reserve_uses_the_per_item_cap_when_there_is_one() -> None:
    budget = Budget(job=Limits(max_cost_usd=1.0), per_item=Limits(max_cost_usd=0.3))
    # 3 x 0.3 = 0.9 fits, a 4th would need 1.2
    assert admit(budget, Spend(), running=2, finished=[]).allowed
    assert not admit(budget, Spend(), running=3, finished=[]).allowed


def test_reserve_uses_the_90th_percentile_of_finished_items() -> None:
    finished = [Spend(0.1, 100)] * 9 + [Spend(1.0, 1000)]
    assert percentile_90([s.cost_usd for s in finished]) == 0.1
    budget = Budget(job=Limits(max_cost_usd=1.0))
    spent = Spend(0.6, 0)  # 0.6 + 3 x 0.1 = 0.9 fits; a 4th running would make 1.0 + 0.1
    assert admit(budget, spent, running=2, finished=finished).allowed
    assert not admit(budget, spent, running=4, finished=finished).allowed


def test_spent_at_the_limit_is_exhausted() -> None:
    budget = Budget(job=Limits(max_tokens=1000))
    verdict = admit(budget, Spend(0.0, 1000), running=0, finished=[Spend(0, 10)])
    assert verdict.exhausted
    assert "1000 of 1000 tokens" in verdict.reason


def test_when_even_one_more_item_would_not_fit_and_nothing_runs_the_budget_is_exhausted() -> None:
    budget = Budget(job=Limits(max_cost_usd=1.0))
    verdict = admit(budget, Spend(0.95, 0), running=0, finished=[Spend(0.2, 0)])
    assert verdict.exhausted


def test_simulated_parallel_run_never_overshoots_by_more_than_one_item() -> None:
    # 8 agents allowed at once, every item costs 0.3: the rule may overshoot by one item only
    budget = Budget(job=Limits(max_cost_usd=2.0))
    spent, running, finished = Spend(), [], []
    for _ in range(100):
        while len(running) < 8 and admit(budget, spent, len(running), finished).allowed:
            running.append(Spend(0.3, 0))
        if not running:
            break
        done = running.pop(0)
        spent += done
        finished.append(done)
    assert spent.cost_usd <= 2.0 + 0.3


def test_item_allowance_is_the_smaller_rest_of_item_and_job() -> None:
    budget = Budget(job=Limits(max_cost_usd=5.0), per_item=Limits(max_cost_usd=0.5))
    assert item_allowance(budget, Spend(0.2, 0), Spend(4.9, 0)).max_cost_usd == pytest.approx(0.1)
    assert item_allowance(budget, Spend(0.2, 0), Spend(1.0, 0)).max_cost_usd == pytest.approx(0.3)
    assert item_allowance(Budget(), Spend(), Spend()) == Limits()
