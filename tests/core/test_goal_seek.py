"""goal_seek settings and score extraction."""

from __future__ import annotations

import pytest

from prodigy.core.errors import WorkflowError
from prodigy.core.goal_seek import parse_goal_seek, score_of


def test_scores() -> None:
    assert score_of("running\nscore: 85\n") == 85.0
    assert score_of("score: 10\nScore = 92.5%\n") == 92.5
    assert score_of('{"completion_percentage": 70, "status": "incomplete"}') == 70.0
    assert score_of(" 42 \n") == 42.0
    assert score_of("all good") is None
    assert score_of("") is None


def test_settings_and_defaults() -> None:
    spec = parse_goal_seek({"goal": "g", "shell": "make", "validate": "./s"}, "wf.yml:3")
    assert (spec.kind, spec.threshold, spec.max_attempts, spec.fail_on_incomplete) == (
        "shell",
        100.0,
        3,
        True,
    )
    spec = parse_goal_seek(
        {"claude": "/x", "validate": {"claude": "/score"}, "timeout": 30, "threshold": 90},
        "here",
    )
    assert (spec.kind, spec.validate_kind, spec.timeout) == ("claude", "claude", 30.0)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"shell": "a", "claude": "b", "validate": "v"}, "exactly one of claude or shell"),
        ({"shell": "a"}, "needs `validate:`"),
        ({"shell": "a", "validate": "v", "threshold": 150}, "threshold must be a number 0-100"),
        ({"shell": "a", "validate": "v", "retries": 2}, "unknown keys retries"),
    ],
)
def test_errors_name_the_place(config: dict[str, object], message: str) -> None:
    with pytest.raises(WorkflowError, match=message) as info:
        parse_goal_seek(config, "wf.yml:7:5")
    assert str(info.value).startswith("wf.yml:7:5: ")
