"""Run an agent CLI that prints one JSON event per line: the part Codex and Gemini share.

Each backend supplies its argv, its extra environment and an event parser; this module finds
the executable, starts it in the step's worktree with stdin closed, saves every stdout line
(masked) to the log as it arrives, feeds the JSON ones to the parser, echoes what the parser
says, and stops the whole process group on timeout or cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import IO, Any, Protocol

from prodigy.core.agent_result import AgentResult
from prodigy.core.errors import UsageError
from prodigy.runtime.agents.base import AgentRequest
from prodigy.runtime.agents.stream_json import parse_record
from prodigy.runtime.private_files import open_private
from prodigy.runtime.process import (
    ExecutableNotFoundError,
    ProcessRequest,
    ProcessResult,
    run_process,
)

STDERR_TAIL_LINES = 40
DETAIL_CHARS = 500
# The record that ends a run's stream: Claude Code's and Gemini CLI's `result`, the end of
# Codex's one `exec` turn. A log reader following a live log stops after one of them.
FINAL_EVENTS = frozenset({"result", "turn.completed", "turn.failed"})
# Exit statuses of a CLI killed by Ctrl-C or SIGTERM from outside (negative: by signal).
INTERRUPTED = frozenset({-2, -15, 130, 143})


class AgentCliNotFoundError(UsageError):
    """An agent's executable does not exist on the child's PATH."""


class EventParser(Protocol):
    """Folds a CLI's JSON events; returns the live one-liners each event deserves."""

    def feed(self, record: Mapping[str, Any]) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class CliOutcome:
    """A finished CLI run: the process result and the end of its stderr."""

    process: ProcessResult
    stderr_tail: str
    over_cap: bool = False  # stopped by prodigy: its usage reached the run's spending cap


def resolve(executable: str, env: Mapping[str, str], label: str, what: str, hint: str) -> str:
    """The path of `executable` on the PATH of `env`; raises AgentCliNotFoundError naming `hint`."""
    found = shutil.which(executable, path=env.get("PATH", ""))
    if found is None:
        raise AgentCliNotFoundError(
            f"{label}: {what} executable {executable!r} not found on PATH; {hint}"
        )
    return found


async def run_cli(
    argv: tuple[str, ...],
    request: AgentRequest,
    env: Mapping[str, str],
    parser: EventParser,
    grace_period: float,
    *,
    over_cap: Callable[[], bool] | None = None,
) -> CliOutcome:
    """Run `argv` for `request`; raises ExecutableNotFoundError if it vanished meanwhile.

    `over_cap` is asked after each event: once it says True, the CLI's whole process group
    is stopped (CLIs without a spending flag are held to a budget this way)."""
    stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    log = open_private(request.log_path) if request.log_path is not None else None
    tripped = asyncio.Event()
    began = time.monotonic()
    try:
        recorder = _Recorder(log, request, parser, over_cap, tripped)
        process = ProcessRequest(
            argv=argv,
            cwd=request.cwd,
            env=env,
            timeout=request.timeout,
            grace_period=grace_period,
            keep_output=False,  # the stream is parsed and logged line by line instead
        )
        running = run_process(process, on_stdout=recorder.feed, on_stderr=stderr.append)
        if over_cap is None:
            outcome = await running
        else:
            outcome = await _until_tripped(running, tripped) or ProcessResult(
                argv=argv,
                returncode=-signal.SIGTERM,
                stdout="",
                stderr="",
                timed_out=False,
                duration=time.monotonic() - began,
            )
    finally:
        if log is not None:
            log.close()
    return CliOutcome(outcome, "\n".join(stderr), over_cap=tripped.is_set())


async def _until_tripped(
    running: Coroutine[Any, Any, ProcessResult], tripped: asyncio.Event
) -> ProcessResult | None:
    """The process's result, or None when `tripped` fired first (the group is then killed:
    cancelling run_process terminates it)."""
    task = asyncio.ensure_future(running)
    trip = asyncio.ensure_future(tripped.wait())
    try:
        done, _ = await asyncio.wait({task, trip}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        trip.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise
    trip.cancel()
    if task in done:
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
    return None


def not_found(message: str) -> AgentResult:
    return AgentResult(
        success=False, exit_code=None, is_error=True, error_kind="not_found", error_message=message
    )


def shorten(text: str) -> str:
    text = text.strip()
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


class _Recorder:
    def __init__(
        self,
        log: IO[str] | None,
        request: AgentRequest,
        parser: EventParser,
        over_cap: Callable[[], bool] | None = None,
        tripped: asyncio.Event | None = None,
    ) -> None:
        self._log, self._request, self._parser = log, request, parser
        self._over_cap, self._tripped = over_cap, tripped

    def feed(self, line: str) -> None:
        if self._log is not None:
            mask = self._request.mask
            self._log.write((line if mask is None else mask(line)) + "\n")
            self._log.flush()  # so the log can be tailed while the agent works
        record = parse_record(line)
        if record is None:
            return
        for text in self._parser.feed(record):
            if self._request.on_text is not None:
                self._request.on_text(text)
        if self._over_cap is not None and self._tripped is not None and self._over_cap():
            self._tripped.set()


__all__ = [
    "FINAL_EVENTS",
    "INTERRUPTED",
    "AgentCliNotFoundError",
    "CliOutcome",
    "EventParser",
    "ExecutableNotFoundError",
    "not_found",
    "resolve",
    "run_cli",
    "shorten",
]
