"""Jinja filters: how times, ages and money read on the pages."""

from __future__ import annotations

from jinja2 import Environment


def ago(seconds: float | None) -> str:
    """`8s`, `3m 05s`, `2h 10m`, `3d 4h`; a dash when unknown."""
    if seconds is None:
        return "–"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def money(value: float | None) -> str:
    return "–" if not value else f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def when(ts: str | None) -> str:
    """A stored RFC 3339 timestamp as `2026-11-25 15:50:59` (UTC)."""
    return "–" if not ts else ts[:19].replace("T", " ")


def clock(ts: str | None) -> str:
    """The time of day with milliseconds, `15:50:59.123`: events of one job share a date."""
    return "–" if not ts else ts[11:23]


def install(env: Environment) -> None:
    env.filters.update(ago=ago, money=money, when=when, clock=clock)
