"""The usage of everything one step ran: its action and its retries, `on_failure` handlers,
`validate:` commands and follow-ups, so the step's usage record counts every agent call
(a budget must see them all: docs/budgets-and-quotas.md).

`run_step` opens a tally for a top-level step; steps it runs on its own behalf add to it.
A context variable, so parallel map agents (each its own asyncio task) keep their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prodigy.core.usage import Usage

_OPEN: ContextVar[list[Usage] | None] = ContextVar("prodigy_step_usage", default=None)


def add_usage(usage: Usage) -> None:
    """An agent call of the current step finished."""
    tally = _OPEN.get()
    if tally is not None:
        tally.append(usage)


def nested() -> bool:
    """True inside a step that is run on another step's behalf."""
    return _OPEN.get() is not None


@contextmanager
def step_tally() -> Iterator[list[Usage]]:
    """Collect the usage of the agent calls made until the block ends."""
    tally: list[Usage] = []
    token = _OPEN.set(tally)
    try:
        yield tally
    finally:
        _OPEN.reset(token)
