"""Runs compute git context variables only when the workflow reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodigy.core.git_var_use import uses_git_variables
from prodigy.core.workflow import load_workflow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commands:\n  - shell: echo hi\n", False),
        ("commands:\n  - shell: echo ${step.files_added}\n", True),
        ("commands:\n  - claude: 'review ${workflow.commits:json}'\n", True),
        ("commands:\n  - shell: echo hi\n    when: '${step.commit_count} > 0'\n", True),
        ("commands:\n  - shell: echo $workflow\n", False),  # a shell variable, not ours
    ],
)
def test_uses_git_variables(tmp_path: Path, text: str, expected: bool) -> None:
    path = tmp_path / "wf.yml"
    path.write_text(text)
    assert uses_git_variables(load_workflow(path).workflow) is expected
