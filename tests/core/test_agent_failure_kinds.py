"""Failure kinds and reset times read from the words Codex and Gemini CLI use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prodigy.core.agent_result import classify_agent_failure
from prodigy.core.quota import parse_reset

NOW = datetime(2026, 12, 7, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You’ve hit your usage limit. Try again at 8:13 PM.", datetime(2026, 12, 7, 20, 13)),
        ("You've hit your usage limit. Try again at 7:05 AM.", datetime(2026, 12, 8, 7, 5)),
        (
            "You've hit your usage limit… try again at Dec 8th, 2026 3:20 AM.",
            datetime(2026, 12, 8, 3, 20),
        ),
        ("try again at 21:40", datetime(2026, 12, 7, 21, 40)),
    ],
)
def test_codex_wall_clock_times(text: str, expected: datetime) -> None:
    assert parse_reset(text, NOW) == expected.replace(tzinfo=UTC)


def test_gemini_retry_delay() -> None:
    text = "[API Error: You have hit your usage limit. Please retry in 3600s.]"
    assert parse_reset(text, NOW) == NOW + timedelta(hours=1)


def test_no_time_said_is_none() -> None:
    assert parse_reset("You've hit your usage limit.", NOW) is None
    assert parse_reset("try again at 25:99", NOW) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("You’ve hit your usage limit. Try again at 8:32 PM.", "quota"),
        ("[API Error: x. Please retry in 3600s.]\nPlease wait and try again later.", "quota"),
        ("insufficient_quota: You exceeded your current quota", "quota"),
        ("exceeded retry limit, last status: 429 Too Many Requests", "rate_limit"),
        ("[API Error: boom]\nPlease wait and try again later.", "rate_limit"),
        ("unexpected status 401 Unauthorized: Incorrect API key provided", "auth"),
        ("[API Error: API key not valid. Please pass a valid API key.]", "auth"),
        ("the tests broke at line 401", "task"),
        ("exceeded retry limit, last status: 529", "overloaded"),
        (
            "We’re currently experiencing high demand, which may cause temporary errors.",
            "overloaded",
        ),
        ('[API Error: {"error":{"code":503,"status":"UNAVAILABLE"}}]', "overloaded"),
        (
            "unexpected status 401 Unauthorized: scripted model server: injected HTTP 401",
            "auth",
        ),
        ('[API Error: {"error":{"code":401,"status":"UNAUTHENTICATED"}}]', "auth"),
        ('[API Error: {"error":{"code":500,"status":"INTERNAL"}}]', "task"),
    ],
)
def test_agent_failures_are_classified(text: str, kind: str) -> None:
    assert classify_agent_failure(text) == kind
