"""Running a use case on an event loop with prodigy's Ctrl-C contract.

First SIGINT/SIGTERM: cancel the run, which terminates the running step's process group
(SIGTERM, grace period, SIGKILL) and records the session as interrupted. A second signal
skips the grace period.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

from prodigy.core.errors import InterruptedRunError
from prodigy.runtime.process import hurry

T = TypeVar("T")
EXIT_SIGTERM = 143


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion; signals cancel it as described above."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            task.cancel()
        else:
            hurry()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        raise InterruptedRunError("interrupted") from None
    except InterruptedRunError as exc:
        if received and received[0] == signal.SIGTERM:
            exc.exit_code = EXIT_SIGTERM
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
