"""Renders progress events: a live status line on a terminal, timestamped plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from prodigy.cli.terminal_text import terminal_safe
from prodigy.core.progress import (
    Note,
    ProgressEvent,
    RetryScheduled,
    SessionStarted,
    StepFinished,
    StepOutput,
    StepSkipped,
    StepStarted,
)

_NOTE_STYLE = {"info": "cyan", "warn": "yellow", "error": "red", "success": "green"}
_NOTE_MARK = {"info": "ℹ", "warn": "⚠", "error": "✗", "success": "✓"}


def is_problem(event: ProgressEvent) -> bool:
    """Errors and warnings go to stderr, progress and results to stdout."""
    if isinstance(event, Note):
        return event.level in ("warn", "error")
    return isinstance(event, RetryScheduled)


class PlainDisplay:
    """One timestamped line per event; for pipes, files and CI logs."""

    def __init__(
        self, verbosity: int = 0, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.verbosity = verbosity
        self.out = out or sys.stdout
        self.err = err or (sys.stderr if out is None else self.out)

    def _line(self, text: str, *, problem: bool = False) -> None:
        if problem:
            self.out.flush()  # what came before stays before, when both reach one terminal
        stream = self.err if problem else self.out
        stream.write(f"{time.strftime('%H:%M:%S')} {terminal_safe(text)}\n")
        stream.flush()

    def emit(self, event: ProgressEvent) -> None:
        text = describe(event, self.verbosity)
        if text is not None:
            self._line(text, problem=is_problem(event))

    def close(self) -> None:
        return None


class ConsoleDisplay:
    """What every rich display holds: the verbosity, stdout's console and stderr's."""

    def __init__(
        self,
        verbosity: int = 0,
        console: Console | None = None,
        err_console: Console | None = None,
    ) -> None:
        self.verbosity = verbosity
        self.console = console or Console()
        self.err_console = err_console or Console(stderr=True)
        self._start()

    def _start(self) -> None:
        """A display's own state and its live region, once the consoles are set."""


class LiveDisplay(ConsoleDisplay):
    """A spinner with the current step and its elapsed time; finished steps scroll above it."""

    def _start(self) -> None:
        self._current: StepStarted | None = None
        self._started = 0.0
        self._live = Live(console=self.console, refresh_per_second=8, transient=True)
        self._live.start()

    def _status(self) -> Spinner | Text:
        if self._current is None:
            return Text("")
        elapsed = time.monotonic() - self._started
        step = self._current
        label = f" [{step.index + 1}/{step.total}] {step.label}  {elapsed:0.0f}s"
        return Spinner("dots", text=Text(label, style="bold"))

    def emit(self, event: ProgressEvent) -> None:
        if isinstance(event, StepStarted):
            self._current, self._started = event, time.monotonic()
        elif isinstance(event, StepFinished | StepSkipped):
            self._current = None
        text = describe(event, self.verbosity)
        if text is not None:
            style = _NOTE_STYLE.get(event.level, "") if isinstance(event, Note) else ""
            console = self.err_console if is_problem(event) else self.console
            console.print(Text(text, style=style))
        self._live.update(self._status())

    def close(self) -> None:
        stop_live(self._live)


def stop_live(live: Live) -> None:
    """Stop a transient live region leaving nothing behind: after Ctrl-C the last
    spinner frame must not be printed again below the messages."""
    live.update(Text(""), refresh=True)
    live.stop()


def describe(event: ProgressEvent, verbosity: int) -> str | None:
    """The line shown for an event at a verbosity, or None to show nothing."""
    text = _describe(event, verbosity)
    return None if text is None else terminal_safe(text)


def _describe(event: ProgressEvent, verbosity: int) -> str | None:
    if isinstance(event, SessionStarted):
        return (
            f"Starting session: {event.session_id}\n"
            f"  workflow {event.workflow}\n"
            f"  Created worktree at: {event.worktree} (branch {event.branch},"
            f" from {event.target_branch})"
        )
    if isinstance(event, StepStarted):
        text = f"[{event.index + 1}/{event.total}] {event.label}"
        if verbosity >= 1 and event.command != event.label:
            text += "\n    $ " + event.command.replace("\n", "\n      ")
        if event.log_path:
            text += f"\n    log: {event.log_path}"
        return text
    if isinstance(event, StepOutput):
        return f"    {event.line}" if verbosity >= 2 else None
    if isinstance(event, StepFinished):
        mark = "✓" if event.success else "✗"
        detail = f" ({event.detail})" if event.detail else ""
        return f"  {mark} {event.label} [{event.duration:0.1f}s]{detail}"
    if isinstance(event, RetryScheduled):
        return (
            f"⚠ {event.label}: attempt {event.attempt}/{event.attempts} failed ({event.reason});"
            f" retrying in {event.delay:.2f} s"
        )
    if isinstance(event, StepSkipped):
        return f"  - {event.label} skipped: {event.reason}"
    return f"{_NOTE_MARK[event.level]} {event.text}"


def make_display(verbosity: int) -> PlainDisplay | LiveDisplay:
    """Live display on an interactive terminal, plain lines otherwise."""
    if sys.stdout.isatty():
        return LiveDisplay(verbosity)
    return PlainDisplay(verbosity)
