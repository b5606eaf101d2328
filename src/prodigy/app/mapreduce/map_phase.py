"""The map phase: agents through the executor, their branches through the merge queue, every
item state change committed to the store when it happens, failures through the error policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prodigy.app.mapreduce.events import MapCounts
from prodigy.app.mapreduce.items import (
    MapJob,
    dead_letter,
    keep_failed_worktree,
    land,
    record_failure_events,
    record_usage,
    record_worktree,
)
from prodigy.app.mapreduce.quota_gate import QuotaGate
from prodigy.core import event_payloads as ev
from prodigy.core.errors import StoreError
from prodigy.core.mapreduce import failure_policy as fp
from prodigy.core.mapreduce.items import item_label
from prodigy.core.mapreduce.job_plan import item_id
from prodigy.core.mapreduce.results import AgentOutcome, result_record
from prodigy.core.pause import BUDGET, QUOTA, Pause
from prodigy.core.progress import Note
from prodigy.core.records import ItemState
from prodigy.core.variables import JsonValue
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.executor import Executor, Finished, LocalExecutor
from prodigy.runtime.map_agent import AgentTask, discard_agent_worktree
from prodigy.runtime.remote.coordinator import drop_incoming, incoming_ref


@dataclass(slots=True)
class MapSummary:
    """Final outcome per item (input order), and why the phase stopped early, if it did."""

    outcomes: dict[int, AgentOutcome] = field(default_factory=dict)
    stop_reason: str | None = None
    # drained: why the phase started no more agents; the items it did not start stay pending
    drain_reason: str | None = None
    pause: Pause | None = None  # how the job ends paused (reason, until when, detail)
    not_started: int = 0

    def ordered(self) -> list[AgentOutcome]:
        return [self.outcomes[i] for i in sorted(self.outcomes)]

    @property
    def successful(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.ok)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.successful

    def results(self) -> list[JsonValue]:
        return [result_record(o) for o in self.ordered()]


# (work, bound) -> executor: LocalExecutor, or one that runs tasks elsewhere
ExecutorFactory = Callable[
    [Callable[[AgentTask], Awaitable[AgentOutcome]], int], Executor[AgentTask, AgentOutcome]
]


ADMISSION_POLL = 0.1  # seconds between admission checks while running agents hold the budget


def budget_paused(job: MapJob, outcome: AgentOutcome) -> bool:
    """A budget failure caused by the job's rest rather than the item's own cap."""
    if outcome.failure_kind != "budget" or job.spending is None:
        return False
    return not job.spending.item_capped(outcome.item_id)


class _NotStartedError(Exception):
    """The phase is draining: this task was not started and its item stays pending."""


class MapRunner:
    """Runs one job's items to the end, until the policy stops the job (running agents are
    cancelled), or until it is drained (running agents finish and land, no new one starts).
    """

    def __init__(
        self,
        job: MapJob,
        items: list[JsonValue],
        executor: ExecutorFactory = LocalExecutor,
        *,
        only: Mapping[int, int] | None = None,
    ) -> None:
        self.job = job
        self.items = items
        self.only = only  # `dlq retry`: run just these indexes, from these attempt numbers
        self.summary = MapSummary()
        self.state = fp.PolicyState()
        self.running = 0
        self.merging = 0
        self.failures_shown = 0
        self.stopping = False  # no retries once the job is being stopped
        self.drain_reason: str | None = None
        self.quota = QuotaGate(job)
        self.executor = executor(self._work, job.max_parallel)

    def drain(self, reason: str, pause: Pause | None = None) -> None:
        """Start no further agent (retries included); those running finish and land, and
        the phase then returns with `drain_reason` set. Items not started stay pending, so
        `prodigy resume` runs them later. The job then ends paused (exit 75) with `pause`,
        by default `Pause(reason)`: reason "quota" or "budget" is the session's
        pause_reason."""
        if self.drain_reason is None:
            self.drain_reason = reason
            self.summary.pause = pause or Pause(reason)

    async def run(self) -> MapSummary:
        for index, item in enumerate(self.items):
            if self.only is not None and index not in self.only:
                continue
            attempt = 1 if self.only is None else self.only[index]
            self.executor.submit(
                AgentTask(
                    job_id=self.job.job_id,
                    item_id=item_id(index),
                    index=index,
                    item=item,
                    spec=self.job.spec,
                    attempt=attempt,
                )
            )
        try:
            return await self._run()
        finally:
            await self.quota.close()

    async def _run(self) -> MapSummary:
        landings: set[asyncio.Task[AgentOutcome]] = set()
        next_agent: asyncio.Task[Finished[AgentTask, AgentOutcome]] | None = None
        try:
            while self.executor.outstanding or landings or next_agent:
                if next_agent is None and self.executor.outstanding:
                    next_agent = asyncio.ensure_future(self.executor.next_finished())
                waiting = {*landings, *([next_agent] if next_agent else [])}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is next_agent:
                        next_agent = None
                        finished: Finished[AgentTask, AgentOutcome] = task.result()  # type: ignore[assignment]
                        if isinstance(finished.error, _NotStartedError):
                            self.summary.not_started += 1
                            continue
                        outcome = self._agent_outcome(finished)
                        if outcome.ok:
                            landings.add(asyncio.ensure_future(self._land(outcome)))
                        else:
                            self._failed(outcome)
                    else:
                        landings.discard(task)
                        self._settle(task.result())  # type: ignore[arg-type]
                if self.summary.stop_reason is not None:
                    await self._stop(landings, next_agent)
                    break
        except BaseException:
            await self._stop(landings, next_agent)
            raise
        if self.summary.not_started:  # else every item ran: the job goes on as usual
            self.summary.drain_reason = self.drain_reason
        return self.summary

    async def _work(self, task: AgentTask) -> AgentOutcome:
        """One agent, inside an executor slot: breaker gate, state, events, the agent."""
        while True:
            if self.drain_reason is not None:
                raise _NotStartedError
            # a usage limit in force holds every start; after it, the ramp limits them
            await self.quota.admit(lambda: self.running, lambda: self.drain_reason is not None)
            if self.drain_reason is not None:
                raise _NotStartedError
            self.state, wait = fp.start_delay(self.job.policy, self.state, now=time.monotonic())
            if wait <= 0:
                break
            await asyncio.sleep(min(wait, 1.0))
        if self.job.spending is not None and not await self._admitted(task):
            raise _NotStartedError
        path = self.job.setting.agents_root / f"agent-{task.index}"
        # the ledger row (job, item, attempt) is written before the attempt is submitted
        if self.job.remote:  # no local worktree: the commits come back into this ref
            self.job.store.items.transition(
                self.job.job_id,
                task.item_id,
                ItemState.RUNNING,
                agent_branch=incoming_ref(self.job.job_id, task.item_id, task.attempt),
            )
        else:
            with self.job.store.transaction():  # the attempt and its worktree's owner: one commit
                self.job.store.items.transition(
                    self.job.job_id,
                    task.item_id,
                    ItemState.RUNNING,
                    agent_branch=task.branch,
                    agent_worktree=str(path),
                )
                record_worktree(self.job, path, task.branch, task.item_id)
        self.running += 1
        self._counts()
        where = "" if self.job.remote else str(path)

        def started(node: str) -> None:
            self.job.events.record(
                ev.AGENT_STARTED,
                {
                    **ev.agent_started(
                        self.job.job_id, task.agent_id, task.item_id, where, task.attempt, node=node
                    ),
                    # what the item is, for the live board (masked: items may hold secrets)
                    "item_label": self.job.store.masker.text(item_label(task.item)),
                },
                agent_id=task.agent_id,
            )

        try:
            outcome = await self.job.runner(task, started)
        finally:
            self.running -= 1
        if outcome.failure_kind == "quota":
            self.quota.hold()  # before this slot goes to the next item
        # before the slot is free: the next agent must see an opened breaker (a usage
        # limit says nothing about the items: it neither opens nor closes the breaker)
        if outcome.failure_kind != "quota":
            self.state = fp.after_attempt(
                self.job.policy, self.state, ok=outcome.ok, now=time.monotonic()
            )
        return outcome

    def _agent_outcome(self, finished: Finished[AgentTask, AgentOutcome]) -> AgentOutcome:
        """The agent's outcome, recorded: usage, state, events."""
        task = finished.task
        if isinstance(finished.error, StoreError):
            # the state could not be written (full disk, I/O error): the run stops with that
            # cause; recording a failure on top would need the store and hide it
            raise finished.error
        outcome = finished.result or AgentOutcome(
            item_id=task.item_id,
            index=task.index,
            agent_id=task.agent_id,
            attempt=task.attempt,
            status="failed",
            failure_kind="unknown",
            error=f"internal error running the agent: {finished.error!r}",
        )
        if not outcome.ok:
            record_usage(self.job, outcome)
        else:
            # usage, state and event of the finished agent: one transaction
            with self.job.store.transaction():
                record_usage(self.job, outcome)
                self.job.store.items.transition(
                    self.job.job_id, outcome.item_id, ItemState.SUCCEEDED, result=outcome.to_json()
                )
                self.job.events.record(
                    ev.AGENT_COMPLETED,
                    ev.agent_completed(self.job.job_id, outcome),
                    agent_id=outcome.agent_id,
                )
        if self.job.spending is not None:
            self.job.spending.stop(outcome.item_id)  # its usage is in the store from now on
        if outcome.ok:
            crash_point("after-agent-commit")
            self.merging += 1
            self._counts()
        return outcome

    async def _land(self, outcome: AgentOutcome) -> AgentOutcome:
        try:
            return await land(self.job, outcome, landed_before=self.summary.successful)
        finally:
            self.merging -= 1

    def _settle(self, outcome: AgentOutcome) -> None:
        """A landing finished: success is final; a refused merge goes through the policy."""
        if outcome.ok:
            self.summary.outcomes[outcome.index] = outcome
            self.quota.landed()
            if self.job.spending is not None:
                self.job.spending.settled(outcome.item_id)
            self._counts()
        else:
            self._failed(outcome)

    def _failed(self, outcome: AgentOutcome) -> None:
        """A failed attempt: retry it, or dead-letter (or skip) it, and maybe stop the job."""
        if outcome.failure_kind == "quota":
            self._quota_hit(outcome)
            return
        job = self.job
        if budget_paused(job, outcome):
            # stopped by the job's budget, not by the item's cap: the item waits for a resume
            job.store.items.transition(job.job_id, outcome.item_id, ItemState.PENDING)
            self._budget_exhausted(outcome.error or "the job's budget is spent")
            self.summary.not_started += 1
            self._counts()
            return
        job.store.items.transition(
            job.job_id,
            outcome.item_id,
            ItemState.FAILED,
            result=outcome.to_json(),
            error=outcome.error,
        )
        self.state, decision = fp.after_failure(
            job.policy,
            self.state,
            attempt=outcome.attempt,
            total_items=len(self.items),
        )
        # an item over its own cap would spend it again: retried only by hand, with a new cap
        retry = decision.retry and outcome.failure_kind != "budget"
        record_failure_events(job, outcome, will_retry=retry)
        if retry and not self.stopping:
            self._retry(outcome, decision.delay)
            return
        self.summary.outcomes[outcome.index] = outcome
        if job.spending is not None:
            job.spending.settled(outcome.item_id)
        keep_failed_worktree(job, outcome)
        timed_out = outcome.failure_kind == "timeout"
        if job.policy.on_item_failure != "skip" and not (
            timed_out and job.timeout_action == "Skip"
        ):
            dead_letter(job, outcome, self.items[outcome.index])
        if timed_out and job.timeout_action == "Fail":
            self.summary.stop_reason = "an agent timed out and timeout_action is Fail"
        self.failures_shown += 1
        if fp.report_now(job.policy, self.failures_shown):
            job.reporter.emit(Note("warn", f"{outcome.item_id} failed: {outcome.error}"))
        self.summary.stop_reason = self.summary.stop_reason or decision.stop_reason
        self._counts()

    def _quota_hit(self, outcome: AgentOutcome) -> None:
        """The agent hit the account's usage limit: the item goes back to pending with its
        attempt uncounted, then the policy (`quota.on_limit`) decides (quota_gate.py)."""
        pause = self.quota.hit(outcome)
        if self.job.quota.on_limit == "fail":
            reason = f"{outcome.item_id} hit the usage limit (quota.on_limit: fail)"
            self.summary.stop_reason = self.summary.stop_reason or reason
        elif pause is not None:
            self.drain(QUOTA, pause)
            self.summary.not_started += 1
        elif self.stopping or self.drain_reason is not None:
            self.summary.not_started += 1
        else:  # the same attempt again once the wait is over
            self.executor.submit(
                AgentTask(
                    job_id=self.job.job_id,
                    item_id=outcome.item_id,
                    index=outcome.index,
                    item=self.items[outcome.index],
                    spec=self.job.spec,
                    attempt=outcome.attempt,
                )
            )
        self._counts()

    async def _admitted(self, task: AgentTask) -> bool:
        """Wait until the job's budget lets this agent start (False: it never will)."""
        spending = self.job.spending
        assert spending is not None
        while self.drain_reason is None:
            verdict = spending.admit()
            if verdict.allowed:
                spending.start(task.item_id)  # no await before: the next check sees it
                return True
            if verdict.exhausted:
                self._budget_exhausted(verdict.reason)
                return False
            await asyncio.sleep(ADMISSION_POLL)  # running agents must finish first
        return False

    def _budget_exhausted(self, detail: str) -> None:
        """Start nothing more; the running agents finish and land (once per run)."""
        if self.drain_reason is not None:
            return
        self.drain(BUDGET)
        spending = self.job.spending
        spent = spending.spent if spending is not None else None
        self.job.events.record(
            ev.BUDGET_EXHAUSTED,
            ev.budget_exhausted(
                self.job.job_id,
                spent.cost_usd if spent else 0.0,
                spent.tokens if spent else 0,
                self.job.store.masker.text(detail),
            ),
        )
        self.job.reporter.emit(
            Note(
                "warn",
                f"Budget exhausted (${spent.cost_usd if spent else 0.0:.4f} and"
                f" {spent.tokens if spent else 0} tokens spent; {detail}): no new agent"
                " starts, running ones finish",
            )
        )

    def _retry(self, outcome: AgentOutcome, delay: float) -> None:
        job = self.job
        job.store.items.transition(job.job_id, outcome.item_id, ItemState.PENDING)
        job.events.record(
            ev.AGENT_RETRYING,
            ev.agent_retrying(job.job_id, outcome, delay),
            agent_id=outcome.agent_id,
        )
        job.reporter.emit(
            Note(
                "warn",
                f"{outcome.item_id} failed (attempt {outcome.attempt}); retrying in"
                f" {delay:g} s: {outcome.error}",
            )
        )
        self.executor.submit(
            AgentTask(
                job_id=job.job_id,
                item_id=outcome.item_id,
                index=outcome.index,
                item=self.items[outcome.index],
                spec=job.spec,
                attempt=outcome.attempt + 1,
            ),
            delay=delay,
        )

    async def _stop(
        self,
        landings: set[asyncio.Task[AgentOutcome]],
        next_agent: asyncio.Task[Finished[AgentTask, AgentOutcome]] | None,
    ) -> None:
        """Cancel agents (their processes are killed); let merges in flight finish cleanly."""
        self.stopping = True
        await self.executor.cancel_all()
        if next_agent is not None:
            next_agent.cancel()
        pending = [*landings, *([next_agent] if next_agent else [])]
        for result in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(result, AgentOutcome):
                self._settle(result)
        job = self.job
        for record in job.store.items.find(job.job_id, states=(ItemState.RUNNING,)):
            # never finished: back to pending, so resume runs it again from a fresh worktree
            job.store.items.transition(job.job_id, record.item_id, ItemState.PENDING)
            if job.remote:
                await drop_incoming(job.setting.repo, job.job_id, record.item_id)
            elif record.agent_worktree and record.agent_branch:
                await discard_agent_worktree(
                    job.setting.repo, Path(record.agent_worktree), record.agent_branch
                )
                job.store.worktrees.forget(record.agent_worktree)

    def _counts(self) -> None:
        outcomes = self.summary.outcomes.values()
        self.job.events.counts(
            MapCounts(
                total=len(self.items) if self.only is None else len(self.only),
                done=sum(1 for o in outcomes if o.ok),
                failed=sum(1 for o in outcomes if not o.ok),
                running=self.running,
                merging=self.merging,
            )
        )
