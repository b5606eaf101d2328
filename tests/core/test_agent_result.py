"""AgentResult and the classification of failures into rate limit, overload and task."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodigy.core.agent_result import ERROR_KINDS, AgentResult, classify_failure
from prodigy.core.usage import Usage

CLAUDE_429 = (
    'API Error: 429 {"type":"error","error":{"type":"rate_limit_error",'
    '"message":"This request would exceed your account\'s rate limit."}}'
)
CLAUDE_529 = (
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
)


@pytest.mark.parametrize(
    ("texts", "kind"),
    [
        ((CLAUDE_429,), "rate_limit"),
        (("Claude AI usage limit reached|1767225600",), "rate_limit"),
        (("", "HTTP 429 Too Many Requests"), "rate_limit"),
        (("5-hour limit reached ∙ resets 3pm",), "rate_limit"),
        (("Weekly limit reached",), "rate_limit"),
        (("recursion limit reached in solver",), "task"),
        (("status code: 429",), "rate_limit"),
        (("Rate limit exceeded, retry later",), "rate_limit"),
        ((CLAUDE_529,), "overloaded"),
        (("", "Error: 529"), "overloaded"),
        (("The API is overloaded",), "overloaded"),
        ((CLAUDE_429 + "\n" + CLAUDE_529,), "rate_limit"),
        (("tests failed: 3 of 12",), "task"),
        (("syntax error at line 429 of parser.py",), "task"),
        (("processed 529 files",), "task"),
        (("the overloadedness metric is high",), "task"),
        (("",), "task"),
        ((), "task"),
    ],
)
def test_classify_failure(texts: tuple[str, ...], kind: str) -> None:
    assert classify_failure(*texts) == kind


def test_result_is_truthy_only_on_success_and_knows_transient_failures() -> None:
    ok = AgentResult(success=True, exit_code=0, text="done")
    limited = AgentResult(success=False, exit_code=1, error_kind="rate_limit")
    broken = AgentResult(success=False, exit_code=1, error_kind="task")
    assert ok and not limited and not broken
    assert limited.transient and not broken.transient and not ok.transient


def test_to_dict_is_json_ready() -> None:
    result = AgentResult(
        success=False,
        exit_code=3,
        text="nope",
        is_error=True,
        session_id="s-1",
        usage=Usage(turns=2, cost_usd=0.01, model="m"),
        log_path=Path("/tmp/x.jsonl"),
        error_kind="task",
        error_message="step: claude failed",
        stderr_tail="boom",
    )
    data = result.to_dict()
    assert data["log_path"] == "/tmp/x.jsonl"
    assert data["usage"] == Usage(turns=2, cost_usd=0.01, model="m").to_dict()
    assert data["error_kind"] == "task"
    assert AgentResult(success=True, exit_code=0).to_dict()["log_path"] is None


def test_error_kinds_are_the_documented_ones() -> None:
    assert set(ERROR_KINDS) == {
        "task",
        "rate_limit",
        "overloaded",
        "timeout",
        "no_result",
        "not_found",
        "interrupted",
        "quota",
        "auth",
        "budget",
    }
