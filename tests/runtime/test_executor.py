"""The local executor: the bound holds, results come back as they finish, cancel stops all."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prodigy.runtime.executor import Executor, LocalExecutor


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=1, max_value=4),
    st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=12),
)
def test_never_more_than_the_bound_and_every_task_returns(bound: int, delays: list[int]) -> None:
    live, peak = 0, 0

    async def work(task: int) -> int:
        nonlocal live, peak
        live += 1
        peak = max(peak, live)
        await asyncio.sleep(delays[task] / 1000)
        live -= 1
        return task * 10

    async def main() -> list[int]:
        executor: Executor[int, int] = LocalExecutor(work, bound)
        for task in range(len(delays)):
            executor.submit(task)
        results = []
        while executor.outstanding:
            finished = await executor.next_finished()
            assert finished.result == finished.task * 10
            results.append(finished.task)
        return results

    assert sorted(asyncio.run(main())) == list(range(len(delays)))
    assert peak <= bound


def test_results_come_back_in_completion_order_and_errors_are_returned() -> None:
    async def work(task: float) -> float:
        await asyncio.sleep(task)
        if task == 0.02:
            raise ValueError("broken")
        return task

    async def main() -> list[tuple[float, object]]:
        executor = LocalExecutor(work, 3)
        for task in (0.06, 0.02, 0.0):
            executor.submit(task)
        out = []
        for _ in range(3):
            done = await executor.next_finished()
            out.append((done.task, done.result if done.error is None else repr(done.error)))
        return out

    assert asyncio.run(main()) == [(0.0, 0.0), (0.02, "ValueError('broken')"), (0.06, 0.06)]


def test_delay_and_cancel_all() -> None:
    started: list[int] = []

    async def work(task: int) -> int:
        started.append(task)
        await asyncio.sleep(10)
        return task

    async def main() -> None:
        executor = LocalExecutor(work, 1)
        executor.submit(1)
        executor.submit(2, delay=0.05)
        await asyncio.sleep(0.1)
        assert executor.running == 1 and started == [1]
        await executor.cancel_all()
        assert executor.running == 0 and executor.outstanding == 0

    asyncio.run(main())


def test_a_bound_below_one_is_refused() -> None:
    async def work(task: int) -> int:
        return task

    with pytest.raises(ValueError, match="1 or more"):
        LocalExecutor(work, 0)
