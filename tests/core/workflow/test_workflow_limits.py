"""`budget:` and `quota:` load into Budget and QuotaPolicy; mistakes are errors at file:line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.workflows import write_workflow

from prodigy.core.budget import Budget, Limits
from prodigy.core.quota import QuotaPolicy
from prodigy.core.workflow import WorkflowLoadError, load_workflow


def test_both_blocks_load_on_a_mapreduce_workflow(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path,
        """\
        name: j
        mode: mapreduce
        budget:
          max_cost_usd: 5
          max_tokens: 2000000
          per_item: {max_cost_usd: 0.5, max_tokens: 200000}
          on_exhausted: fail
        quota:
          on_limit: pause
          max_wait: 2h
          jitter: 0s
        map:
          input: items.json
          agent_template:
            - shell: "true"
        """,
    )
    workflow = load_workflow(path).workflow
    assert workflow.budget == Budget(
        job=Limits(5.0, 2_000_000), per_item=Limits(0.5, 200_000), on_exhausted="fail"
    )
    assert workflow.quota == QuotaPolicy(
        on_limit="pause", max_wait=timedelta(hours=2), jitter=timedelta(0)
    )


def test_defaults_without_the_blocks(tmp_path: Path) -> None:
    workflow = load_workflow(write_workflow(tmp_path, "commands:\n  - shell: 'true'\n")).workflow
    assert workflow.budget.job.unlimited
    assert workflow.budget.on_exhausted == "pause"
    assert workflow.quota == QuotaPolicy(
        on_limit="wait", max_wait=timedelta(hours=6), jitter=timedelta(seconds=60)
    )


def test_a_standard_workflow_takes_a_budget(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path,
        """\
        budget: {max_cost_usd: 1.5}
        commands:
          - shell: "true"
        """,
    )
    assert load_workflow(path).workflow.budget.job == Limits(max_cost_usd=1.5)


def test_mistakes_are_errors_with_line_numbers(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path,
        """\
        budget:
          max_cost: 5
          max_tokens: lots
          per_item:
            max_cost_usd: -1
          on_exhausted: stop
        quota:
          on_limit: retry
          max_wait: soon
        commands:
          - shell: "true"
        """,
    )
    with pytest.raises(WorkflowLoadError) as info:
        load_workflow(path)
    found = {(d.line, d.yaml_path): d.message for d in info.value.diagnostics}
    assert found[(2, "budget.max_cost")].startswith("unknown key 'max_cost'")
    assert "whole number" in found[(3, "budget.max_tokens")]
    assert "at least 0" in found[(5, "budget.per_item.max_cost_usd")]
    assert "not one of: pause, fail" in found[(6, "budget.on_exhausted")]
    assert "not one of: wait, pause, fail" in found[(8, "quota.on_limit")]
    assert (9, "quota.max_wait") in found
    assert all(d.severity == "error" for d in info.value.diagnostics)
