"""Which running processes belong to which step, so that a crash never runs a step twice.

A step runs in its own process session (so a Ctrl-C at the terminal reaches prodigy, which
then stops it in order). The price: a SIGKILL of prodigy, even of its whole process group,
leaves the step running. So every tracked step process is recorded before it starts (a
marker, also put in its environment as PRODIGY_STEP_MARKER) and after (its process group and
the leader's start time); the next resume stops what is recorded before anything runs again.
A recycled pid is never signalled: a group counts only while its leader has the recorded
start time, or, with the leader gone, while a member still carries the marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from prodigy.runtime.proc_table import live_processes

MARKER_VARIABLE = "PRODIGY_STEP_MARKER"
_SETTLE = 5.0  # seconds to wait for SIGKILLed processes to disappear


class StepTracker(Protocol):
    """Where step processes are recorded (the store, in the app)."""

    def starting(self, marker: str) -> None: ...
    def spawned(self, marker: str, pgid: int, start_ticks: int | None) -> None: ...
    def ended(self, marker: str) -> None: ...


_TRACKER: ContextVar[StepTracker | None] = ContextVar("prodigy_step_tracker", default=None)


@contextlib.contextmanager
def tracking(tracker: StepTracker) -> Iterator[None]:
    """Record every tracked process started in this context (and tasks it creates)."""
    token = _TRACKER.set(tracker)
    try:
        yield
    finally:
        _TRACKER.reset(token)


def current_tracker() -> StepTracker | None:
    return _TRACKER.get()


def new_marker() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class RecordedStep:
    marker: str
    pgid: int | None
    start_ticks: int | None


def step_processes(steps: Iterable[RecordedStep]) -> set[int]:
    """Live processes of the recorded steps: carrying a marker, or in a verified group."""
    procs = live_processes()
    found: set[int] = set()
    for step in steps:
        tagged = {p.pid for p in procs if p.has_variable(f"{MARKER_VARIABLE}={step.marker}")}
        found |= tagged
        if step.pgid is None:
            continue
        leader = next((p for p in procs if p.pid == step.pgid), None)
        if leader is not None:
            ours = leader.start_ticks == step.start_ticks
        else:  # the leader exited; its group id cannot be reused while a member lives
            ours = any(p.pgrp == step.pgid for p in procs if p.pid in tagged)
        if ours:
            found |= {p.pid for p in procs if p.pgrp == step.pgid}
    found.discard(os.getpid())
    return found


async def stop_steps(steps: list[RecordedStep], grace: float) -> list[int]:
    """SIGTERM every process of the recorded steps, wait up to `grace`, SIGKILL what is left
    (and what started meanwhile), and wait until they are gone. Returns the pids stopped."""
    stopped: set[int] = set()
    targets = step_processes(steps)
    if not targets:
        return []
    _signal(targets, signal.SIGTERM)
    stopped |= targets
    deadline = time.monotonic() + grace
    while step_processes(steps) and time.monotonic() < deadline:  # noqa: ASYNC110 - polled
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + _SETTLE
    while (left := step_processes(steps)) and time.monotonic() < deadline:
        _signal(left, signal.SIGKILL)
        stopped |= left
        await asyncio.sleep(0.05)
    return sorted(stopped)


def _signal(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
