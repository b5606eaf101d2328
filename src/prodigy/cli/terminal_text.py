"""Text from items and agents made safe to print: its own module so the listings
(`sessions`, `dlq`, `events`) can use it without importing rich with the live display."""

from __future__ import annotations

import re

# C0 controls except newline and tab, DEL and C1: text from items and agents must not
# recolour, retitle or overwrite the user's terminal, so these are shown escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` with control characters written as escapes (`\\x1b`, `\\r`); newlines kept."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
