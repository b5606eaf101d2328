"""Quota messages of Claude Code and Codex: detection, reset times with their zones, backoff."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from prodigy.core.quota import (
    QuotaHit,
    backoff,
    is_quota_text,
    parse_reset,
    quota_from_rate_limit_event,
    quota_from_text,
    ramp_limit,
    resume_time,
)

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You've hit your session limit · resets 7:41pm (UTC)", datetime(2026, 12, 7, 19, 41)),
        ("You've hit your session limit · resets 5pm (UTC)", datetime(2026, 12, 8, 17, 0)),
        (
            "You've hit your weekly limit · resets Dec 10, 5:42pm (UTC)",
            datetime(2026, 12, 10, 17, 42),
        ),
        ("Claude AI usage limit reached|1765135260", datetime(2025, 12, 7, 19, 21)),
        # Asia/Tbilisi is UTC+4: 4:20pm there is 12:20 UTC, already past today -> tomorrow
        (
            "You've hit your session limit · resets 4:20pm (Asia/Tbilisi)",
            datetime(2026, 12, 8, 12, 20),
        ),
        ("5-hour limit reached ∙ resets 1am", datetime(2026, 12, 8, 1, 0)),
        (
            "You've hit your usage limit. Upgrade to Pro or try again at Dec 8th, 2026 3:20 AM.",
            datetime(2026, 12, 8, 3, 20),
        ),
        ("You've hit your weekly limit · resets Jan 2, 9am (UTC)", datetime(2027, 1, 2, 9, 0)),
    ],
)
def test_reset_time_is_read_from_every_known_message_form(text: str, expected: datetime) -> None:
    assert is_quota_text(text)
    assert parse_reset(text, NOW) == expected.replace(tzinfo=UTC)


def test_a_reset_without_zone_is_read_in_the_local_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in December
    assert parse_reset("5-hour limit reached ∙ resets 11pm", NOW, berlin) == datetime(
        2026, 12, 7, 22, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "You've hit your session limit · resets soon",
        "You've hit your session limit · resets 7:41pm (Mars/Olympus)",
        "You've hit your session limit · resets 25:00",
    ],
)
def test_an_unreadable_reset_gives_none_but_still_a_quota_hit(text: str) -> None:
    hit = quota_from_text(text, NOW)
    assert hit is not None
    assert hit.resets_at is None


@pytest.mark.parametrize(
    "text",
    [
        "API Error: Request rejected (429) · rate limited",
        "error at line 429",
        "tests failed: 3",
    ],
)
def test_ordinary_errors_and_plain_rate_limits_are_not_quota(text: str) -> None:
    assert quota_from_text(text, NOW) is None


def test_rate_limit_event_rejected_is_a_quota_hit_with_its_epoch() -> None:
    event = {
        "type": "rate_limit_event",
        "rate_limit_info": {
            "status": "rejected",
            "resetsAt": 1796670060,
            "rateLimitType": "five_hour",
        },
    }
    hit = quota_from_rate_limit_event(event)
    assert hit == QuotaHit(datetime.fromtimestamp(1796670060, tz=UTC), "five_hour")
    warning = {"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning"}}
    assert quota_from_rate_limit_event(warning) is None


def test_backoff_doubles_from_five_to_sixty_minutes() -> None:
    assert [backoff(n).total_seconds() / 60 for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_resume_time_adds_the_jitter_fraction_and_never_lies_in_the_past() -> None:
    hit = QuotaHit(NOW + timedelta(hours=1))
    assert resume_time(hit, NOW, 1, timedelta(seconds=60), 0.5) == NOW + timedelta(
        hours=1, seconds=30
    )
    past = QuotaHit(NOW - timedelta(hours=1))
    assert resume_time(past, NOW, 1, timedelta(0), 0.9) == NOW
    unknown = QuotaHit(None)
    assert resume_time(unknown, NOW, 2, timedelta(0), 0.0) == NOW + timedelta(minutes=10)


def test_the_ramp_goes_from_one_agent_to_max_parallel() -> None:
    assert [ramp_limit(6, n) for n in range(5)] == [1, 2, 4, 6, 6]
