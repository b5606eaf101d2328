"""Before the map phase: the setup phase with its captures, then the work items."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from prodigy.app.mapreduce.phase_quota import quota_reached
from prodigy.core.errors import BudgetSpentError, StepFailedError
from prodigy.core.interpolation import interpolate, render
from prodigy.core.mapreduce.items import ItemSelection, select_items
from prodigy.core.mapreduce.job_plan import (
    INPUT_COMMAND_TIMEOUT,
    MalformedInputError,
    looks_like_file,
    parse_command_output,
    parse_input_document,
    resolve_count,
)
from prodigy.core.mapreduce.setup_capture import CaptureMissError, capture_output_value
from prodigy.core.progress import Note
from prodigy.core.shellsafe import interpolate_shell
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import MapPhase, SetupPhase, Step
from prodigy.runtime.process import ProcessRequest, run_process
from prodigy.runtime.steps.actions import step_label
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome
from prodigy.runtime.steps.sequence import run_sequence


class MapInputError(StepFailedError):
    """The work items could not be read: a run-time failure of the workflow (exit 1), as
    a failed setup is; the input is often made by setup, so it is not a usage error."""


class SetupFailedError(StepFailedError):
    """A setup step failed (or the phase timed out); no agent has started."""


T = TypeVar("T")
SetupStepDone = Callable[[int, Scope, Mapping[str, str]], None]  # index, scope, captures
StepFinished = Callable[[Step, StepOutcome], None]  # every step that ran, failed ones too


@dataclass(frozen=True, slots=True)
class SetupOutput:
    captures: dict[str, str]  # capture_outputs and step `capture:` names, as text


async def run_setup(
    phase: SetupPhase,
    scope: Scope,
    ctx: StepContext,
    *,
    start: int = 0,
    captured: Mapping[str, str] | None = None,
    on_step: SetupStepDone | None = None,
    on_finished: StepFinished | None = None,
) -> SetupOutput:
    """Run the setup steps (from `start`, with `captured` from before a resume) in the parent
    worktree; `on_step` sees each step that did not fail, `on_finished` every step that ran.
    Raises SetupFailedError."""
    captures: dict[str, str] = dict(captured or {})

    async def on_done(index: int, step: Step, outcome: StepOutcome) -> None:
        if on_finished is not None:
            on_finished(step, outcome)
        if outcome.fatal:
            return
        for name, spec in phase.capture_outputs.items():
            if spec.command_index == index:
                result = outcome.result
                try:
                    captures[name] = capture_output_value(spec, result.stdout, result.stderr)
                except CaptureMissError as exc:
                    ctx.reporter.emit(Note("warn", f"setup capture_outputs {name}: {exc}; not set"))
        if step.capture and step.capture in outcome.scope:
            captures[step.capture] = render(outcome.scope[step.capture])
        if on_step is not None:
            on_step(index, outcome.scope, captures)

    timeout = None
    if phase.timeout is not None:
        timeout = resolve_count(phase.timeout, _env_of(scope, ctx), f"{phase.location}: timeout")
    try:
        async with asyncio.timeout(timeout):
            sequence = await run_sequence(phase.steps, scope, ctx, start=start, on_done=on_done)
    except TimeoutError:
        raise SetupFailedError(f"Setup phase timed out after {timeout} seconds") from None
    if sequence.failed is not None and sequence.failed_index is not None:
        index = sequence.failed_index
        result = sequence.failed.result
        if result.error_kind == "budget":
            raise BudgetSpentError(f"setup step {index + 1}: {result.error}")
        if result.error_kind == "quota":
            raise quota_reached(f"setup step {index + 1}", result)
        tail = result.tail(5)
        raise SetupFailedError(
            f"Setup phase failed: setup step {index + 1} ({step_label(phase.steps[index])},"
            f" {phase.steps[index].location}) failed: {result.error or result.exit_code}"
            + (f"\n{tail}" if tail else "")
            + "\nNo agent was started."
        )
    return SetupOutput(captures)


def _env_of(scope: Scope, ctx: StepContext) -> dict[str, str]:
    return {**ctx.env, **{k: v for k, v in scope.items() if isinstance(v, str)}}


def selection(phase: MapPhase) -> ItemSelection:
    return ItemSelection(
        json_path=phase.json_path,
        filter=phase.filter,
        sort_by=phase.sort_by,
        distinct=phase.distinct,
        offset=phase.offset or 0,
        max_items=phase.max_items,
    )


async def load_items(phase: MapPhase, scope: Scope, ctx: StepContext) -> list[JsonValue]:
    """The work items: a JSON file in the parent worktree, or a command's output, then the
    pipeline json_path -> filter -> sort_by -> distinct -> offset -> max_items."""
    parent = ctx.worktree
    source = interpolate(phase.input, scope).strip()
    path = Path(source) if Path(source).is_absolute() else parent / source
    document: object
    if source and path.is_file():
        text = path.read_text(encoding="utf-8")
        try:
            document = await off_the_loop(parse_input_document, text, source)
        except MalformedInputError as exc:
            raise MapInputError(str(exc)) from None
    elif not source or looks_like_file(source):
        raise MapInputError(
            f"{phase.location}: map.input file {source!r} not found in the parent worktree"
            f" {parent}; commit it to your branch or create it in a setup step"
        )
    else:
        document = await _command_items(phase, source, scope, ctx)
    items: list[object] = await off_the_loop(select_items, document, selection(phase))
    return items  # type: ignore[return-value]


async def off_the_loop(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in a daemon thread, so the event loop still sees Ctrl-C while a big
    input is parsed, filtered and sorted; an interrupted run exits without waiting for it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return  # cancelled meanwhile
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            loop.call_soon_threadsafe(deliver, None, exc)
        else:
            loop.call_soon_threadsafe(deliver, result, None)

    threading.Thread(target=work, name="prodigy-input", daemon=True).start()
    return await future


async def _command_items(
    phase: MapPhase, source: str, scope: Scope, ctx: StepContext
) -> list[object]:
    command = interpolate_shell(phase.input, scope)
    result = await run_process(
        ProcessRequest(
            argv=("bash", "-c", command.script),
            cwd=ctx.worktree,
            env={**ctx.env, **command.env},
            timeout=INPUT_COMMAND_TIMEOUT,
            grace_period=ctx.grace_period,
        )
    )
    if not result.ok:
        how = "timed out" if result.timed_out else f"failed (exit code {result.returncode})"
        raise StepFailedError(
            f"{phase.location}: map.input command `{source}` {how}:\n{result.tail(10)}\n"
            "No agent was started."
        )
    return parse_command_output(result.stdout, f"command `{source}`")
