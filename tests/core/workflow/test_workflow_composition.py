"""imports, extends, templates and parameters, resolved relative to the workflow file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.errors import UsageError
from prodigy.core.workflow import ShellAction, WorkflowLoadError, load_workflow, parse_param


def files(root: Path, **texts: str) -> None:
    for name, text in texts.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def shells(path: Path, **params: object) -> list[str]:
    steps = load_workflow(path, params=params or None).workflow.steps
    return [s.action.command for s in steps if isinstance(s.action, ShellAction)]


def test_extends_inherits_the_base_commands_when_the_child_has_none(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "workflows/base.yml": "name: base\nenv: {A: base, B: base}\ncommands: [{shell: echo base}]\n",
            "child.yml": "name: child\nextends: base\nenv: {B: child}\ncommands: []\n",
        },
    )
    workflow = load_workflow(tmp_path / "child.yml").workflow
    assert [s.action for s in workflow.steps] == [ShellAction(command="echo base")]
    assert workflow.name == "child"
    assert dict(workflow.env) == {"A": "base", "B": "child"}


def test_extends_keeps_the_child_commands_when_it_has_some(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "base.yml": "commands: [{shell: base}]\n",
            "c.yml": "extends: base\ncommands: [{shell: own}]\n",
        },
    )
    assert shells(tmp_path / "c.yml") == ["own"]


def test_imports_append_after_own_commands_in_order(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "a.yml": "commands: [{shell: a}]\n",
            "lib/b.yml": "commands: [{shell: b1}, {shell: b2}]\n",
            "main.yml": "imports: [{path: a.yml}, {path: lib/b.yml, selective: ['1']}]\ncommands: [{shell: own}]\n",
        },
    )
    assert shells(tmp_path / "main.yml") == ["own", "a", "b2"]


def test_imported_steps_keep_their_own_file_location(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "lib.yml": "commands:\n  - shell: lib\n",
            "main.yml": "imports: [{path: lib.yml}]\ncommands: []\n",
        },
    )
    step = load_workflow(tmp_path / "main.yml").workflow.steps[0]
    assert step.location.file.endswith("lib.yml")
    assert step.location.line == 2


def test_template_with_parameters(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "templates/ci.yml": """\
                parameters:
                  required: [{name: target, type: string, description: what to build}]
                commands:
                  - shell: "make ${target}"
                  - shell: "echo ${shell.output}"
                """,
            "wf.yml": "template: {name: ci, source: templates/ci.yml, with: {target: app}}\ncommands: [{shell: first}]\n",
        },
    )
    assert shells(tmp_path / "wf.yml") == ["first", "make app", "echo ${shell.output}"]
    assert shells(tmp_path / "wf.yml", target="cli") == [
        "first",
        "make cli",
        "echo ${shell.output}",
    ]


def test_template_override_replaces_its_commands(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "t.yml": "commands: [{shell: template}]\n",
            "wf.yml": "template: {name: t, source: t.yml, override: {commands: [{shell: replaced}]}}\ncommands: []\n",
        },
    )
    assert shells(tmp_path / "wf.yml") == ["replaced"]


PARAMS = """\
name: params
parameters:
  required:
    - {name: target, type: string, description: file}
  optional:
    - {name: greeting, type: string, description: text, default: hi}
    - {name: count, type: number, description: n}
commands:
  - shell: "echo ${greeting} > ${target}"
  - shell: "seq ${count}"
"""


def test_parameters_defaults_and_cli_values(tmp_path: Path) -> None:
    files(tmp_path, **{"p.yml": PARAMS + "defaults: {target: default.txt, count: 2}\n"})
    assert shells(tmp_path / "p.yml") == ["echo hi > default.txt", "seq 2"]
    assert shells(tmp_path / "p.yml", target="cli.txt", greeting="yo", count=5) == [
        "echo yo > cli.txt",
        "seq 5",
    ]


def test_missing_required_parameter_is_an_error_naming_it(tmp_path: Path) -> None:
    files(tmp_path, **{"p.yml": PARAMS})
    with pytest.raises(WorkflowLoadError) as info:
        load_workflow(tmp_path / "p.yml")
    (error,) = info.value.diagnostics
    assert "required parameter 'target' has no value" in error.message
    assert "--param target=VALUE" in error.message
    assert (error.line, error.yaml_path) == (4, "parameters.target")
    assert shells(tmp_path / "p.yml", target="x.txt")[0] == "echo hi > x.txt"


def test_parameter_types_are_checked(tmp_path: Path) -> None:
    files(tmp_path, **{"p.yml": PARAMS})
    with pytest.raises(WorkflowLoadError) as info:
        load_workflow(tmp_path / "p.yml", params={"target": "t", "count": "many"})
    assert "parameter 'count' must be number" in info.value.diagnostics[0].message


def test_whole_value_parameter_keeps_its_type(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "p.yml": "defaults: {secs: 30}\nparameters: {}\ncommands: [{shell: x, timeout: '${secs}'}]\n"
        },
    )
    assert load_workflow(tmp_path / "p.yml").workflow.steps[0].timeout == 30


def test_composition_errors(tmp_path: Path) -> None:
    files(
        tmp_path,
        **{
            "a.yml": "imports: [{path: b.yml}]\ncommands: []\n",
            "b.yml": "imports: [{path: a.yml}]\ncommands: []\n",
            "c.yml": "extends: nowhere\ncommands: []\n",
            "d.yml": "workflows: {sub: {source: missing.yml}}\ncommands: []\n",
        },
    )
    for name, expected in [
        ("a.yml", "circular composition: a.yml -> b.yml -> a.yml"),
        ("c.yml", "base workflow 'nowhere' not found"),
        ("d.yml", "sub-workflow file 'missing.yml' not found"),
    ]:
        with pytest.raises(WorkflowLoadError) as info:
            load_workflow(tmp_path / name)
        assert expected in str(info.value)


def test_params_reach_list_form_workflows_too(tmp_path: Path) -> None:
    files(tmp_path, **{"l.yml": "- shell: 'echo ${who} ${item.id}'\n"})
    assert shells(tmp_path / "l.yml", who="me") == ["echo me ${item.id}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=3", ("n", 3)),
        ("n=-3", ("n", -3)),
        ("x=1.5", ("x", 1.5)),
        ("b=true", ("b", True)),
        ("b=false", ("b", False)),
        ("s=True", ("s", "True")),
        ("s=inf", ("s", "inf")),
        ("s=a=b", ("s", "a=b")),
        ("s=", ("s", "")),
    ],
)
def test_parse_param_typing(text: str, expected: tuple[str, object]) -> None:
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=x", ""])
def test_parse_param_rejects_missing_key_or_equals(text: str) -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_param(text)


@given(st.integers())
def test_parse_param_round_trips_integers(n: int) -> None:
    assert parse_param(f"k={n}") == ("k", n)


@given(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1).filter(
        lambda s: "=" not in s and s.strip() == s
    ),
    st.text(),
)
def test_parse_param_key_and_value_split_at_first_equals(key: str, value: str) -> None:
    parsed_key, parsed_value = parse_param(f"{key}={value}")
    assert parsed_key == key
    if isinstance(parsed_value, str):
        assert parsed_value == value
