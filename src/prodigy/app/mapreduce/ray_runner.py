"""`--executor ray`: map agents run on a Ray cluster; setup, reduce and every merge stay here.

Each attempt is submitted with the parent's HEAD as its base and the bundle a node needs to
get there; what comes back is checked and fetched into the attempt's incoming ref, which the
merge queue lands with the item's trailer like a local agent's branch. Only the attempt the
ledger (the item's store row) names as current is accepted.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from prodigy.app.session.setup import SessionSetup
from prodigy.core.budget import Budget
from prodigy.core.env_resolution import secret_key_source
from prodigy.core.errors import NotImplementedYetError
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.core.masking import Masker
from prodigy.core.progress import Note
from prodigy.core.records import ItemState, repo_key
from prodigy.core.variables import JsonValue
from prodigy.runtime import git
from prodigy.runtime.agents import plugin_for
from prodigy.runtime.crashpoints import crash_point
from prodigy.runtime.executor import OnStarted
from prodigy.runtime.map_agent import AgentSetting, AgentTask
from prodigy.runtime.remote import ray_adapter
from prodigy.runtime.remote.coordinator import JobBundles, incoming_ref, receive
from prodigy.runtime.remote.task import RemoteEvent, RemoteResult, RemoteTask, SecretRef
from prodigy.store import Store

WATCHDOG_SLACK = 10.0  # beyond timeout + grace: the node's own timeout should have fired


@dataclass(frozen=True, slots=True)
class RayChoice:
    """Where agents run, from --executor/--ray-address, else config `executor`/`ray.*`."""

    executor: str  # local | ray
    address: str = "auto"
    resources: Mapping[str, float] | None = None


def ray_choice(setup: SessionSetup) -> RayChoice:
    executor = setup.options.executor or setup.config.executor
    address = setup.options.ray_address or setup.config.ray.address
    return RayChoice(executor, address, dict(setup.config.ray.resources))


def refuse_ray_budget(executor: str, budget: Budget) -> None:
    """Budgets are enforced in the coordinator from each agent's usage as it streams in;
    the Ray adapter returns an attempt's usage only at its end, so a budget with Ray is
    refused before anything starts rather than overshot."""
    if executor == "ray" and not (budget.job.unlimited and budget.per_item.unlimited):
        raise NotImplementedYetError(
            "a budget (budget:, --max-cost-usd, --max-tokens) with --executor ray;"
            " run without a budget or with the local executor. Nothing was started"
        )


def check_ray(choice: RayChoice) -> None:
    """Before any work: Ray installed (else the one-line install hint) and reachable."""
    if choice.executor == "ray":
        ray_adapter.connect(choice.address)


class RayRunner:
    """The AgentRunner that runs each attempt on a Ray worker node."""

    def __init__(
        self,
        setup: SessionSetup,
        setting: AgentSetting,
        job_id: str,
        root: str,
        resources: Mapping[str, float],
    ) -> None:
        self.setup, self.setting, self.job_id = setup, setting, job_id
        self.resources = resources
        self.bundles = JobBundles(setup.repo, root)
        self._full_ref: Any = None
        self._full_lock = asyncio.Lock()
        self.masker: Masker = setup.store.masker

    async def __call__(self, task: AgentTask, started: OnStarted) -> AgentOutcome:
        base = await git.head_sha(self.setting.parent)
        remote = self._remote_task(task, base, await self.bundles.incremental(base))
        handle, stream = await ray_adapter.submit(remote, await self._full(), self.resources)
        limit = None if task.spec.timeout is None else task.spec.timeout + remote.grace_period
        result: RemoteResult | None = None
        try:
            async with asyncio.timeout(None if limit is None else limit + WATCHDOG_SLACK):
                async for message in stream:
                    if isinstance(message, RemoteResult):
                        result = message
                    else:
                        self._event(task, message, started)
        except TimeoutError:
            await self._cancel(handle, remote.grace_period)
            return _failed(task, "timeout", f"agent timed out after {limit:g} s (watchdog)")
        except asyncio.CancelledError:
            await self._cancel(handle, remote.grace_period)
            raise
        except ray_adapter.NodeLostError as exc:
            return _failed(task, "unknown", f"the node running the attempt was lost: {exc}")
        except RuntimeError as exc:
            return _failed(task, "unknown", str(exc))
        if result is None:
            return _failed(task, "unknown", "the node sent no result")
        if not self._current(task):
            # a stale attempt (the ledger moved on): its commits must never land
            return _failed(task, "unknown", "a stale attempt's result was ignored")
        outcome = await receive(self.setup.repo, self.job_id, base, result)
        crash_point("after-bundle-fetch")  # fetched, not yet merged: resume must land it once
        return replace(outcome, node=result.node)

    def _event(self, task: AgentTask, message: RemoteEvent, started: OnStarted) -> None:
        if message.kind == "started":
            started(message.line)
        elif message.kind == "step" and self.setting.on_step is not None:
            self.setting.on_step(task, message.label, message.index, message.total)
        elif message.kind == "line":
            self.setting.ctx.reporter.emit(Note("info", self.masker.text(message.line)))

    def _current(self, task: AgentTask) -> bool:
        return is_current(self.setup.store, self.job_id, task.item_id, task.attempt)

    async def _cancel(self, handle: Any, grace: float) -> None:
        """Soft first (the node kills the agent's process group), then force."""
        ray_adapter.cancel(handle, force=False)
        try:  # the node's own SIGTERM -> grace -> SIGKILL of the agent's group fits in here
            await asyncio.sleep(grace + 3)
        finally:
            ray_adapter.cancel(handle, force=True)

    async def _full(self) -> Any:
        async with self._full_lock:
            if self._full_ref is None:
                self._full_ref = ray_adapter.put(await self.bundles.full())
            return self._full_ref

    def _remote_task(self, task: AgentTask, base: str, bundle: bytes | None) -> RemoteTask:
        setup, ctx = self.setup, self.setting.ctx
        secrets = {
            name: SecretRef(*secret_key_source(ref.provider, ref.key))
            for name, ref in setup.workflow.secrets.items()
        }
        env: dict[str, str] = {}
        for name, value in ctx.env.items():
            if name in secrets or os.environ.get(name) == value:
                continue  # the node has its own environment; secrets it reads itself
            if self.masker.text(value) != value:
                secrets[name] = SecretRef("env", name)  # a secret value: the node provides it
                continue
            env[name] = value
        variables: dict[str, JsonValue] = {
            name: value
            for name, value in task.spec.variables.items()
            if name != "env" and self.masker.text(json.dumps(value)) == json.dumps(value)
        }
        return RemoteTask(
            job_id=task.job_id,
            item_id=task.item_id,
            index=task.index,
            item=task.item,
            attempt=task.attempt,
            session_id=setup.session_id,
            repo_key=_repo_key(setup),
            base=base,
            root=self.bundles.root,
            bundle=bundle,
            template=tuple(task.spec.template),
            variables=variables,
            env=env,
            secrets=secrets,
            agent=task.spec.agent,
            # the backend's own settings (executable, args, model): never a secret
            agent_settings=plugin_for(task.spec.agent).from_config(setup.config, ctx.grace_period),
            timeout=task.spec.timeout,
            step_timeout=ctx.default_timeout,
            grace_period=ctx.grace_period,
            git_variables=ctx.git_variables,
            verbosity=ctx.verbosity,
        )


def is_current(store: Store, job_id: str, item_id: str, attempt: int) -> bool:
    """Whether the ledger (the item's store row, written before submission) still names this
    attempt as the one running: any other attempt's result is stale and ignored."""
    record = store.items.get(job_id, item_id)
    return (
        record is not None
        and record.state is ItemState.RUNNING
        and record.agent_branch == incoming_ref(job_id, item_id, attempt)
    )


def _repo_key(setup: SessionSetup) -> str:
    return repo_key(str(setup.repo))


def _failed(task: AgentTask, kind: Any, error: str) -> AgentOutcome:
    return AgentOutcome(
        item_id=task.item_id,
        index=task.index,
        agent_id=task.agent_id,
        attempt=task.attempt,
        status="timeout" if kind == "timeout" else "failed",
        failure_kind=kind,
        error=error,
    )
