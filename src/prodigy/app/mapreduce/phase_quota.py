"""A usage limit (quota) in a MapReduce job's setup or reduce phase.

Those phases are checkpointed step by step, so the answer is simple: the stopped step did
not fail, the account is out of allowance. Per `quota.on_limit`: `wait` shows the countdown
(the session paused meanwhile, so a crash or Ctrl-C leaves it resumable) and the phase goes
on from that step; `pause`, or a reset beyond `max_wait`, ends the job paused (exit 75);
`fail` fails the job. The map phase has its own answer (quota_gate.py): items go back to
pending there.
"""

from __future__ import annotations

from datetime import datetime

from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.session.paused import persist_pause
from prodigy.app.session.quota_wait import countdown, plan_wait, too_far
from prodigy.app.session.setup import SessionSetup
from prodigy.core import event_payloads as ev
from prodigy.core.pause import QUOTA, Pause
from prodigy.core.progress import Note, Reporter
from prodigy.core.quota import QuotaReachedError, hit_of
from prodigy.core.records import RunStatus
from prodigy.core.results import StepResult


def quota_reached(where: str, result: StepResult) -> QuotaReachedError:
    """The error that stops a setup or reduce phase whose step hit the usage limit."""
    now = datetime.now().astimezone()
    hit = hit_of(result.resets_at, result.limit_type, result.error, now)
    return QuotaReachedError(f"{where} hit the usage limit: {result.error}", hit)


async def answer_quota(  # noqa: PLR0917 - the facts of one hit
    setup: SessionSetup,
    events: JobEvents,
    reporter: Reporter,
    job_id: str,
    reached: QuotaReachedError,
    hits_in_row: int,
) -> Pause | None:
    """Record the hit, then: the pause to end the job with (policy pause, or a reset beyond
    max_wait); None once a `wait` is over (run the phase again from its stopped step);
    `fail` raises `reached`, which fails the job."""
    policy, hit = setup.workflow.quota, reached.hit
    plan = plan_wait(hit, policy, hits_in_row)
    events.record(
        ev.QUOTA_LIMIT_HIT,
        ev.quota_limit_hit(
            job_id,
            None,
            hit,
            message=setup.store.masker.text(hit.message),
            resume_at=plan.resume_at_text or "",
        ),
    )
    if policy.on_limit == "fail":
        raise reached
    if policy.on_limit == "pause" or too_far(plan, policy):
        return plan
    persist_pause(setup.store, setup.session_id, plan)
    assert plan.resume_at is not None  # plan_wait always names a time (reset or backoff)
    await countdown(reporter, plan.resume_at, command=f"prodigy resume-job {job_id}")
    setup.store.sessions.set_status(setup.session_id, RunStatus.RUNNING)
    events.record(ev.JOB_RESUMED, ev.job_resumed(job_id, QUOTA))
    reporter.emit(Note("info", "Usage limit reset: running the stopped step again"))
    return None
