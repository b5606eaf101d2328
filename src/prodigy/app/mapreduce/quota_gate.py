"""The map phase's answer to a usage limit (quota): hold every start, wait or pause, ramp up.

A quota hit is the account's, not the item's: the item goes back to pending, its attempt
does not count, it never enters the DLQ and no retry is spent. The account is shared, so
no new agent starts; running agents finish (or hit the same limit and go back too) and
the merge queue drains. Then, per `quota.on_limit`:

- `wait`: the session is paused (reason quota, resume_at) for the wait, a countdown runs
  on stderr, then `job_resumed` and the job goes on by itself, from one agent at a time
  doubling with each landing up to max_parallel (`core.quota.ramp_limit`);
- `pause`, or a reset further away than `max_wait`: the phase drains and the job ends
  paused (exit 75, `MapRunner.drain`);
- `fail`: the job stops as the error policy stops it (exit 1); the item stays pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prodigy.app.mapreduce.items import MapJob
from prodigy.app.session.paused import persist_pause
from prodigy.app.session.quota_wait import countdown, plan_wait, too_far
from prodigy.core import event_payloads as ev
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.core.pause import QUOTA, Pause
from prodigy.core.progress import Note
from prodigy.core.quota import hit_of, ramp_limit
from prodigy.core.records import ItemState, RunStatus
from prodigy.runtime.map_agent import discard_agent_worktree

_POLL_SECONDS = 0.2


class QuotaGate:
    """Admission of agent starts while a usage limit is in force; one per map phase run."""

    def __init__(self, job: MapJob) -> None:
        self.job = job
        self._open = asyncio.Event()
        self._open.set()
        self._waiter: asyncio.Task[None] | None = None
        self.hits_in_row = 0  # hits with no landing in between: the backoff grows with them
        self.ramping = False
        self.landed_since_resume = 0
        self.given_back: set[str] = set()  # items that went back to pending

    @property
    def waiting(self) -> bool:
        return not self._open.is_set()

    def allowed(self) -> int:
        """How many agents may run at once now."""
        if not self.ramping:
            return self.job.max_parallel
        return ramp_limit(self.job.max_parallel, self.landed_since_resume)

    async def admit(self, running: Callable[[], int], drained: Callable[[], bool]) -> None:
        """Return when an agent may start: no wait in force and room in the ramp (or when
        the phase is drained, which the caller checks next)."""
        while not drained():
            if self._open.is_set() and running() < self.allowed():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._open.wait(), _POLL_SECONDS)
            if self._open.is_set():
                await asyncio.sleep(0 if running() < self.allowed() else _POLL_SECONDS)

    def start_ramp(self) -> None:
        """One agent at a time, doubling with each landing, up to max_parallel."""
        self.ramping = self.job.max_parallel > 1
        self.landed_since_resume = 0

    def hold(self) -> None:
        """Start nothing until `hit` has decided: called as soon as an agent returns with
        a quota failure, before its executor slot is free for the next item."""
        self._open.clear()

    def landed(self) -> None:
        self.hits_in_row = 0
        if self.ramping:
            self.landed_since_resume += 1
            if self.allowed() >= self.job.max_parallel:
                self.ramping = False

    def hit(self, outcome: AgentOutcome) -> Pause | None:
        """An agent hit the usage limit: its item goes back to pending and the event is
        recorded. Returns the pause to end with (policy pause, or a reset beyond max_wait),
        else None; starts the wait for policy `wait` (unless one is in force)."""
        job = self.job
        job.store.items.give_back(job.job_id, outcome.item_id)
        self.given_back.add(outcome.item_id)
        now = datetime.now().astimezone()
        quota = hit_of(outcome.resets_at, outcome.limit_type, outcome.error or "", now)
        already = self._waiter is not None and not self._waiter.done()
        if not already:
            self.hits_in_row += 1
        plan = plan_wait(quota, job.quota, self.hits_in_row)
        job.events.record(
            ev.QUOTA_LIMIT_HIT,
            ev.quota_limit_hit(
                job.job_id,
                outcome.item_id,
                quota,
                message=job.store.masker.text(outcome.error or ""),
                resume_at=plan.resume_at_text or "",
            ),
            agent_id=outcome.agent_id,
        )
        job.reporter.emit(
            Note("warn", f"{outcome.item_id} hit the usage limit; it goes back to pending")
        )
        if job.quota.on_limit == "pause" or too_far(plan, job.quota):
            return plan  # the phase drains: admit() lets the held starts end as not started
        if job.quota.on_limit == "wait" and not already:
            self._start_wait(plan)
        return None

    def _start_wait(self, plan: Pause) -> None:
        self._open.clear()
        self.ramping = False
        persist_pause(self.job.store, self.job.session_id, plan)
        until = plan.resume_at or datetime.now(UTC)
        self._waiter = asyncio.ensure_future(self._wait(until))

    async def _wait(self, until: datetime) -> None:
        job = self.job
        await countdown(job.reporter, until, command=f"prodigy resume-job {job.job_id}")
        job.store.sessions.set_status(job.session_id, RunStatus.RUNNING)
        job.events.record(ev.JOB_RESUMED, ev.job_resumed(job.job_id, QUOTA))
        job.reporter.emit(
            Note(
                "info",
                f"Usage limit reset: resuming with 1 agent, up to {job.max_parallel} as"
                " agents land",
            )
        )
        self.start_ramp()
        self._open.set()

    async def close(self) -> None:
        """End the wait task (the phase is over or cancelled); items given back and left
        pending lose their worktree now, so none is left behind for the resume."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._waiter
        job = self.job
        if job.remote or not self.given_back:
            return
        for record in job.store.items.find(job.job_id, states=(ItemState.PENDING,)):
            if record.item_id not in self.given_back:
                continue
            if record.agent_worktree and record.agent_branch:
                await discard_agent_worktree(
                    job.setting.repo, Path(record.agent_worktree), record.agent_branch
                )
                job.store.worktrees.forget(record.agent_worktree)
