"""The one function that starts a process: own process group, streamed lines, no orphans."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from prodigy.core.errors import ProdigyError
from prodigy.runtime.proc_table import start_ticks
from prodigy.runtime.program_path import resolve
from prodigy.runtime.step_tracking import (
    MARKER_VARIABLE,
    StepTracker,
    current_tracker,
    new_marker,
)

LineCallback = Callable[[str], None]

# After the leader exits and its group is killed, pipes close at once unless a process that
# left the group (setsid) still holds them; we stop reading after this long.
_DRAIN_SECONDS = 1.0
_READ_CHUNK = 1 << 16


class ExecutableNotFoundError(ProdigyError):
    """The program to run does not exist on PATH or is not executable."""


@dataclass(frozen=True, slots=True)
class ProcessRequest:
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]  # the COMPLETE child environment (caller builds it)
    timeout: float | None = None  # seconds; None = no limit
    stdin: bytes | None = None  # None -> /dev/null
    grace_period: float = 5.0  # SIGTERM -> SIGKILL delay
    keep_output: bool = True  # False: don't accumulate stdout/stderr (callbacks still get lines)
    track: bool = False  # a step's process: recorded for crash recovery (see step_tracking)
    # Bounded output (issue 12 item 14): keep only the last `tail_bytes` of each stream in
    # memory, and append every byte to `<spool_dir>/stdout` and `<spool_dir>/stderr`.
    tail_bytes: int | None = None
    spool_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class ProcessResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration: float
    stdout_size: int = 0  # bytes the process wrote, kept or not
    stderr_size: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 20) -> str:
        """The last lines of stdout then stderr (stderr last: it usually says why)."""
        combined = self.stdout.splitlines() + self.stderr.splitlines()
        return "\n".join(combined[-lines:])


class _Hurry:
    """Second Ctrl-C: every pending and future termination skips its grace period."""

    def __init__(self) -> None:
        self.active = False
        self.waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


_HURRY = _Hurry()


def hurry() -> None:
    """Make pending and future terminations kill at once (safe from signal handlers)."""
    _HURRY.active = True
    for loop, event in list(_HURRY.waiters):
        with contextlib.suppress(RuntimeError):  # that loop is already closed
            loop.call_soon_threadsafe(event.set)


# With bounded output (`tail_bytes`), a line longer than this reaches the line callback in
# pieces: a step printing 200 MB without a newline must not make us hold all of it. (Agent
# streams keep whole lines: each is one JSON event.)
MAX_LINE_BYTES = 1 << 16


@dataclass(slots=True)
class _LineSink(asyncio.Protocol):
    """Receives one pipe's bytes, splits lines itself, keeps the text (or its tail)."""

    keep: bool
    callback: LineCallback | None
    done: asyncio.Future[None]
    tail: int | None = None  # keep only the last `tail` bytes
    spool: IO[bytes] | None = None  # every byte also goes here
    data: bytearray = field(default_factory=bytearray)
    partial: bytearray = field(default_factory=bytearray)
    error: BaseException | None = None
    size: int = 0

    def data_received(self, data: bytes) -> None:
        self.size += len(data)
        if self.spool is not None:
            self.spool.write(data)
        if self.keep:
            self.data += data
            if self.tail is not None and len(self.data) > 2 * self.tail:
                del self.data[: len(self.data) - self.tail]  # amortised: trim in halves
        if self.callback is None:
            return
        self.partial += data
        *lines, rest = self.partial.split(b"\n")
        self.partial = bytearray(rest)
        for line in lines:
            self._emit(bytes(line))
        while self.tail is not None and len(self.partial) > MAX_LINE_BYTES:
            self._emit(bytes(self.partial[:MAX_LINE_BYTES]))
            del self.partial[:MAX_LINE_BYTES]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.partial and self.callback is not None:
            self._emit(bytes(self.partial))
        self.partial.clear()
        if not self.done.done():
            self.done.set_result(None)

    def _emit(self, line: bytes) -> None:
        # A failing callback must not break the pipe; the error is raised after the process ends.
        if self.error is not None or self.callback is None:
            return
        try:
            self.callback(line.decode("utf-8", errors="replace"))
        except Exception as exc:  # noqa: BLE001 - kept and raised once the process has ended
            self.error = exc

    def text(self) -> str:
        data = self.data
        if self.tail is not None and len(data) > self.tail:
            data = data[len(data) - self.tail :]
            newline = data.find(b"\n")
            if 0 <= newline < len(data) - 1:
                data = data[newline + 1 :]  # start at a whole line
        return data.decode("utf-8", errors="replace")


async def run_process(
    request: ProcessRequest,
    *,
    on_stdout: LineCallback | None = None,
    on_stderr: LineCallback | None = None,
) -> ProcessResult:
    """Run one process in its own group; kill the whole group on timeout or cancellation."""
    tracker = current_tracker() if request.track else None
    if tracker is None:
        return await _run(request, on_stdout, on_stderr, None)
    marker = new_marker()
    tracker.starting(marker)  # before the spawn: a crash right after it leaves the marker
    request = replace(request, env={**request.env, MARKER_VARIABLE: marker})
    recorder: StepTracker = tracker

    def spawned(pid: int) -> None:
        recorder.spawned(marker, pid, start_ticks(pid))

    try:
        return await _run(request, on_stdout, on_stderr, spawned)
    finally:
        tracker.ended(marker)  # the group is gone by now (killed in _run's finally)


async def _run(
    request: ProcessRequest,
    on_stdout: LineCallback | None,
    on_stderr: LineCallback | None,
    on_spawn: Callable[[int], None] | None,
) -> ProcessResult:
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    with contextlib.ExitStack() as spools:
        out_spool = err_spool = None
        if request.spool_dir is not None:
            out_spool = spools.enter_context(_spool(request.spool_dir / "stdout"))
            err_spool = spools.enter_context(_spool(request.spool_dir / "stderr"))
        tail = request.tail_bytes
        out = _LineSink(request.keep_output, on_stdout, loop.create_future(), tail, out_spool)
        err = _LineSink(request.keep_output, on_stderr, loop.create_future(), tail, err_spool)
        proc, transports = await _spawn(request, out, err)
        if on_spawn is not None:
            try:
                on_spawn(proc.pid)
            except BaseException:
                _signal_group(proc.pid, signal.SIGKILL)  # unrecorded, it must not run on
                await _reap(proc)
                await _drain(out, err, transports)
                raise
        timed_out = await _supervise(proc, request, out, err, transports)
    for sink in (out, err):
        if sink.error is not None:
            raise sink.error
    stderr = err.text()
    if timed_out:
        separator = "\n" if stderr and not stderr.endswith("\n") else ""
        stderr += f"{separator}timed out after {request.timeout:g} s\n"
    assert proc.returncode is not None
    return ProcessResult(
        argv=request.argv,
        returncode=proc.returncode,
        stdout=out.text(),
        stderr=stderr,
        timed_out=timed_out,
        duration=time.monotonic() - started,
        stdout_size=out.size,
        stderr_size=err.size,
    )


async def _supervise(
    proc: asyncio.subprocess.Process,
    request: ProcessRequest,
    out: _LineSink,
    err: _LineSink,
    transports: list[asyncio.BaseTransport],
) -> bool:
    """Wait for the process (killing its group on timeout or cancellation), then read what
    is left in the pipes; True when it timed out."""
    timed_out = False
    try:
        try:
            await asyncio.wait_for(proc.wait(), request.timeout)
        except TimeoutError:
            timed_out = True
            await _terminate(proc, request.grace_period)
    except BaseException:
        await _terminate(proc, request.grace_period)
        raise
    finally:
        _signal_group(proc.pid, signal.SIGKILL)  # leftovers such as `sleep 100 &`
        await _drain(out, err, transports)
    return timed_out


def _spool(path: Path) -> IO[bytes]:
    """A private file (0600) for one stream's complete output."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    return os.fdopen(fd, "wb")


async def _spawn(
    request: ProcessRequest, out: _LineSink, err: _LineSink
) -> tuple[asyncio.subprocess.Process, list[asyncio.BaseTransport]]:
    """Start the child on our own pipes, so `wait()` returns at exit, not at pipe EOF."""
    if not request.argv:
        raise ProdigyError("cannot run an empty command; give at least the program name")
    if not request.cwd.is_dir():
        raise ProdigyError(
            f"cannot run {request.argv[0]!r}: working directory {request.cwd} does not exist"
        )
    loop = asyncio.get_running_loop()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        with _stdin_file(request.stdin) as stdin:
            proc = await _start(request, stdin, out_w, err_w)
    except FileNotFoundError as exc:
        _close(out_r, err_r)
        raise ExecutableNotFoundError(
            f"cannot run {request.argv[0]!r}: program not found on PATH; install it or fix PATH"
        ) from exc
    except PermissionError as exc:
        _close(out_r, err_r)
        raise ExecutableNotFoundError(
            f"cannot run {request.argv[0]!r}: permission denied; make it executable (chmod +x)"
        ) from exc
    except BaseException:
        _close(out_r, err_r)  # cancelled while starting: _start stopped what it started
        raise
    finally:
        _close(out_w, err_w)
    transports: list[asyncio.BaseTransport] = []
    pending = [out_r, err_r]
    try:
        for fd, sink in ((out_r, out), (err_r, err)):
            pipe = os.fdopen(fd, "rb", buffering=0)
            pending.remove(fd)
            transport, _ = await loop.connect_read_pipe(_factory(sink), pipe)
            transports.append(transport)
    except BaseException:
        # Cancelled while wiring the pipes: stopped as a running child is, then the pipes.
        await _terminate(proc, request.grace_period)
        _close(*pending)
        for opened in transports:
            opened.close()
        raise
    return proc, transports


async def _start(
    request: ProcessRequest, stdin: int | IO[bytes], out_w: int, err_w: int
) -> asyncio.subprocess.Process:
    """create_subprocess_exec, never abandoned half-way.

    The child runs before create_subprocess_exec returns. Cancelled in that window, asyncio
    kills the leader only: the rest of its group (`sleep 100 &`, an agent's tools) would
    outlive us. So a cancellation waits until the process exists, stops it as a running
    child is stopped (the group: SIGTERM, grace period, SIGKILL), then is raised.
    """
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *request.argv,
            executable=resolve(request.argv[0], request.env),
            cwd=request.cwd,
            env=dict(request.env),
            stdin=stdin,
            stdout=out_w,
            stderr=err_w,
            start_new_session=True,
        )
    )
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        while not starting.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(starting)  # a second cancel must not skip the kill
        if not starting.cancelled() and starting.exception() is None:
            await _terminate(starting.result(), request.grace_period)
        raise


def _factory(sink: _LineSink) -> Callable[[], _LineSink]:
    return lambda: sink


@contextlib.contextmanager
def _stdin_file(data: bytes | None) -> Iterator[int | IO[bytes]]:
    """stdin from an unlinked temp file: no writer task, no deadlock if the child never reads."""
    if data is None:
        yield subprocess.DEVNULL
        return
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.seek(0)
        yield handle


async def _terminate(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the group, wait up to `grace` for the leader (less after hurry()), SIGKILL.

    Descendants that left the group are signalled too: agent CLIs start their shell
    commands in a group (Gemini CLI: a session) of their own, which a group kill misses.
    They are found while the leader lives, before their parent dies and they are orphaned.
    """
    escaped = _escaped(proc.pid)
    _signal_group(proc.pid, signal.SIGTERM)
    _signal_groups(escaped, signal.SIGTERM)
    try:
        if grace > 0 and not _HURRY.active and proc.returncode is None:
            await _wait_or_hurry(proc, grace)
    finally:
        _signal_groups(escaped | _escaped(proc.pid), signal.SIGKILL)
        _signal_group(proc.pid, signal.SIGKILL)
        await _reap(proc)


def _escaped(leader: int) -> set[int]:
    """Process groups of `leader`'s live descendants other than its own (Linux /proc)."""
    children: dict[int, list[int]] = {}
    groups: dict[int, int] = {}
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return set()  # no /proc: only the group kill
    for entry in entries:
        name = entry.name
        if not name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue  # gone meanwhile
        # fields after the command name, which may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(name))
        groups[int(name)] = int(fields[2])
    found: set[int] = set()
    todo = [leader]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            if groups[child] != leader:
                found.add(groups[child])
    return found


def _signal_groups(pgids: set[int], sig: signal.Signals) -> None:
    own = os.getpgrp()
    for pgid in pgids - {own}:
        _signal_group(pgid, sig)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Wait for the SIGKILLed leader (milliseconds); a second cancel must not skip this."""
    waiter = asyncio.ensure_future(proc.wait())
    cancelled = False
    while not waiter.done():
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


async def _wait_or_hurry(proc: asyncio.subprocess.Process, grace: float) -> None:
    loop = asyncio.get_running_loop()
    hurried = asyncio.Event()
    entry = (loop, hurried)
    _HURRY.waiters.add(entry)
    waits = [asyncio.ensure_future(proc.wait()), asyncio.ensure_future(hurried.wait())]
    try:
        await asyncio.wait(waits, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    finally:
        _HURRY.waiters.discard(entry)
        for task in waits:
            task.cancel()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The kernel never reuses a pid while it names a live process group, so this is safe.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _drain(out: _LineSink, err: _LineSink, transports: list[asyncio.BaseTransport]) -> None:
    """Read what is left in the pipes; give up on pipes held open by escaped processes."""
    try:
        await asyncio.wait_for(asyncio.gather(out.done, err.done), _DRAIN_SECONDS)
    except TimeoutError:
        pass
    finally:
        for transport in transports:
            transport.close()


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def spawn_detached(argv: list[str], *, cwd: Path, env: Mapping[str, str], log_path: Path) -> int:
    """Start a process that outlives its starter; returns its pid.

    For work a user asked for from a long-lived server (the dashboard's retry and resume): the
    child gets its own session (a Ctrl-C of the server does not reach it), stdin from
    /dev/null, and stdout and stderr appended to `log_path`. A thread reaps it when it exits,
    so it never lingers as a zombie of the server.
    """
    if not argv:
        raise ProdigyError("cannot run an empty command; give at least the program name")
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise ExecutableNotFoundError(f"cannot run {argv[0]!r}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return proc.pid
