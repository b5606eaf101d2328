"""The quota wait's rules with a fixed clock: when to go on, when to end paused, and when
`resume` waits, refuses or goes on (docs/budgets-and-quotas.md)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from prodigy.app.session.quota_wait import (
    countdown,
    plan_wait,
    remaining_text,
    resume_wait,
    too_far,
)
from prodigy.core.clock import format_ts
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, ProgressEvent
from prodigy.core.quota import QuotaHit, QuotaPolicy, describe_warning
from prodigy.core.records import RunStatus, SessionRecord

NOW = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
RESET = NOW + timedelta(minutes=20)


def test_the_wait_ends_at_the_reset_plus_the_share_of_jitter() -> None:
    policy = QuotaPolicy(jitter=timedelta(seconds=60))
    plan = plan_wait(QuotaHit(RESET, "five_hour"), policy, 1, now=NOW, fraction=0.5)
    assert plan.resume_at == RESET + timedelta(seconds=30)
    assert plan.reason == "quota"
    assert plan.detail == "the agent hit the five_hour usage limit"


def test_without_a_reset_time_the_wait_backs_off_from_5_to_60_minutes() -> None:
    policy = QuotaPolicy(jitter=timedelta(0))
    waits = [
        plan_wait(QuotaHit(None), policy, hits, now=NOW, fraction=0.0).resume_at
        for hits in (1, 2, 3, 4, 5, 6)
    ]
    assert [(w - NOW).total_seconds() / 60 for w in waits if w] == [5, 10, 20, 40, 60, 60]
    assert "backing off" in plan_wait(QuotaHit(None), policy, 1, now=NOW).detail


def test_a_reset_beyond_max_wait_ends_paused() -> None:
    policy = QuotaPolicy(max_wait=timedelta(minutes=10), jitter=timedelta(0))
    near = plan_wait(QuotaHit(NOW + timedelta(minutes=9)), policy, 1, now=NOW, fraction=0)
    far = plan_wait(QuotaHit(RESET), policy, 1, now=NOW, fraction=0)
    assert not too_far(near, policy, NOW)
    assert too_far(far, policy, NOW)


def session(**changes: object) -> SessionRecord:
    record = SessionRecord(
        id="session-q",
        repo_key="k",
        workflow_path="wf.yml",
        workflow_hash="h",
        status=RunStatus.PAUSED,
        mode="mapreduce",
        worktree_path=None,
        branch=None,
        target_branch=None,
        started_at=format_ts(NOW),
        updated_at=format_ts(NOW),
        finished_at=None,
        error=None,
        iteration=1,
        job_id=None,
        pause_reason="quota",
        resume_at=format_ts(RESET),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def test_resume_before_the_reset_waits_under_the_wait_policy() -> None:
    assert resume_wait(session(), QuotaPolicy(), force=False, now=NOW) == RESET


def test_resume_before_the_reset_is_refused_under_pause_unless_forced() -> None:
    with pytest.raises(UsageError, match=r"until .* \(in 20m 00s\).*--force"):
        resume_wait(session(), QuotaPolicy(on_limit="pause"), force=False, now=NOW)
    assert resume_wait(session(), QuotaPolicy(on_limit="pause"), force=True, now=NOW) is None


def test_resume_refuses_a_wait_longer_than_max_wait() -> None:
    policy = QuotaPolicy(max_wait=timedelta(minutes=5))
    with pytest.raises(UsageError, match="--force"):
        resume_wait(session(), policy, force=False, now=NOW)


def test_resume_goes_on_after_the_reset_or_for_other_pauses() -> None:
    later = RESET + timedelta(seconds=1)
    assert resume_wait(session(), QuotaPolicy(on_limit="pause"), force=False, now=later) is None
    budget = session(pause_reason="budget", resume_at=None)
    assert resume_wait(budget, QuotaPolicy(on_limit="pause"), force=False, now=NOW) is None
    failed = session(status=RunStatus.FAILED)
    assert resume_wait(failed, QuotaPolicy(on_limit="pause"), force=False, now=NOW) is None


def test_remaining_time_reads_well() -> None:
    assert [remaining_text(s) for s in (7, 245, 3720)] == ["7s", "4m 05s", "1h 02m"]


def test_the_countdown_says_when_and_counts_down() -> None:
    seen: list[ProgressEvent] = []

    class Collect:
        def emit(self, event: ProgressEvent) -> None:
            seen.append(event)

    until = datetime.now(UTC) + timedelta(seconds=2.2)
    asyncio.run(countdown(Collect(), until, command="prodigy resume-job J"))
    texts = [e.text for e in seen if isinstance(e, Note)]
    assert texts[0].startswith("Usage limit reached: waiting until")
    assert "prodigy resume-job J" in texts[0]
    assert any(t.startswith("usage limit: resuming in") for t in texts[1:])
    assert datetime.now(UTC) >= until


def test_a_warning_line_names_the_share_the_limit_and_the_reset() -> None:
    info = {"utilization": 0.9, "rateLimitType": "five_hour", "resetsAt": 1796684732}
    assert describe_warning(info) == (
        "usage warning: 90% of the five_hour usage limit used, resets 2026-12-07 23:05 UTC"
    )
    assert describe_warning({}) == "usage warning: most of the usage limit used"
