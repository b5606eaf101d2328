"""The `retry:` loop: run an action until it succeeds, retry_on refuses, or attempts run out."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from prodigy.core.errors import StepFailedError
from prodigy.core.progress import RetryScheduled
from prodigy.core.results import StepResult
from prodigy.core.retry import Failure, delay_before, should_retry, with_jitter, within_budget
from prodigy.core.workflow import RetryPolicy
from prodigy.runtime.steps.context import StepContext

Attempt = Callable[[], Awaitable[StepResult]]
Sleep = Callable[[float], Awaitable[None]]


async def run_retrying(
    policy: RetryPolicy | None,
    attempt: Attempt,
    ctx: StepContext,
    *,
    label: str,
    sleep: Sleep = asyncio.sleep,
    uniform: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
) -> StepResult:
    """Run `attempt` up to `policy.attempts` times in total (no policy: once).

    An error raised by the action (a bad write_file, say) counts as a failed attempt. Each
    retry is announced as a progress note with its delay and the reason, secrets masked.
    """
    if policy is None:
        return await attempt()
    started = clock()
    number = 1
    while True:
        result = await _guarded(attempt)
        if result.success or result.error_kind == "quota":
            return result  # a usage limit: retrying before its reset only fails again
        failure = Failure(
            message=f"{result.error}\n{result.tail()}",
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            error_kind=result.error_kind,
        )
        if number >= policy.attempts:
            stop = f"failed after {number} attempts"
        elif not should_retry(policy, failure):
            stop = "retry_on does not match this failure"
        else:
            delay = with_jitter(policy, delay_before(policy, number), uniform)
            if within_budget(policy, clock() - started, delay):
                reason = ctx.masker.text(result.error or "failed")
                ctx.reporter.emit(
                    RetryScheduled(
                        label=label,
                        attempt=number,
                        attempts=policy.attempts,
                        delay=delay,
                        reason=reason,
                    )
                )
                await sleep(delay)
                number += 1
                continue
            stop = f"retry_budget of {policy.retry_budget:g} s used up after {number} attempts"
        return result.failed(f"{result.error}; {stop}" if result.error else stop)


async def _guarded(attempt: Attempt) -> StepResult:
    try:
        return await attempt()
    except StepFailedError as exc:
        return StepResult(success=False, exit_code=1, error=str(exc), stderr=str(exc))
