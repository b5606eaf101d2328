"""Plain-text rendering shared by the inspection commands: tables, sizes, times."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from prodigy.cli.terminal_text import terminal_safe


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


def short_reason(error: str, width: int = 80) -> str:
    """A failure's reason for one table cell: the reason first (`step N (...): reason`
    becomes `reason [step N]`), on one line, cut at the end and never inside an escape."""
    text = error.split("; full log:", maxsplit=1)[0].strip()
    reason = strip_step(text)
    if reason != text:
        text = f"{reason} [{text.split(' (', 1)[0]}]"
    text = " ".join(text.split())  # newlines and runs of spaces: one line
    text = terminal_safe(text)
    if len(text) <= width:
        return text
    cut = text[: width - 3]
    escape = cut.rfind("\\")
    if escape >= 0 and escape >= len(cut) - 4:  # do not end inside `\x1b` or `\n`
        cut = cut[:escape]
    return cut + "..."


# `step 1 (claude: /x) failed: claude: /x: claude failed (exit code 3): disk full`:
# the step part, and the label again when the reason repeats it.
_STEP = re.compile(r"^step \d+ \((.*?)\)(?: failed)?: (?:\1: )?(?=\S)", re.S)


def strip_step(error: str) -> str:
    """`step 2 (shell: make) failed: exit code 1` without its step part: `exit code 1`."""
    return _STEP.sub("", error, count=1)
