"""Every accepted spelling of a workflow loads into the same normalized model: the top-level
forms (standard, list, MapReduce with its phases, nested commands, error-policy shortcuts).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workflows import load_workflow_text

from prodigy.core.workflow import (
    ClaudeAction,
    ShellAction,
    Workflow,
    load_workflow,
)

STANDARD_FORMS = {
    "list": '- shell: "make"\n',
    "object with commands": "name: build\ncommands:\n  - shell: make\n",
    "object with steps alias": "name: build\nsteps:\n  - shell: make\n",
    "flow object": '{name: build, commands: [{shell: make}], env: {CI: "true"}}\n',
    "json": '{"name": "build", "commands": [{"shell": "make"}]}\n',
}


@pytest.mark.parametrize("text", STANDARD_FORMS.values(), ids=STANDARD_FORMS.keys())
def test_standard_forms_give_one_shell_step(tmp_path: Path, text: str) -> None:
    workflow = load_workflow_text(tmp_path, text)
    assert workflow.mode == "standard"
    assert [s.action for s in workflow.steps] == [ShellAction(command="make")]


def test_list_form_is_named_after_the_file(tmp_path: Path) -> None:
    assert load_workflow_text(tmp_path, "- shell: make\n", name="build-all.yml").name == "build-all"


def test_mapreduce_is_told_by_structure_not_by_text(tmp_path: Path) -> None:
    comment_only = load_workflow_text(
        tmp_path, "# mode: mapreduce\n- shell: 'echo mode: mapreduce'\n"
    )
    assert comment_only.mode == "standard"
    quoted = load_workflow_text(
        tmp_path,
        """\
        name: j
        mode: 'mapreduce'
        map: {input: i.json, agent_template: [{shell: "echo ${item.id}"}]}
        """,
    )
    assert quoted.mode == "mapreduce"
    assert quoted.map is not None and quoted.map.input == "i.json"


def test_mapreduce_file_carries_every_phase(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """\
        name: job
        mode: mapreduce
        env: {WORKERS: 3, DEBUG: true}
        setup:
          commands: [{shell: gen}]
          timeout: "${SETUP_TIMEOUT}"
          capture_outputs:
            COUNT: 0
            TOTAL: {command_index: 0, pattern: "total=(\\\\d+)", json_path: "$.count"}
        map:
          input: items.json
          json_path: "$.items[*]"
          filter: "score >= 5"
          sort_by: "score DESC"
          distinct: id
          offset: 2
          max_items: 10
          max_parallel: "${WORKERS}"
          agent_timeout_secs: 300
          timeout_config: {agent_timeout_secs: 60, timeout_policy: PerCommand}
          agent_template:
            - claude: "/fix ${item.id}"
              commit_required: true
        reduce:
          - shell: "echo ${map.successful}"
        merge:
          commands: [{shell: "git fetch"}]
          timeout: 600
        """,
    )
    assert workflow.mode == "mapreduce"
    assert dict(workflow.env) == {"WORKERS": "3", "DEBUG": "true"}
    assert workflow.setup is not None
    assert workflow.setup.timeout == "${SETUP_TIMEOUT}"
    assert workflow.setup.capture_outputs["COUNT"].command_index == 0
    assert workflow.setup.capture_outputs["TOTAL"].json_path == "count"
    m = workflow.map
    assert m is not None
    assert (m.json_path, m.filter, m.sort_by, m.distinct) == (
        "$.items[*]",
        "score >= 5",
        "score DESC",
        "id",
    )
    assert (m.offset, m.max_items, m.max_parallel, m.agent_timeout_secs) == (
        2,
        10,
        "${WORKERS}",
        300,
    )
    assert m.timeout_config is not None and m.timeout_config.timeout_policy == "PerCommand"
    assert m.agent_template[0].action == ClaudeAction(prompt="/fix ${item.id}")
    assert m.agent_template[0].commit_required is True
    assert [s.action for s in workflow.reduce] == [ShellAction(command="echo ${map.successful}")]
    assert workflow.merge is not None and workflow.merge.timeout == 600


NESTED_COMMANDS = {
    "agent_template": ("map", "agent_template"),
    "reduce": ("reduce",),
}


@pytest.mark.parametrize("section", ["agent_template", "reduce", "setup"])
def test_nested_commands_load_like_plain_lists(tmp_path: Path, section: str) -> None:
    def workflow_text(nested: bool) -> str:
        steps = "{commands: [{shell: a}]}" if nested else "[{shell: a}]"
        template = steps if section == "agent_template" else "[{shell: t}]"
        text = f"name: j\nmode: mapreduce\nmap: {{input: i.json, agent_template: {template}}}\n"
        if section != "agent_template":
            text += f"{section}: {steps}\n"
        return text

    plain = load_workflow_text(tmp_path, workflow_text(False), "plain.yml")
    nested_path = tmp_path / "nested.yml"
    nested_path.write_text(workflow_text(True))
    result = load_workflow(nested_path)

    def actions(w: Workflow) -> list[object]:
        if section == "agent_template":
            assert w.map is not None
            return [s.action for s in w.map.agent_template]
        if section == "setup":
            assert w.setup is not None
            return [s.action for s in w.setup.steps]
        return [s.action for s in w.reduce]

    assert actions(result.workflow) == actions(plain) == [ShellAction(command="a")]
    deprecated = [w for w in result.warnings if "deprecated" in w.message]
    assert bool(deprecated) == (section != "setup")  # setup's object form is not deprecated


SHORTCUTS = """\
name: j
mode: mapreduce
map: {input: i.json, agent_template: [{shell: a}]}
"""


def test_error_policy_shortcuts_load_into_error_policy(tmp_path: Path) -> None:
    block = load_workflow_text(
        tmp_path,
        SHORTCUTS + "error_policy: {on_item_failure: skip, continue_on_failure: false, "
        "max_failures: 3, failure_threshold: 0.5, error_collection: 'batched:4'}\n",
        "block.yml",
    )
    shortcuts = load_workflow_text(
        tmp_path,
        SHORTCUTS + "on_item_failure: skip\ncontinue_on_failure: false\nmax_failures: 3\n"
        "failure_threshold: 0.5\nerror_collection: {batched: {size: 4}}\n",
        "shortcuts.yml",
    )
    assert block.error_policy == shortcuts.error_policy
    assert shortcuts.error_policy.on_item_failure == "skip"
    assert shortcuts.error_policy.batch_size == 4
