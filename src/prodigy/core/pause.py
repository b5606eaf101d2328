"""Why a run ended paused (its budget, a usage limit) and what the user runs to go on.

Pure: the paused ending of a MapReduce job and of a sequential session is one mechanism
(app/session/paused.py); this is the value both pass to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prodigy.core.clock import format_ts

QUOTA = "quota"
BUDGET = "budget"


@dataclass(frozen=True, slots=True)
class Pause:
    """`reason` is the session's pause_reason (quota, budget); `resume_at` when a quota
    resets (None for a budget: only a higher limit lets it go on)."""

    reason: str
    detail: str = ""
    resume_at: datetime | None = None
    hint: str = ""  # what to add to the resume command, e.g. "--max-cost-usd <higher>"

    @property
    def resume_at_text(self) -> str | None:
        return format_ts(self.resume_at) if self.resume_at is not None else None

    def summary(self, what: str, command: str) -> str:
        """The line that ends a paused run: why, until when, and what to run next."""
        why = f": {self.detail}" if self.detail else ""
        if self.resume_at is not None:
            when = self.resume_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            go_on = f"after {when} continue with: {command}"
        else:
            go_on = f"continue with: {command}"
        extra = f" {self.hint}" if self.hint else ""
        return f"{what} paused ({self.reason}){why}; {go_on}{extra}"
