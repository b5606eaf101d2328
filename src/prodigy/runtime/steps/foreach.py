"""`foreach:` (docs/foreach.md): run the `do:` steps once per item, in the session worktree.

Items come from a static list or from the non-empty stdout lines of a shell command. Each
item's steps run in order with `${item}`, `${index}` (0-based) and `${total}` added to the
step's variables; `parallel: N` runs up to N items at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

from prodigy.core.progress import Note
from prodigy.core.results import StepResult
from prodigy.core.variables import Scope, foreach_values
from prodigy.core.workflow import ForeachAction, ShellAction, Step
from prodigy.runtime.steps.actions import run_action
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.validation import RunStep


@dataclass(frozen=True, slots=True)
class _ItemOutcome:
    index: int
    item: str
    error: str | None  # None: every `do` step succeeded


async def run_foreach(
    action: ForeachAction,
    step: Step,
    scope: Scope,
    ctx: StepContext,
    run: RunStep,
    *,
    index: int,
    env: Mapping[str, str],
) -> StepResult:
    """Run every item; the step fails if an item failed, unless continue_on_error."""
    started = time.monotonic()
    items, problem = await _items(action, step, scope, ctx, index=index, env=env)
    if problem is not None:
        return StepResult(success=False, exit_code=1, error=problem, stderr=problem)
    total = len(items)
    gate = asyncio.Semaphore(max(1, action.parallel))
    stop = asyncio.Event()  # set at the first failure unless continue_on_error

    async def one(number: int, item: str) -> _ItemOutcome | None:
        async with gate:
            if stop.is_set():
                return None
            item_scope = scope.with_values(foreach_values(item, number, total))
            outcome = await _run_item(action.do, item, number, item_scope, ctx, run)
            if outcome.error is not None:
                text = f"foreach item {number} ({item}): {outcome.error}"
                ctx.reporter.emit(Note("warn", ctx.masker.text(text)))
                if not action.continue_on_error:
                    stop.set()
            return outcome

    done = await asyncio.gather(*(one(n, item) for n, item in enumerate(items)))
    finished = [o for o in done if o is not None]
    failures = [o for o in finished if o.error is not None]
    summary = (
        f"Foreach completed: {total} total, {len(finished) - len(failures)} successful, "
        f"{len(failures)} failed"
    )
    skipped = total - len(finished)
    if skipped:
        summary += f", {skipped} not started"
    result = StepResult(
        success=True, exit_code=0, stdout=summary + "\n", duration=time.monotonic() - started
    )
    if failures and not action.continue_on_error:
        first = failures[0]
        return result.failed(
            f"{len(failures)} of {total} foreach items failed; first: item {first.index} "
            f"({first.item}): {first.error}"
        )
    return result


async def _items(
    action: ForeachAction,
    step: Step,
    scope: Scope,
    ctx: StepContext,
    *,
    index: int,
    env: Mapping[str, str],
) -> tuple[list[str], str | None]:
    if action.items is not None:
        items = list(action.items)
    else:
        lister = Step(action=ShellAction(command=action.command or ""), location=step.location)
        listed = await run_action(lister, scope, ctx, index=index, env=env)
        if not listed.success:
            return [], f"foreach input command failed ({listed.error}): {listed.tail(5)}"
        items = [line for line in listed.stdout.splitlines() if line.strip()]
    if action.max_items is not None:
        items = items[: action.max_items]
    return items, None


async def _run_item(  # noqa: PLR0917 - the item, where it runs, and how
    steps: tuple[Step, ...],
    item: str,
    number: int,
    item_scope: Scope,
    ctx: StepContext,
    run: RunStep,
) -> _ItemOutcome:
    for do_step in steps:
        outcome = await run(do_step, item_scope, ctx)
        item_scope = outcome.scope
        if outcome.fatal:
            return _ItemOutcome(number, item, outcome.result.error or "failed")
    return _ItemOutcome(number, item, None)
