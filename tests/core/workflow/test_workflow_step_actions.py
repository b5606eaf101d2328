"""Every accepted spelling of a step's action (shell, claude, goal_seek, foreach, write_file,
legacy and deprecated forms) loads into the same normalized model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workflows import only_step

from prodigy.core.workflow import (
    ClaudeAction,
    ForeachAction,
    GoalSeekAction,
    ShellAction,
    WriteFileAction,
)

ACTIONS = {
    "claude": ('claude: "/fix ${ARG}"', ClaudeAction(prompt="/fix ${ARG}")),
    "shell": ('shell: "cargo test"', ShellAction(command="cargo test")),
    "legacy string": ("prodigy-code-review", ClaudeAction(prompt="/prodigy-code-review")),
    "legacy name": (
        "{name: prodigy-lint, args: [--fix]}",
        ClaudeAction(prompt="/prodigy-lint --fix"),
    ),
    "legacy command key": ('command: "/review"', ClaudeAction(prompt="/review")),
    "number as text": ("shell: 42", ShellAction(command="42")),
    "write_file": (
        "write_file: {path: out.json, content: '${map.results}', format: json, create_dirs: true}",
        WriteFileAction(path="out.json", content="${map.results}", format="json", create_dirs=True),
    ),
    "goal_seek": (
        "goal_seek: {goal: green, shell: make}",
        GoalSeekAction(config={"goal": "green", "shell": "make"}),
    ),
}


@pytest.mark.parametrize(("step_yaml", "action"), ACTIONS.values(), ids=ACTIONS.keys())
def test_each_action_spelling(tmp_path: Path, step_yaml: str, action: object) -> None:
    loaded = only_step(tmp_path, step_yaml).action
    assert type(loaded) is type(action)
    if isinstance(loaded, GoalSeekAction):
        assert dict(loaded.config) == {"goal": "green", "shell": "make"}
    else:
        assert loaded == action


def test_legacy_commands_default_to_commit_required_like_prodigy(tmp_path: Path) -> None:
    assert only_step(tmp_path, "prodigy-code-review").commit_required is True
    assert only_step(tmp_path, "prodigy-lint").commit_required is False
    assert only_step(tmp_path, "shell: make").commit_required is None


def test_name_next_to_an_action_is_a_display_name(tmp_path: Path) -> None:
    step = only_step(tmp_path, '{name: "Build", shell: make}')
    assert step.action == ShellAction(command="make")
    assert step.name == "Build"


def test_foreach_with_list_and_with_command(tmp_path: Path) -> None:
    listed = only_step(
        tmp_path, "foreach: {foreach: [a, b], parallel: true, do: [{shell: 'echo ${item}'}]}"
    )
    assert isinstance(listed.action, ForeachAction)
    assert listed.action.items == ("a", "b")
    assert listed.action.parallel == 10
    assert listed.action.do[0].action == ShellAction(command="echo ${item}")
    command = only_step(tmp_path, "foreach: {foreach: 'ls *.rs', parallel: 3, do: [{shell: x}]}")
    assert isinstance(command.action, ForeachAction)
    assert (command.action.command, command.action.items, command.action.parallel) == (
        "ls *.rs",
        None,
        3,
    )


def test_deprecated_test_step_is_shell_with_on_failure(tmp_path: Path) -> None:
    old = only_step(
        tmp_path, "test: {command: 'cargo test', on_failure: {claude: '/debug', max_attempts: 3}}"
    )
    new = only_step(
        tmp_path, "{shell: 'cargo test', on_failure: {claude: '/debug', max_attempts: 3}}"
    )
    assert old.action == new.action == ShellAction(command="cargo test")
    assert old.deprecated_test
    assert old.on_failure is not None and new.on_failure is not None
    assert [h.action for h in old.on_failure.handlers] == [
        h.action for h in new.on_failure.handlers
    ]
    assert old.on_failure.max_attempts == new.on_failure.max_attempts == 3
