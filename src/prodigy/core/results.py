"""The outcome of running one step's action: one shape for shell, Claude and every other kind."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from prodigy.core.usage import Usage

# What a step's output costs to keep (issue 12 item 14): memory, `${shell.output}`, the
# store and checkpoints hold at most the last 64 KiB of each stream; the step's log file
# holds all of it. A named `capture:` gets the complete stdout up to CAPTURE_LIMIT bytes;
# more is an error naming the limit (write big output to a file and read what you need).
OUTPUT_TAIL_BYTES = 64 * 1024
CAPTURE_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """What an action did. Truthy when it succeeded."""

    success: bool
    exit_code: int
    stdout: str = ""  # a shell step's: at most its last OUTPUT_TAIL_BYTES (the log has all)
    stderr: str = ""
    # the complete stdout, only when a named `capture:` needs it (bounded by CAPTURE_LIMIT)
    full_stdout: str | None = None
    output_saved: bool = False  # the action already wrote `output_file:` (streamed)
    duration: float = 0.0
    timed_out: bool = False
    error: str = ""  # why it failed, in one line, for the summary
    usage: Usage = field(default_factory=Usage)
    log_path: str | None = None
    error_kind: str | None = None  # agent error kind: task, rate_limit, timeout, ...
    skipped: bool = False
    resets_at: float | None = None  # error kind quota: when the usage limit resets (epoch s)
    limit_type: str | None = None  # error kind quota: five_hour, seven_day ... if said

    def __bool__(self) -> bool:
        return self.success

    def recovered(self, note: str) -> StepResult:
        """The same result, now counted as a success (an on_failure handler repaired it)."""
        return replace(
            self, success=True, exit_code=0, error="", stderr="", stdout=self.stdout + note
        )

    def failed(self, error: str) -> StepResult:
        """The same result, now counted as a failure with this reason."""
        return replace(self, success=False, error=error)

    def tail(self, lines: int = 15) -> str:
        """The last lines of its output, stderr last, for failure messages."""
        text = "\n".join(part.rstrip("\n") for part in (self.stdout, self.stderr) if part.strip())
        return "\n".join(text.splitlines()[-lines:])
