"""What a stored session means right now: live or crashed, resumable, and how to resume it.

Shared by the inspection commands (`sessions`, `checkpoints`, `worktree`, `logs`); the
store says what was recorded, the session's lock file says whether a process still runs it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prodigy.app.paths import locks_dir
from prodigy.core.errors import UsageError
from prodigy.core.records import RunStatus, SessionRecord
from prodigy.runtime.locks import HolderInfo, UnsafeLockNameError, holder, lock_path

CRASHED = "crashed"  # shown for a session recorded as running whose process is gone
UNMERGED = "unmerged"  # shown for a completed session whose merge back failed
NOT_MERGED = "not merged: "  # how such a session's error starts (set by the merge back)
FINAL = frozenset({RunStatus.COMPLETED, RunStatus.CANCELLED})


def live_holder(home: Path, session_id: str) -> HolderInfo | None:
    """The live process holding the session's lock, or None when nobody runs it."""
    try:
        return holder(lock_path(locks_dir(home), session_id))
    except UnsafeLockNameError:
        return None  # such an id was never locked by us


def display_status(session: SessionRecord, live: bool) -> str:
    """The stored status, except `crashed` for a running session with no live process and
    `unmerged` for a completed one whose merge back failed."""
    if session.status is RunStatus.RUNNING and not live:
        return CRASHED
    if is_unmerged(session):
        return UNMERGED
    return str(session.status)


def is_unmerged(session: SessionRecord) -> bool:
    """Completed, but its merge back failed: its work waits for `prodigy worktree merge`."""
    return session.status is RunStatus.COMPLETED and (session.error or "").startswith(NOT_MERGED)


def is_resumable(session: SessionRecord, live: bool) -> bool:
    """Failed, interrupted, paused, crashed and stopped-while-merging sessions can be
    resumed; live and final ones cannot (a session waiting out a quota is live)."""
    if session.status in (RunStatus.RUNNING, RunStatus.MERGING, RunStatus.PAUSED):
        return not live
    return session.status in (RunStatus.FAILED, RunStatus.INTERRUPTED)


def resume_command(session: SessionRecord) -> str:
    """The exact command that continues this session."""
    # One command for every kind of session: `resume` continues a MapReduce job too
    # (`resume-job JOB` stays as its long form).
    return f"prodigy resume {session.id}"


def parse_age(text: str) -> timedelta:
    """`30m`, `2h`, `7d` (also `90s`, `1h30m`) as a timedelta; raises UsageError otherwise."""
    # Imported here: the prodigy.core.workflow package loads the whole workflow model,
    # which `sessions ls` and the other listings never need.
    from prodigy.core.workflow.durations import parse_humantime

    seconds = parse_humantime(text)
    if seconds is None or seconds < 0:
        raise UsageError(
            f"--older-than {text!r}: expected a duration such as 30m, 2h or 7d (units: s, m, h, d)"
        )
    return timedelta(seconds=seconds)


def parse_ts(text: str | None) -> datetime | None:
    """A stored RFC 3339 timestamp as an aware datetime; None when missing or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def session_age_ts(session: SessionRecord) -> datetime | None:
    """When the session last did anything: finished, else last updated, else started."""
    return parse_ts(session.finished_at or session.updated_at or session.started_at)
