"""A sequential session's answer to a usage limit: a step stopped by the agent's quota.

The step did not fail; the account is out of allowance. Per `quota.on_limit`: `wait` shows
a countdown to the reset (the session paused meanwhile, so a crash leaves it resumable)
and runs the same step again; `pause` (or a reset beyond `max_wait`) ends the run paused,
exit 75, resumable at that step; `fail` fails the run as any failed step does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from prodigy.app.session.passes import PassesResult, Position
from prodigy.app.session.paused import end_paused, persist_pause
from prodigy.app.session.quota_wait import countdown, plan_wait, too_far
from prodigy.app.session.setup import SessionSetup
from prodigy.app.session.sub_workflows import SUB_WORKFLOW_FAILED
from prodigy.core import event_payloads as ev
from prodigy.core.pause import QUOTA, Pause
from prodigy.core.progress import Note, Reporter
from prodigy.core.quota import QuotaHit, hit_of
from prodigy.core.records import RunStatus
from prodigy.core.variables import Scope

Rerun = Callable[[Scope, Position], Awaitable[PassesResult]]


def quota_hit(outcome: PassesResult) -> QuotaHit | None:
    """The usage limit that stopped a step of this run, if that is what stopped it."""
    failure = outcome.failure
    if failure is None or failure.failed is None or failure.failed_index is None:
        return None
    if failure.failed_index == SUB_WORKFLOW_FAILED:
        return None
    result = failure.failed.result
    if result.error_kind != "quota":
        return None
    return hit_of(result.resets_at, result.limit_type, result.error, datetime.now().astimezone())


async def run_waiting(
    setup: SessionSetup, reporter: Reporter, first: PassesResult, rerun: Rerun
) -> tuple[PassesResult, Pause | None]:
    """Wait out usage limits (policy `wait`) and run the stopped step again, as long as
    limits come; returns the last outcome and, when the run must end paused, the pause."""
    policy = setup.workflow.quota
    outcome, hits = first, 0
    while (hit := quota_hit(outcome)) is not None:
        hits += 1
        plan = plan_wait(hit, policy, hits)
        _record_hit(setup, hit, plan)
        if policy.on_limit == "fail":
            return outcome, None
        if policy.on_limit == "pause" or too_far(plan, policy):
            return outcome, plan
        persist_pause(setup.store, setup.session_id, plan)
        assert plan.resume_at is not None
        await countdown(reporter, plan.resume_at, command=f"prodigy resume {setup.session_id}")
        setup.store.sessions.set_status(setup.session_id, RunStatus.RUNNING)
        setup.store.events.append(
            ev.JOB_RESUMED, ev.job_resumed(None, QUOTA), session_id=setup.session_id
        )
        failure = outcome.failure
        assert failure is not None and failure.failed_index is not None
        reporter.emit(Note("info", "Usage limit reset: running the step again"))
        outcome = await rerun(outcome.scope, Position(outcome.iteration, failure.failed_index))
    return outcome, None


def end_run_paused(setup: SessionSetup, reporter: Reporter, pause: Pause) -> int:
    """The run ends paused at the stopped step; exit 75."""
    setup.store.events.append(
        ev.JOB_PAUSED,
        ev.job_paused(None, pause.reason, pause.resume_at_text, pause.detail),
        session_id=setup.session_id,
    )
    return end_paused(
        setup.store,
        setup.session_id,
        pause,
        reporter,
        what=f"Session {setup.session_id}",
        command=f"prodigy resume {setup.session_id}",
    )


def _record_hit(setup: SessionSetup, hit: QuotaHit, plan: Pause) -> None:
    setup.store.events.append(
        ev.QUOTA_LIMIT_HIT,
        ev.quota_limit_hit(
            None,
            None,
            hit,
            message=setup.store.masker.text(hit.message),
            resume_at=plan.resume_at_text or "",
        ),
        session_id=setup.session_id,
    )
