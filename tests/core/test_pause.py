"""The line that ends a paused run says why, until when, and what to run next."""

from __future__ import annotations

from datetime import UTC, datetime

from prodigy.core.errors import EXIT_PAUSED, PausedRunError
from prodigy.core.pause import Pause


def test_a_quota_pause_names_the_reset_and_the_command() -> None:
    pause = Pause("quota", "five_hour limit", datetime(2026, 12, 8, 3, 20, 5, tzinfo=UTC))
    line = pause.summary("Job mapreduce-1", "prodigy resume-job mapreduce-1")
    assert line == (
        "Job mapreduce-1 paused (quota): five_hour limit; after 2026-12-08 03:20:05 UTC"
        " continue with: prodigy resume-job mapreduce-1"
    )
    assert pause.resume_at_text == "2026-12-08T03:20:05.000000Z"


def test_a_budget_pause_has_no_reset_and_may_add_a_hint() -> None:
    pause = Pause("budget", "spent $5.00 of $5.00", hint="--max-cost-usd <higher>")
    line = pause.summary("Session s-1", "prodigy resume s-1")
    assert line == (
        "Session s-1 paused (budget): spent $5.00 of $5.00; continue with: prodigy resume s-1"
        " --max-cost-usd <higher>"
    )
    assert pause.resume_at_text is None


def test_paused_is_exit_75() -> None:
    assert EXIT_PAUSED == 75
    assert PausedRunError("x").exit_code == 75
