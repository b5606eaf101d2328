"""Waiting out an agent's usage limit (quota), for a MapReduce job and a sequential session.

When a run waits, the session is `paused` (reason quota, `resume_at`) in the store for the
whole wait, so `sessions ls` shows it and a crash (SIGKILL) leaves it resumable: `resume`
then waits out what is left of the same wait. A live countdown on stderr says when the run
goes on; Ctrl-C leaves the session paused. See docs/budgets-and-quotas.md.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

from prodigy.core.clock import format_ts, utc_now
from prodigy.core.errors import UsageError
from prodigy.core.pause import QUOTA, Pause
from prodigy.core.progress import Note, Reporter
from prodigy.core.quota import QuotaHit, QuotaPolicy, resume_time
from prodigy.core.records import RunStatus, SessionRecord


def plan_wait(
    hit: QuotaHit,
    policy: QuotaPolicy,
    hits_in_row: int,
    *,
    now: datetime | None = None,
    fraction: float | None = None,
) -> Pause:
    """When to go on after `hit`: the reset (or the 5 -> 60 min backoff) plus jitter."""
    now = now or utc_now()
    share = random.random() if fraction is None else fraction  # noqa: S311 - jitter, not secrecy
    until = resume_time(hit, now, hits_in_row, policy.jitter, share)
    limit = f"the {hit.limit_type} usage limit" if hit.limit_type else "the usage limit"
    reset = "" if hit.resets_at is not None else " (no reset time given: backing off)"
    return Pause(QUOTA, f"the agent hit {limit}{reset}", until)


def too_far(pause: Pause, policy: QuotaPolicy, now: datetime | None = None) -> bool:
    """A reset further away than `quota.max_wait`: end paused instead of waiting."""
    if pause.resume_at is None:
        return False
    return pause.resume_at - (now or utc_now()) > policy.max_wait


def remaining_text(seconds: float) -> str:
    """`1h 02m`, `4m 05s`, `7s`."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _interval(remaining: float) -> float:
    # a line a second near the end, rarer when the reset is far away
    if remaining > 600:
        return 60.0
    if remaining > 60:
        return 10.0
    return 1.0


async def countdown(
    reporter: Reporter,
    until: datetime,
    *,
    command: str,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Show a countdown to `until` on stderr and return when it is reached."""
    left = (until - clock()).total_seconds()
    when = until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    reporter.emit(
        Note(
            "warn",
            f"Usage limit reached: waiting until {when} (in {remaining_text(left)}). Ctrl-C"
            f" leaves the session paused; continue later with: {command}",
        )
    )
    while left > 0:
        await asyncio.sleep(min(left, _interval(left)))
        left = (until - clock()).total_seconds()
        if left > 0.5:
            reporter.emit(Note("warn", f"usage limit: resuming in {remaining_text(left)}"))


def resume_wait(
    session: SessionRecord, policy: QuotaPolicy, *, force: bool, now: datetime | None = None
) -> datetime | None:
    """Whether `resume` of a session paused by a usage limit goes on now (None) or first
    waits until the returned time (policy `wait`, the reset within `max_wait`: a run that
    was waiting when it died or was interrupted). Raises UsageError when the reset is still
    ahead and the policy is not to wait, unless `force`."""
    if session.status is not RunStatus.PAUSED or session.pause_reason != QUOTA or force:
        return None
    until = _parse(session.resume_at)
    now = now or utc_now()
    if until is None or until <= now:
        return None
    left = until - now
    if policy.on_limit == "wait" and left <= policy.max_wait:
        return until
    raise UsageError(
        f"{session.id} is paused by a usage limit until {format_ts(until)} (in"
        f" {remaining_text(left.total_seconds())}); resuming now would hit the limit again."
        " Wait for the reset, or resume anyway with --force."
    )


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "countdown",
    "plan_wait",
    "remaining_text",
    "resume_wait",
    "too_far",
]
