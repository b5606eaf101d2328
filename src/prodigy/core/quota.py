"""Usage-limit (quota) signals of agent CLIs: detection, the reset time, jitter and the ramp.

A quota hit is not a task failure: the account is out of allowance until a reset time the
provider names, in one of several wordings. Everything here is pure; the caller passes the
current time and any randomness.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prodigy.core.errors import ProdigyError

# Backoff when a quota message names no reset time we can read: 5, 10, 20, 40, then 60 minutes.
_BACKOFF_FIRST = timedelta(minutes=5)
_BACKOFF_MAX = timedelta(minutes=60)

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

# "Claude AI usage limit reached|1765000000" (older Claude Code)
_EPOCH_FORM = re.compile(r"usage limit reached\|(\d{9,11})", re.IGNORECASE)
# "You've hit your session limit · resets 7:41pm (UTC)", "5-hour limit reached ∙ resets 1am",
# "You've hit your weekly limit · resets Dec 10, 5:42pm (UTC)"
_RESETS_FORM = re.compile(
    r"resets\s+(?:(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?:(?P<year>\d{4}),?\s+)?)?(?:at\s+)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*\((?P<zone>[^)]+)\))?",
    re.IGNORECASE,
)
# Codex: "You've hit your usage limit… try again at Dec 8th, 2026 3:20 AM." and, when the
# reset is today, "You’ve hit your usage limit. Try again at 8:13 PM." (Codex 0.171.0)
_TRY_AGAIN_FORM = re.compile(
    r"try again (?:at|after)\s+(?:(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s+(?:(?P<year>\d{4}),?\s+)?)?(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*"
    r"(?P<ampm>[ap]\.?m\.?)?(?:\s*\((?P<zone>[^)]+)\))?",
    re.IGNORECASE,
)
# Gemini CLI: "… Please retry in 3600s." (a wait it judged too long to retry by itself)
_RETRY_IN_FORM = re.compile(r"retry in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)
_QUOTA_TEXT = re.compile(
    r"you['’]ve hit your (?:\w+[ -])*limit|you have hit your (?:\w+[ -])*limit"
    r"|usage limit reached|\b(?:session|weekly|daily|5-hour|opus|sonnet) limit reached"
    r"|usage_limit_reached|insufficient_quota|quota exceeded|exceeded your (?:current )?quota"
    r"|exhausted your (?:capacity|quota)|TerminalQuotaError",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class QuotaHit:
    """A provider said the account's allowance is used up until `resets_at` (None: unknown)."""

    resets_at: datetime | None
    limit_type: str | None = None  # five_hour, seven_day, ... as the provider names it
    message: str = ""


def hit_of(resets_at: float | None, limit_type: str | None, error: str, now: datetime) -> QuotaHit:
    """An agent's quota failure as a hit: the reset it reported (epoch seconds), else the one
    its error text names, else unknown (the caller backs off). `now` must be aware."""
    if resets_at is not None:
        return QuotaHit(datetime.fromtimestamp(resets_at, tz=UTC), limit_type, error)
    parsed = quota_from_text(error, now, now.tzinfo or UTC)
    if parsed is not None:
        return QuotaHit(parsed.resets_at, limit_type, error)
    return QuotaHit(None, limit_type, error)


class QuotaReachedError(ProdigyError):
    """A step outside the map phase (a MapReduce job's setup or reduce) was stopped by the
    agent's usage limit: not a failed step; the job waits, pauses or fails per policy."""

    def __init__(self, message: str, hit: QuotaHit) -> None:
        super().__init__(message)
        self.hit = hit


def is_quota_text(text: str) -> bool:
    """True when an agent's final text or error is a usage-limit (quota) answer."""
    return bool(_QUOTA_TEXT.search(text))


def quota_from_text(text: str, now: datetime, local_tz: tzinfo = UTC) -> QuotaHit | None:
    """The quota hit a message describes, with its reset time when the text names one.

    `now` must be timezone-aware; a reset written without a zone is read in `local_tz`
    (the machine's zone: Claude Code and Codex print local times).
    """
    if not is_quota_text(text):
        return None
    return QuotaHit(resets_at=parse_reset(text, now, local_tz), message=text.strip()[:500])


def quota_from_rate_limit_event(event: dict[str, object]) -> QuotaHit | None:
    """Claude Code's `rate_limit_event` with status `rejected`, else None."""
    info = event.get("rate_limit_info")
    if not isinstance(info, dict) or info.get("status") != "rejected":
        return None
    resets = info.get("resetsAt")
    limit_type = info.get("rateLimitType")
    return QuotaHit(
        resets_at=_from_epoch(resets),
        limit_type=limit_type if isinstance(limit_type, str) else None,
    )


def parse_reset(text: str, now: datetime, local_tz: tzinfo = UTC) -> datetime | None:
    """The reset time named in a quota message, as an aware datetime after `now`, or None."""
    epoch = _EPOCH_FORM.search(text)
    if epoch:
        return _from_epoch(int(epoch.group(1)))
    relative = _RETRY_IN_FORM.search(text)
    if relative:
        amount = float(relative.group(1))
        return now + timedelta(
            seconds=amount / 1000 if relative.group(2).lower() == "ms" else amount
        )
    match = _TRY_AGAIN_FORM.search(text) or _RESETS_FORM.search(text)
    if match is None:
        return None
    zone = _zone(match.group("zone"), local_tz)
    if zone is None:
        return None
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(zone)
    month_name = match.group("month")
    if month_name:
        month = _MONTHS.get(month_name[:3].lower())
        if month is None:
            return None
        year = int(match.group("year") or local_now.year)
        try:
            when = datetime(year, month, int(match.group("day")), hour, minute, tzinfo=zone)
        except ValueError:
            return None
        if match.group("year") is None and when < local_now - timedelta(days=1):
            when = when.replace(year=year + 1)  # "Jan 2" read on Dec 31
        return when.astimezone(UTC)
    when = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if when <= local_now:
        when += timedelta(days=1)
    return when.astimezone(UTC)


def backoff(consecutive_hits: int) -> timedelta:
    """Wait when no reset time can be read: 5 minutes, doubling per hit, at most 60."""
    steps = max(consecutive_hits, 1) - 1
    factor: int = 1 << min(steps, 8)
    return min(_BACKOFF_FIRST * factor, _BACKOFF_MAX)


def resume_time(
    hit: QuotaHit, now: datetime, consecutive_hits: int, jitter: timedelta, fraction: float
) -> datetime:
    """When to start again: the reset (or the backoff) plus `fraction` (0..1) of `jitter`."""
    base = hit.resets_at if hit.resets_at is not None else now + backoff(consecutive_hits)
    base = max(base, now)
    return base + jitter * min(max(fraction, 0.0), 1.0)


def ramp_limit(max_parallel: int, landed_since_resume: int) -> int:
    """Agents allowed at once after a quota wait: 1, then doubling with each success."""
    allowed: int = 1 << min(landed_since_resume, 20)
    return max(1, min(max_parallel, allowed))


def describe_warning(info: Mapping[str, object]) -> str:
    """One line for an `allowed_warning` info: how much of which limit, until when."""
    utilization = info.get("utilization")
    limit = info.get("rateLimitType")
    used = (
        f"{utilization:.0%} of the"
        if isinstance(utilization, int | float) and not isinstance(utilization, bool)
        else "most of the"
    )
    which = f"{limit} " if isinstance(limit, str) and limit else ""
    resets = _from_epoch(info.get("resetsAt"))
    when = f", resets {resets.strftime('%Y-%m-%d %H:%M UTC')}" if resets is not None else ""
    return f"usage warning: {used} {which}usage limit used{when}"


def _from_epoch(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    if seconds > 10**11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _zone(name: str | None, default: tzinfo) -> tzinfo | None:
    if not name:
        return default
    name = name.strip()
    if name.upper() in {"UTC", "GMT", "Z"}:
        return UTC
    offset = re.fullmatch(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", name, re.IGNORECASE)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


OnLimit = Literal["wait", "pause", "fail"]


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """The `quota:` block of a workflow, after CLI overrides."""

    on_limit: OnLimit = "wait"
    max_wait: timedelta = timedelta(hours=6)  # a reset further away: end paused instead
    jitter: timedelta = timedelta(seconds=60)  # random 0..jitter added to the reset time
