"""The workflows exec and batch generate, loaded by the real loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.errors import UsageError
from prodigy.core.exec_plan import batch_items, batch_workflow, exec_workflow, parse_command
from prodigy.core.workflow import ClaudeAction, ShellAction, Workflow, load_workflow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("claude: /lint src", {"claude": "/lint src"}),
        ("  claude:/x", {"claude": "/x"}),
        ("shell: make test", {"shell": "make test"}),
        ("/fix it", {"claude": "/fix it"}),
        ("cargo test", {"shell": "cargo test"}),
        ("echo claude: no", {"shell": "echo claude: no"}),
    ],
)
def test_parse_command_forms(text: str, expected: dict[str, str]) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "claude:", "shell:   "])
def test_empty_commands_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_command(text)


@given(st.text(min_size=1).filter(lambda t: t.strip() and not t.strip().startswith("/")))
def test_a_line_without_prefix_or_slash_is_a_shell_step_kept_verbatim(text: str) -> None:
    stripped = text.strip()
    if stripped.startswith(("claude:", "shell:")):
        return
    assert parse_command(text) == {"shell": stripped}


def _load(tmp_path: Path, data: dict[str, object]) -> Workflow:
    path = tmp_path / "generated.yml"
    path.write_text(json.dumps(data))
    return load_workflow(path).workflow


def test_exec_workflow_carries_retry_and_timeout(tmp_path: Path) -> None:
    workflow = _load(tmp_path, exec_workflow("/fake-flaky k 2", retry=4, timeout=9))
    (step,) = workflow.steps
    assert isinstance(step.action, ClaudeAction)
    assert step.action.prompt == "/fake-flaky k 2"
    assert step.retry is not None
    assert step.retry.attempts == 4
    assert step.timeout == 9


def test_exec_workflow_without_retry_has_no_policy(tmp_path: Path) -> None:
    (step,) = _load(tmp_path, exec_workflow("make")).steps
    assert isinstance(step.action, ShellAction)
    assert step.retry is None
    assert step.timeout is None


def test_batch_workflow_is_a_mapreduce_job_over_the_items_file(tmp_path: Path) -> None:
    items = tmp_path / "items.json"
    items.write_text(json.dumps(batch_items(["a.py", "b c.py"])))
    workflow = _load(tmp_path, batch_workflow("/types ${item.path}", str(items), parallel=3))
    assert workflow.mode == "mapreduce"
    assert workflow.map is not None
    assert workflow.map.max_parallel == 3
    assert workflow.map.input == str(items)
    first = workflow.map.agent_template[0]
    assert isinstance(first.action, ClaudeAction)
    assert batch_items(["x"]) == [{"item": "x", "path": "x"}]


@pytest.mark.parametrize(
    ("kw", "flag"), [({"parallel": 0}, "--parallel"), ({"retry": 0}, "--retry")]
)
def test_batch_rejects_zero_parallel_and_retry(kw: dict[str, int], flag: str) -> None:
    with pytest.raises(UsageError, match=flag):
        batch_workflow("true", "items.json", **kw)
