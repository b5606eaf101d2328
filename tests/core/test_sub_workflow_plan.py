"""Loading, ordering and output parsing of sub-workflows."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.errors import WorkflowError
from prodigy.core.sub_workflow_plan import (
    PlannedSub,
    output_file_values,
    plan_sub_workflows,
    run_groups,
)
from prodigy.core.workflow import Workflow, check_workflow, load_workflow
from prodigy.core.workflow.model import SubWorkflow


def _sub(name: str, parallel: bool) -> PlannedSub:
    workflow = Workflow(name=name, mode="standard", source=f"{name}.yml")
    return PlannedSub(name, SubWorkflow(source="x", parallel=parallel), Path("x"), workflow, ())


@given(st.lists(st.booleans(), max_size=12))
def test_groups_keep_order_and_only_join_parallel_neighbours(flags: list[bool]) -> None:
    subs = tuple(_sub(f"s{i}", flag) for i, flag in enumerate(flags))
    groups = run_groups(subs)
    assert [s for group in groups for s in group] == list(subs)
    for group in groups:
        assert len(group) == 1 or all(s.spec.parallel for s in group)
    for before, after in itertools.pairwise(groups):
        assert not (before[-1].spec.parallel and after[0].spec.parallel)


def test_output_file_lines() -> None:
    text = "a=1\nnoise\nb=x=y\n a =2\n=skip\n"
    assert output_file_values(text) == {"a": "2", "b": "x=y"}


def test_plan_loads_children_with_their_parameters(tmp_path: Path) -> None:
    (tmp_path / "child.yml").write_text(
        "parameters:\n  required: [{name: who, type: string, description: d}]\n"
        "commands:\n  - shell: echo ${who}\n"
    )
    (tmp_path / "p.yml").write_text(
        "workflows:\n  c: {source: child.yml, parameters: {who: me}}\ncommands: []\n"
    )
    (planned,) = plan_sub_workflows(load_workflow(tmp_path / "p.yml").workflow)
    assert planned.name == "c"
    assert planned.workflow.steps[0].action.command == "echo me"  # type: ignore[union-attr]


def test_mapreduce_child_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mr.yml").write_text(
        "name: m\nmode: mapreduce\nmap: {input: i.json, agent_template: [{shell: 'true'}]}\n"
    )
    (tmp_path / "p.yml").write_text("workflows:\n  m: {source: mr.yml}\ncommands: []\n")
    with pytest.raises(WorkflowError, match="must be a standard workflow"):
        plan_sub_workflows(load_workflow(tmp_path / "p.yml").workflow)


def test_indirect_cycle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("workflows:\n  b: {source: b.yml}\ncommands: []\n")
    (tmp_path / "b.yml").write_text("workflows:\n  a: {source: a.yml}\ncommands: []\n")
    with pytest.raises(WorkflowError, match=r"a\.yml -> b\.yml -> a\.yml"):
        plan_sub_workflows(load_workflow(tmp_path / "a.yml").workflow)


def test_mapreduce_file_takes_parameters_without_a_commands_warning(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text(
        "name: m\nmode: mapreduce\ndefaults: {n: x}\n"
        "map: {input: i.json, agent_template: [{shell: 'echo ${n} ${item.id}'}]}\n"
    )
    loaded = load_workflow(path)
    assert loaded.warnings == ()
    assert loaded.workflow.map is not None
    step = loaded.workflow.map.agent_template[0]
    assert step.action.command == "echo x ${item.id}"  # type: ignore[union-attr]


def test_sub_workflows_in_a_mapreduce_file_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text("commands: []\n")
    path = tmp_path / "m.yml"
    path.write_text(
        "name: m\nmode: mapreduce\nworkflows: {c: {source: c.yml}}\n"
        "map: {input: i.json, agent_template: [{shell: 'true'}]}\n"
    )
    errors = [d for d in check_workflow(path) if d.severity == "error"]
    assert [d.yaml_path for d in errors] == ["workflows"]
    assert "only works in standard workflows" in errors[0].message
