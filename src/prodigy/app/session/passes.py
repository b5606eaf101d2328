"""Executing a session's passes with a checkpoint after every step; shared by run and resume."""

from __future__ import annotations

from dataclasses import dataclass, replace

from prodigy.app.session.sub_workflows import run_sub_workflows
from prodigy.core.clock import timestamp
from prodigy.core.records import Checkpoint, StepRecord, UsageRecord
from prodigy.core.usage import Usage
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import ClaudeAction, Step, Workflow
from prodigy.runtime import git
from prodigy.runtime.steps.actions import step_label
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome
from prodigy.runtime.steps.sequence import SequenceResult, run_sequence
from prodigy.store import Store

# Never stored: the process environment (it holds the user's credentials).
_UNSTORED = frozenset({"env"})


def storable(scope: Scope) -> dict[str, JsonValue]:
    """The variables a checkpoint keeps: everything but the process environment."""
    return {name: value for name, value in scope.items() if name not in _UNSTORED}


@dataclass(frozen=True, slots=True)
class Position:
    """Where a session continues: pass number (from 1) and the next step's index."""

    iteration: int
    step_index: int


@dataclass(frozen=True, slots=True)
class PassesResult:
    scope: Scope
    failure: SequenceResult | None  # the failed pass, if any
    iteration: int  # the pass that ended the run


class SessionRunner:
    """Runs the workflow's steps pass by pass and commits progress to the store."""

    def __init__(
        self,
        store: Store,
        session_id: str,
        workflow: Workflow,
        workflow_hash: str,
        ctx: StepContext,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.workflow = workflow
        self.workflow_hash = workflow_hash
        self.ctx = ctx

    async def run_passes(
        self,
        passes: list[tuple[int, str | None]],
        scope: Scope,
        start: Position,
        *,
        early_stop: bool,
    ) -> PassesResult:
        """Run passes from `start`; with early_stop, stop after a pass that made no commit."""
        iteration = start.iteration
        for number, value in passes:
            if number < start.iteration:
                continue
            iteration = number
            scope = scope.with_values(_pass_values(number, value))
            head = await git.head_sha(self.ctx.worktree)
            first = start.step_index if number == start.iteration else 0
            # Each --map input is this pass's $ARG, for the shell and for Claude alike.
            ctx = self.ctx
            if value is not None:
                ctx = replace(ctx, env={**ctx.env, "PRODIGY_ARG": value})
            if first == 0 and self.workflow.sub_workflows:
                subs = await run_sub_workflows(self.workflow, scope, ctx)
                if not subs.ok:
                    return PassesResult(subs.scope, subs, number)
                scope = subs.scope
            result = await run_sequence(
                self.workflow.steps, scope, ctx, start=first, on_done=self._recorder(number)
            )
            scope = result.scope
            if not result.ok:
                return PassesResult(scope, result, number)
            self._checkpoint(number + 1, 0, scope, await git.head_sha(self.ctx.worktree))
            if (
                early_stop
                and await git.head_sha(self.ctx.worktree) == head
                and number < len(passes)
            ):
                break
        return PassesResult(scope, None, iteration)

    def _recorder(self, iteration: int):  # type: ignore[no-untyped-def]
        async def on_done(index: int, step: Step, outcome: StepOutcome) -> None:
            await self._record(iteration, index, step, outcome)

        return on_done

    async def _record(self, iteration: int, index: int, step: Step, outcome: StepOutcome) -> None:
        result = outcome.result
        now = timestamp()
        record = StepRecord(
            session_id=self.session_id,
            iteration=iteration,
            step_index=index,
            step_id=step_label(step),
            success=result.success,
            started_at=now,
            finished_at=now,
            output=result.stdout[-4000:] if result.stdout else None,
            error=result.error or None,
        )
        usage = None
        if isinstance(step.action, ClaudeAction) or result.usage != Usage():
            # a shell step's agent handlers or validators used tokens too
            usage = UsageRecord(
                session_id=self.session_id,
                step_id=step_label(step),
                usage=result.usage,
                log_path=result.log_path,
            )
        if outcome.fatal:
            self.store.checkpoints.record_step(record)
            if usage is not None:
                self.store.usage.record(usage)
            return
        head = await git.head_sha(self.ctx.worktree)
        self.store.checkpoints.save(
            self._make_checkpoint(iteration, index + 1, outcome.scope, head),
            step=record,
            usage=usage,
        )

    def _make_checkpoint(
        self, iteration: int, next_index: int, scope: Scope, head: str
    ) -> Checkpoint:
        return Checkpoint(
            session_id=self.session_id,
            iteration=iteration,
            next_step_index=next_index,
            completed_step_ids=(),
            variables=storable(scope),
            git_head=head,
            workflow_hash=self.workflow_hash,
        )

    def _checkpoint(self, iteration: int, next_index: int, scope: Scope, head: str) -> None:
        self.store.checkpoints.save(self._make_checkpoint(iteration, next_index, scope, head))


def _pass_values(number: int, value: str | None) -> dict[str, JsonValue]:
    values: dict[str, JsonValue] = {"ITERATION": number}
    if value is not None:
        values.update({"ARG": value, "ARG_1": value})
    return values
