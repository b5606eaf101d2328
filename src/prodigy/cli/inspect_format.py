"""Plain-text rendering shared by the inspection commands: tables, sizes, times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines)


def human_bytes(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover - the loop always returns


def short_time(moment: datetime | None) -> str:
    """UTC minutes, e.g. '2026-11-25 15:02'; '-' when unknown."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def cost(usd: float) -> str:
    return f"${usd:.4f}"
