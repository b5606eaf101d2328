"""Budgets and quota policies load and validate, but are not enforced yet (issue 14): a run
that asks for one is refused before anything starts, never run as if it had no limit."""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_a_budget_or_quota_policy_is_refused_until_it_is_enforced(sc: Scenario) -> None:
    plain = sc.workflow("plain", "commands:\n  - shell: touch ran.txt\n")
    budgeted = sc.workflow(
        "budgeted", "budget: {max_cost_usd: 1}\ncommands:\n  - shell: touch ran.txt\n"
    )
    for run in (
        sc.run(budgeted),
        sc.run(plain, "--max-cost-usd", "2"),
        sc.run(plain, "--max-tokens", "1000"),
    ):
        assert run.code == 2, run
        assert "not implemented yet" in run.stderr, run
        assert "Nothing was started" in run.stderr, run
        assert not (sc.repo / "ran.txt").exists()
    assert sc.prodigy("sessions", "ls", "--all", "--json").stdout.strip() == "[]"
