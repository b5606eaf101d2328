"""The setup and reduce phases of a MapReduce job, each step checkpointed as it finishes.

A crash or a failure in either phase resumes at the first step not completed: the steps
before it never run again, and the variables they set come back from the checkpoint.
Checkpoints of these phases use the passes SETUP_PASS and REDUCE_PASS of the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.mapreduce.inputs import run_setup
from prodigy.app.mapreduce.phase_quota import quota_reached
from prodigy.app.session.setup import SessionSetup
from prodigy.app.step_processes import tracked_steps
from prodigy.core import event_payloads as ev
from prodigy.core.clock import timestamp
from prodigy.core.errors import BudgetSpentError, ProdigyError
from prodigy.core.mapreduce.resume_plan import REDUCE_PASS, SETUP_PASS
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import Checkpoint, UsageRecord
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import Step
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.steps.actions import step_label
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome
from prodigy.runtime.steps.sequence import run_sequence


class ReduceFailedError(ProdigyError):
    """A reduce step failed; the run is not merged."""


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a phase got: the next step, and what the finished steps set."""

    next_step: int = 0
    values: Mapping[str, JsonValue] = field(default_factory=dict)  # scope changes
    captures: Mapping[str, str] = field(default_factory=dict)  # setup captures so far


def load_progress(setup: SessionSetup, phase_pass: int) -> Progress:
    found = [
        c
        for c in setup.store.checkpoints.history(setup.session_id, unmasked=True)
        if c.iteration == phase_pass
    ]
    if not found:
        return Progress()
    latest = found[-1]
    saved = latest.variables
    return Progress(latest.next_step_index, saved.get("values", {}), saved.get("captures", {}))


def _save(setup: SessionSetup, phase_pass: int, progress: Progress) -> None:
    setup.store.checkpoints.save(
        Checkpoint(
            session_id=setup.session_id,
            iteration=phase_pass,
            next_step_index=progress.next_step,
            completed_step_ids=(),
            variables={"values": dict(progress.values), "captures": dict(progress.captures)},
            git_head=None,
            workflow_hash=setup.workflow_hash,
        )
    )


def record_step_usage(setup: SessionSetup, job_id: str, step: Step, outcome: StepOutcome) -> None:
    """What an agent step of the setup or reduce phase used, failed steps included, so the
    job's and the session's usage count every step (map agents record theirs per item)."""
    result = outcome.result
    if result.log_path:  # only agent steps have a log; shell steps use no tokens
        setup.store.usage.record(
            UsageRecord(
                session_id=setup.session_id,
                step_id=step_label(step),
                usage=result.usage,
                job_id=job_id,
                log_path=result.log_path,
            )
        )


def _changes(base: Scope, after: Scope) -> dict[str, JsonValue]:
    return {k: v for k, v in after.items() if k not in base or base[k] != v}


async def setup_phase(
    setup: SessionSetup, ctx: StepContext, events: JobEvents, scope: Scope, job_id: str
) -> tuple[Scope, StepContext]:
    """Run (or finish) the setup steps; returns the scope and context with the captures."""
    workflow, reporter = setup.workflow, ctx.reporter
    assert workflow.setup is not None
    progress = load_progress(setup, SETUP_PASS)
    if progress.next_step:
        reporter.emit(Note("info", f"Resuming setup phase at step {progress.next_step + 1}"))
    else:
        reporter.emit(Note("info", "Running setup phase..."))
        events.record(ev.SETUP_STARTED, ev.phase(job_id, steps=len(workflow.setup.steps)))
    base = scope

    def on_step(index: int, after: Scope, captures: Mapping[str, str]) -> None:
        _save(setup, SETUP_PASS, Progress(index + 1, _changes(base, after), dict(captures)))
        crash_point(f"after-setup-step-{index + 1}")

    with tracked_steps(setup.store, setup.session_id):
        output = await run_setup(
            workflow.setup,
            scope.with_values(dict(progress.values)),
            ctx,
            start=progress.next_step,
            captured=progress.captures,
            on_step=on_step,
            on_finished=lambda step, outcome: record_step_usage(setup, job_id, step, outcome),
        )
    setup.store.jobs.set_setup_captures(job_id, output.captures)
    events.record(ev.SETUP_COMPLETED, ev.phase(job_id, captures=sorted(output.captures)))
    reporter.emit(Note("success", "Setup phase completed"))
    return scope.with_values(output.captures), with_env(ctx, output.captures)


def with_env(ctx: StepContext, extra: Mapping[str, JsonValue]) -> StepContext:
    text = {k: v for k, v in extra.items() if isinstance(v, str)}
    return replace(ctx, env={**ctx.env, **text})


async def reduce_phase(
    setup: SessionSetup,
    ctx: StepContext,
    *,
    events: JobEvents,
    scope: Scope,
    job_id: str,
    counts: tuple[int, int, int],  # total, successful, failed
) -> Scope:
    """Run (or finish) the reduce steps; raises ReduceFailedError when one fails."""
    reporter, steps = ctx.reporter, setup.workflow.reduce
    total, successful, failed = counts
    progress = load_progress(setup, REDUCE_PASS)
    if progress.next_step:
        reporter.emit(Note("info", f"Resuming reduce phase at step {progress.next_step + 1}"))
    else:
        reporter.emit(Note("info", "Starting reduce phase..."))
    reporter.emit(
        Note(
            "info",
            f"Reduce phase input: {total} items ({successful} successful, {failed} failed)",
        )
    )
    events.record(ev.REDUCE_STARTED, ev.phase(job_id, timestamp=timestamp()))
    base = scope

    async def on_done(index: int, step: Step, outcome: StepOutcome) -> None:
        record_step_usage(setup, job_id, step, outcome)
        if not outcome.fatal:
            _save(setup, REDUCE_PASS, Progress(index + 1, _changes(base, outcome.scope)))
            crash_point(f"reduce-step-{index + 1}")
            _show_reduce_output(reporter, setup, outcome, verbosity=ctx.verbosity)

    with tracked_steps(setup.store, setup.session_id):
        result = await run_sequence(
            steps,
            scope.with_values(dict(progress.values)),
            ctx,
            start=progress.next_step,
            on_done=on_done,
        )
    if result.failed is not None and result.failed_index is not None:
        step = steps[result.failed_index]
        broken = result.failed.result
        if broken.error_kind == "budget":
            raise BudgetSpentError(f"reduce step {result.failed_index + 1}: {broken.error}")
        if broken.error_kind == "quota":
            raise quota_reached(f"reduce step {result.failed_index + 1}", broken)
        error = broken.error or f"exit code {broken.exit_code}"
        tail = setup.store.masker.text(broken.tail(10))
        last = "\nLast output:\n" + "\n".join(f"  | {line}" for line in tail.splitlines())
        log = f"\nLog: {broken.log_path}" if broken.log_path else ""
        raise ReduceFailedError(
            f"Reduce phase failed: reduce step {result.failed_index + 1} ({step.location}):"
            f" {error}{last if tail else ''}{log}\nThe merged agent results stay in the parent"
            f" worktree {ctx.worktree}; nothing was merged into your branch. Resume with:"
            f" prodigy resume {setup.session_id}"
        )
    events.record(ev.REDUCE_COMPLETED, ev.phase(job_id, timestamp=timestamp()))
    reporter.emit(Note("success", "Reduce phase completed"))
    return result.scope


_REDUCE_OUTPUT_LINES = 20


def _show_reduce_output(
    reporter: Reporter, setup: SessionSetup, outcome: StepOutcome, *, verbosity: int
) -> None:
    """A reduce step's output is what the user wrote the reduce for ("Total: 150"): shown
    at every verbosity (its last lines; -vv already streamed all of it)."""
    text = outcome.result.stdout.strip()
    if not text or verbosity >= 2 or outcome.skipped:
        return
    lines = setup.store.masker.text(text).splitlines()
    shown = lines[-_REDUCE_OUTPUT_LINES:]
    earlier = len(lines) - len(shown)
    more = f"  ({earlier} earlier lines in the log)\n" if earlier else ""
    body = "\n".join(f"  | {line}" for line in shown)
    reporter.emit(Note("info", f"Reduce output:\n{more}{body}"))
