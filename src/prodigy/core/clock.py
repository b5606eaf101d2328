"""The clock: UTC now, and the one timestamp format prodigy writes (RFC 3339, microseconds)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds; one fixed width so timestamps sort as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp() -> str:
    """Now, formatted as every stored and exported timestamp is."""
    return format_ts(utc_now())
