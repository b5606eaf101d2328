"""`prodigy validate`: every problem at once, exit 0 valid / 2 invalid, and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodigy.cli.main import main

VALID = "name: ok\ncommands:\n  - shell: make\n"
WARNS = "name: ok\ncommands:\n  - shell: make\n    comit_required: true\n"
BROKEN = """\
name: j
mode: mapreduce
map:
  input: items.json
  max_parallel: 0
  agent_template:
    - sh: ls
    - claude: [a, b]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "wf.yml"
    path.write_text(text)
    return str(path)


def test_valid_workflow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, VALID)
    assert main(["validate", path]) == 0
    assert capsys.readouterr().out == f"✓ Workflow is valid: {path}\n"


def test_warnings_are_listed_but_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, WARNS)
    assert main(["validate", path]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"✓ Workflow is valid: {path}"]
    lines = ["", *captured.err.splitlines()]  # warnings go to stderr (issue 19)
    assert lines[1] == (
        f"  warning: {path}:4:5: commands[0].comit_required: unknown key 'comit_required' "
        "(ignored) (did you mean 'commit_required'?)"
    )


def test_strict_makes_warnings_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, WARNS)
    assert main(["validate", "--strict", path]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "✗ Workflow has 1 problem(s):"
    assert lines[1].startswith(f"  {path}:4:5: commands[0].comit_required: unknown key")


def test_all_problems_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BROKEN)
    assert main(["validate", path]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "✗ Workflow has 3 problem(s):",
        f"  {path}:5:17: map.max_parallel: must be at least 1, got 0",
        f"  {path}:7:7: map.agent_template[0]: step has no action: expected one of claude, shell, "
        "write_file, foreach (or a legacy command name) (did you mean 'shell'?)",
        f"  {path}:8:15: map.agent_template[1].claude: expected a string, got a list",
    ]


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BROKEN)
    assert main(["validate", "--json", path]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert [d["yaml_path"] for d in report["diagnostics"]] == [
        "map.max_parallel",
        "map.agent_template[0]",
        "map.agent_template[1].claude",
    ]
    first = report["diagnostics"][1]
    assert first == {
        "file": path,
        "line": 7,
        "column": 7,
        "yaml_path": "map.agent_template[0]",
        "message": first["message"],
        "suggestion": "shell",
        "severity": "error",
    }
    assert main(["validate", "--json", write(tmp_path, VALID)]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yml")]) == 2
    out = capsys.readouterr().err
    assert "✗ Workflow has 1 problem(s):" in out
    assert "cannot read workflow file" in out


def test_an_unknown_agent_is_a_problem_where_it_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "name: x\nagent: codexx\ncommands:\n  - claude: /hi\n")
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:1: agent: unknown agent 'codexx'; known agents: claude, codex" in err
    step = write(tmp_path, "name: x\ncommands:\n  - claude: /hi\n    agent: gemeni\n")
    assert main(["validate", step]) == 2
    assert "commands[0].agent: unknown agent 'gemeni'" in capsys.readouterr().err
    good = write(tmp_path, "name: x\nagent: codex\ncommands:\n  - claude: /hi\n")
    assert main(["validate", good]) == 0
