"""Running the dashboard with uvicorn on a socket we already bound."""

from __future__ import annotations

import socket
import threading
from types import FrameType

import uvicorn
from starlette.applications import Starlette

# Open event streams never end by themselves: on Ctrl-C give them this long, then close.
SHUTDOWN_GRACE_S = 1


class _Server(uvicorn.Server):
    """Tells the open event streams to end as soon as a stop signal arrives."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self._stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._stopping.set()
        super().handle_exit(sig, frame)


def serve(app: Starlette, sock: socket.socket, stopping: threading.Event) -> None:
    """Serve until SIGINT/SIGTERM. uvicorn re-raises the signal after shutting down, so
    Ctrl-C ends in the usual KeyboardInterrupt (exit 130). `stopping` is the event the
    app's streams watch (Settings.stopping)."""
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,  # request lines would show the ?token= of the first request
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    _Server(config, stopping).run(sockets=[sock])
