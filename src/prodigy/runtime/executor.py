"""Running map agents with a parallelism bound, behind interfaces a remote backend can share.

Two seams, so the phases never see where agents run:
- an `AgentRunner` runs one item's agent template in a worktree and returns a serializable
  result (`AgentTask` is plain data; `AgentOutcome.to_json()` round-trips). The local one
  is `map_agent.local_runner`; a Ray one submits a remote task and awaits its ObjectRef.
- an `Executor` decides how many run at once and hands results back as they finish. The
  local one bounds asyncio tasks with a semaphore; a Ray one may bound with cluster resources.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
T_contra = TypeVar("T_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Finished(Generic[T, R]):
    """A task that ended: its result, or the exception its work raised."""

    task: T
    result: R | None
    error: BaseException | None = None


OnStarted = Callable[[str], None]  # the attempt began on this node ("local" for this host)


class AgentRunner(Protocol[T_contra, R_co]):
    """Runs one task wherever agents run; failures come back in the result, never raised.

    `started(node)` is called once the attempt really began, naming where: a remote runner
    learns the node only when the cluster has placed the task."""

    def __call__(self, task: T_contra, started: OnStarted, /) -> Awaitable[R_co]: ...


class Executor(Protocol[T, R]):
    """Runs submitted tasks, at most `bound` at a time; hands them back as they finish."""

    bound: int

    def submit(self, task: T, *, delay: float = 0.0) -> None:
        """Queue `task`; it starts no sooner than `delay` seconds from now."""

    async def next_finished(self) -> Finished[T, R]:
        """The next task to finish, in completion order; waits while some are outstanding."""

    @property
    def outstanding(self) -> int:
        """Submitted tasks not yet returned by next_finished."""

    async def cancel_all(self) -> None:
        """Cancel every queued and running task and wait until they have stopped."""


class LocalExecutor(Generic[T, R]):
    """Tasks as asyncio tasks in this process; a semaphore keeps at most `bound` running."""

    def __init__(self, work: Callable[[T], Awaitable[R]], bound: int) -> None:
        if bound < 1:
            raise ValueError(f"parallelism bound must be 1 or more, got {bound}")
        self.bound = bound
        self._work = work
        self._slots = asyncio.Semaphore(bound)
        self._done: asyncio.Queue[Finished[T, R]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._outstanding = 0
        self.running = 0  # tasks holding a slot right now

    def submit(self, task: T, *, delay: float = 0.0) -> None:
        self._outstanding += 1
        handle = asyncio.get_running_loop().create_task(self._run(task, delay))
        self._tasks.add(handle)
        handle.add_done_callback(self._tasks.discard)

    async def _run(self, task: T, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._slots:
            self.running += 1
            try:
                finished: Finished[T, R] = Finished(task, await self._work(task))
            except Exception as exc:  # noqa: BLE001 - the work's own bug must not hang the phase
                finished = Finished(task, None, exc)
            finally:
                self.running -= 1
        self._done.put_nowait(finished)

    async def next_finished(self) -> Finished[T, R]:
        if self._outstanding == 0:
            raise RuntimeError("next_finished() with no outstanding tasks would wait forever")
        finished = await self._done.get()
        self._outstanding -= 1
        return finished

    @property
    def outstanding(self) -> int:
        return self._outstanding

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for handle in tasks:
            handle.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._outstanding = self._done.qsize()
