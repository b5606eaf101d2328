"""Every workflow of the spec's examples and conformance scenarios loads (copied as fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodigy.core.workflow import (
    ClaudeAction,
    ForeachAction,
    ShellAction,
    Workflow,
    WorkflowLoadError,
    WriteFileAction,
    load_workflow,
)

FIXTURES = Path(__file__).parent / "fixtures"
# helper files used by composition examples, and the two that need a --param to load
NEEDS_PARAMS = {"conformance/s18_2.yml": {"target": "c.txt"}, "spec/templates/ci.yml": {"p": 1}}
ALL = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.yml"))
MAPREDUCE = {
    "conformance/m01_1.yml",
    "conformance/m02_1.yml",
    "conformance/m03_1.yml",
    "conformance/m07_1.yml",
    "conformance/m08_1.yml",
    "conformance/m09_1.yml",
    "conformance/m11_1.yml",
    "conformance/m14_1.yml",
}


def test_fixture_set_is_complete() -> None:
    assert len([f for f in ALL if f.startswith("conformance/")]) == 28
    assert len([f for f in ALL if f.startswith("spec/section_")]) == 40
    assert len([f for f in ALL if f.startswith("spec/appendix_")]) == 55


@pytest.mark.parametrize("name", ALL)
def test_every_fixture_loads_without_errors(name: str) -> None:
    result = load_workflow(FIXTURES / name, params=NEEDS_PARAMS.get(name))
    workflow = result.workflow
    assert workflow.steps or workflow.map is not None
    expected_mode = (
        "mapreduce"
        if name in MAPREDUCE or "mode: mapreduce" in (FIXTURES / name).read_text()
        else "standard"
    )
    assert workflow.mode == expected_mode
    if workflow.mode == "mapreduce":
        assert workflow.map is not None
        assert workflow.map.input
        assert workflow.map.agent_template
    unexpected = [w for w in result.warnings if "unknown key" in w.message]
    assert not unexpected, [str(w) for w in unexpected]


@pytest.mark.parametrize("name", sorted(NEEDS_PARAMS))
def test_fixtures_needing_params_fail_without_them(name: str) -> None:
    with pytest.raises(WorkflowLoadError, match="required parameter"):
        load_workflow(FIXTURES / name)


def conformance(name: str) -> Workflow:
    return load_workflow(FIXTURES / "conformance" / name).workflow


def test_m01_shape() -> None:
    workflow = conformance("m01_1.yml")
    assert workflow.name == "m01-basic"
    assert workflow.setup is not None
    assert [s.action for s in workflow.setup.steps] == [ShellAction(command="test -f items.json")]
    assert workflow.map is not None
    assert (workflow.map.input, workflow.map.json_path, workflow.map.max_parallel) == (
        "items.json",
        "$[*]",
        2,
    )
    step = workflow.map.agent_template[0]
    assert step.action == ClaudeAction(prompt="/fake-write-commit out/${item.id}.txt ${item.name}")
    assert step.commit_required is True
    assert len(workflow.reduce) == 1


def test_m02_reduce_writes_results_as_json() -> None:
    action = conformance("m02_1.yml").reduce[0].action
    assert action == WriteFileAction(path="results.json", content="${map.results}", format="json")


def test_s05_on_failure_and_s15_validation() -> None:
    recover = conformance("s05_1.yml").steps[0]
    assert recover.on_failure is not None and recover.on_failure.max_attempts == 3
    exhausted = conformance("s05_2.yml").steps[0]
    assert exhausted.on_failure is not None and exhausted.on_failure.fail_workflow
    validated = conformance("s15_1.yml").steps[0]
    assert validated.validate is not None and validated.validate.on_incomplete is not None
    assert validated.validate.threshold == 100.0
    assert validated.validate.on_incomplete.max_attempts == 2


def test_s14_retry_s16_foreach_s21_merge() -> None:
    retry = conformance("s14_1.yml").steps[0].retry
    assert retry is not None and (retry.attempts, retry.backoff.kind, retry.initial_delay) == (
        3,
        "fixed",
        0.2,
    )
    foreach = conformance("s16_1.yml").steps[0].action
    assert isinstance(foreach, ForeachAction) and foreach.items == ("a", "b c", "d")
    merge = conformance("s21_1.yml").merge
    assert merge is not None and len(merge.steps) == 2


def test_s18_parameters_and_s19_composition() -> None:
    s18 = conformance("s18_1.yml")
    assert s18.steps[0].action == ShellAction(
        command="echo hi > default.txt && git add -A && git commit -qm param"
    )
    s19a = conformance("s19/s19a.yml")
    assert [s.action.command for s in s19a.steps if isinstance(s.action, ShellAction)] == [
        "echo base >> trail.txt && git add trail.txt && git commit -qm base"
    ]
    s19b = conformance("s19/s19b.yml")
    assert [
        s.action.command.split(" >>")[0] for s in s19b.steps if isinstance(s.action, ShellAction)
    ] == [
        "echo own",
        "echo common",
    ]
