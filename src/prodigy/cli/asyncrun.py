"""Running a use case on an event loop with prodigy's Ctrl-C contract.

First SIGINT/SIGTERM/SIGHUP: cancel the run, which terminates the running step's process
group (SIGTERM, grace period, SIGKILL) and records the session as interrupted. A second signal
skips the grace period; one that comes once the run has ended changes nothing (the exit
status stays the first signal's). SIGHUP (the terminal was closed) is a stop request like
SIGTERM: left at its default it would end prodigy at once and leave every step and agent
running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

from prodigy.core.errors import InterruptedRunError
from prodigy.runtime import child_watch
from prodigy.runtime.process import hurry

T = TypeVar("T")
EXIT_SIGTERM = 143
EXIT_SIGHUP = 129
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_EXIT_CODES = {signal.SIGTERM: EXIT_SIGTERM, signal.SIGHUP: EXIT_SIGHUP}


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion; signals cancel it as described above."""
    child_watch.install()  # no thread per child process on Python 3.11
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if signum == signal.SIGHUP:
            _detach_from_closed_terminal()
        if len(received) == 1:
            task.cancel()
        else:
            hurry()

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        raise InterruptedRunError("interrupted") from None
    except InterruptedRunError as exc:
        if received and received[0] in _EXIT_CODES:
            exc.exit_code = _EXIT_CODES[signal.Signals(received[0])]
        raise
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)
            if received:
                _after_the_run(signum)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _after_the_run(signum: int) -> None:
    """The run ended because of a signal and prodigy only reports and exits now: one more
    (a second Ctrl-C while the resume hint prints) must not kill it with another exit status
    than the first signal's. SIG_IGN, not a Python handler: interpreter shutdown resets
    those to the default, which kills. A late SIGHUP still detaches from the closed terminal.
    """
    if signum == signal.SIGHUP:
        signal.signal(signum, lambda _sig, _frame: _detach_from_closed_terminal())
    else:
        signal.signal(signum, signal.SIG_IGN)


def _detach_from_closed_terminal() -> None:
    """After a hangup, writes to the terminal fail (EIO) and would break the graceful stop;
    output still bound to a terminal goes to /dev/null instead (pipes and files are kept)."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            if os.isatty(fd):
                os.dup2(null, fd)
        os.close(null)
