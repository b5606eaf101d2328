"""Problems are reported all at once, each with file, line, column, YAML path and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workflows import write_workflow

from prodigy.core.errors import WorkflowError
from prodigy.core.workflow import (
    ShellAction,
    WorkflowLoadError,
    check_workflow,
    load_workflow,
)


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = write_workflow(tmp_path, text)
    with pytest.raises(WorkflowLoadError) as info:
        load_workflow(path)
    return [str(d).replace(f"{path}", "wf.yml") for d in info.value.diagnostics]


def test_type_error_names_file_line_column_and_path(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        """\
        name: j
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: a
            - shell: b
            - claude: [not, a, string]
        """,
    )
    assert errors == ["wf.yml:8:15: map.agent_template[2].claude: expected a string, got a list"]


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path,
        """\
        name: j
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 0
          agent_template:
            - sh: ls
            - {shell: a, claude: /b}
            - {shell: a, capture_format: jsn}
        """,
    )
    with pytest.raises(WorkflowLoadError) as info:
        load_workflow(path)
    found = [(d.line, d.yaml_path) for d in info.value.diagnostics]
    assert found == [
        (5, "map.max_parallel"),
        (7, "map.agent_template[0]"),
        (8, "map.agent_template[1]"),
        (9, "map.agent_template[2].capture_format"),
    ]
    messages = [d.message for d in info.value.diagnostics]
    assert "must be at least 1" in messages[0]
    assert "no action" in messages[1]
    assert "2 actions" in messages[2]
    assert "'jsn' is not one of" in messages[3]
    assert info.value.diagnostics[1].suggestion == "shell"
    assert info.value.diagnostics[3].suggestion == "json"
    assert isinstance(info.value, WorkflowError)
    assert "wf.yml:5:" in str(info.value)


def test_unknown_keys_are_warnings_with_a_suggestion(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "- shell: make\n  comit_required: true\n")
    result = load_workflow(path)
    assert [s.action for s in result.workflow.steps] == [ShellAction(command="make")]
    (warning,) = result.warnings
    assert (warning.severity, warning.line, warning.column) == ("warning", 2, 3)
    assert warning.yaml_path == "[0].comit_required"
    assert warning.suggestion == "commit_required"
    assert str(warning).endswith(
        "unknown key 'comit_required' (ignored) (did you mean 'commit_required'?)"
    )


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "name: x\ncomands: []\ncommands:\n  - shell: make\n")
    assert [d.severity for d in check_workflow(path)] == ["warning"]
    assert [d.severity for d in check_workflow(path, strict=True)] == ["error"]
    with pytest.raises(WorkflowLoadError) as info:
        load_workflow(path, strict=True)
    assert info.value.diagnostics[0].suggestion == "commands"


def test_duplicate_keys_are_errors_naming_both_lines(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "name: a\ncommands: []\nname: b\n")
    assert errors == ["wf.yml:3:1: name: duplicate key 'name' (first defined on line 1)"]


def test_yaml_12_keeps_on_yes_no_as_strings(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "env: {on: yes, off: no}\ncommands:\n  - shell: echo on\n")
    workflow = load_workflow(path).workflow
    assert dict(workflow.env) == {"on": "yes", "off": "no"}


def test_invalid_yaml_points_at_the_syntax_error(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "commands:\n  - shell: [a\n  - shell: b\n")
    assert len(errors) == 1
    assert errors[0].startswith("wf.yml:3:")
    assert "invalid YAML" in errors[0]


def test_missing_map_parts_are_errors(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "name: j\nmode: mapreduce\nmap: {json_path: '$[*]'}\n")
    assert any("map needs an 'input'" in e for e in errors)
    assert any("map needs an 'agent_template'" in e for e in errors)
    errors = errors_of(tmp_path, "name: j\nmode: mapreduce\n")
    assert any("needs a 'map' section" in e for e in errors)


def test_mapping_without_commands_is_an_error(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "name: x\nenv: {A: b}\n") == [
        "wf.yml:1:1: commands: a workflow mapping needs 'commands:' (a list of steps)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {shell: a, timeout: soon}", "expected a duration"),
        ("- {shell: a, capture_streams: loud}", "expected stdout, stderr, both"),
        ("- {shell: a, on_failure: 3}", "expected true/false, a command"),
        ("- {shell: a, retry: {attempts: 0}}", "must be at least 1"),
        ("- {shell: a, validate: {shell: b, threshold: 120}}", "percentage 0-100"),
        ("- {write_file: {content: x}}", "write_file needs a 'path'"),
        ("- {write_file: {path: a, mode: rw}}", "file mode must be octal"),
        ("- {foreach: {foreach: [a]}}", "foreach needs a 'do'"),
        ("- {shell: a, env: {A: [1]}}", "expected a string, got a list"),
        ("- {shell: a, on_exit_code: {two: {shell: b}}}", "exit code keys must be whole numbers"),
        ("name: j\nmode: batch\ncommands: []", "expected 'mapreduce' or 'standard'"),
        ("42", "expected a list of steps or a mapping"),
        (
            "name: j\nmode: mapreduce\nmap: {input: i.json, agent_template: []}",
            "agent_template has no steps",
        ),
        ("", "the workflow file is empty"),
    ],
)
def test_bad_values_are_explained(tmp_path: Path, text: str, expected: str) -> None:
    errors = errors_of(tmp_path, text + "\n")
    assert any(expected in e for e in errors), errors


def test_unreadable_file_is_a_diagnostic(tmp_path: Path) -> None:
    (diagnostic,) = check_workflow(tmp_path / "missing.yml")
    assert "cannot read workflow file" in diagnostic.message


def test_deprecated_spellings_warn_but_load(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path,
        """\
        - test: {command: make}
        - goal_seek: {goal: done}
        - {shell: a, capture_format: text}
        """,
    )
    result = load_workflow(path)
    assert len(result.workflow.steps) == 3
    assert result.workflow.steps[2].capture_format == "string"
    assert len(result.warnings) == 3


def test_bad_filter_syntax_is_reported_when_the_expression_language_is_present(
    tmp_path: Path,
) -> None:
    pytest.importorskip("prodigy.core.expr")
    errors = errors_of(
        tmp_path,
        "name: j\nmode: mapreduce\nmap: {input: i.json, filter: 'score >>> 3', agent_template: [{shell: a}]}\n",
    )
    assert len(errors) == 1
    assert "map.filter" in errors[0]


def test_self_referencing_alias_is_an_error_not_a_crash(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "commands: &a [*a]\n")
    assert errors and "alias" in errors[0]


def test_zero_timeout_is_rejected(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "- {shell: a, timeout: 0}\n") == [
        "wf.yml:1:3: [0].timeout: must be at least 1 second, got 0"
    ]


def test_args_on_a_modern_step_warn_instead_of_vanishing(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "- {claude: /review, args: [--fast]}\n")
    (warning,) = load_workflow(path).warnings
    assert warning.yaml_path == "[0].args"
    assert "legacy" in warning.message
