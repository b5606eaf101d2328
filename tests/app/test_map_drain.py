"""The map phase drains as well as stops: no new agent starts, running ones finish and land,
the rest stay pending for a resume (issue 13 item 4). Real git, real store, scripted agent."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

from tests.support.repos import git, make_repo
from tests.support.steps import context, steps

from prodigy.app.mapreduce.events import JobEvents
from prodigy.app.mapreduce.items import MapJob
from prodigy.app.mapreduce.map_phase import MapRunner
from prodigy.core.mapreduce.job_plan import item_id
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.core.records import ItemState
from prodigy.core.workflow import ErrorPolicy
from prodigy.runtime.executor import OnStarted
from prodigy.runtime.map_agent import AgentSetting, AgentSpec, AgentTask, local_runner
from prodigy.runtime.merge_queue import MergeQueue
from prodigy.store import open_store

TEMPLATE = """
- claude: |
    @write out/${item}.txt done ${item}
    @commit agent ${item}
"""


def _job(tmp_path: Path, store, parent: Path, drained: list[MapRunner]) -> MapJob:  # type: ignore[no-untyped-def]
    key = store.repos.ensure(str(parent)).key
    store.sessions.create(
        session_id="session-d", repo_key=key, workflow_path="wf.yml", workflow_hash="h"
    )
    store.jobs.create(job_id="job-d", session_id="session-d", parent_worktree=str(parent))
    items = ["a", "b", "c", "d"]
    store.items.add("job-d", [(item_id(i), x) for i, x in enumerate(items)])
    ctx = context(parent)
    setting = AgentSetting(repo=parent, parent=parent, agents_root=tmp_path / "agents", ctx=ctx)
    spec = AgentSpec(
        agent="scripted",
        template=steps(tmp_path, TEMPLATE),
        variables={},
        env_names=tuple(sorted(ctx.env)),
    )
    run_locally = local_runner(setting)

    async def runner(task: AgentTask, started: OnStarted) -> AgentOutcome:
        outcome = await run_locally(task, started)
        drained[0].drain("budget reached")  # after the first agent: a budget says stop starting
        return outcome

    return MapJob(
        store=store,
        events=JobEvents(store, "job-d", "session-d"),
        reporter=ctx.reporter,
        job_id="job-d",
        session_id="session-d",
        policy=ErrorPolicy(),
        max_parallel=1,
        setting=setting,
        spec=spec,
        runner=runner,
        queue=MergeQueue(parent, ctx.agent, ctx.env, tmp_path / "logs"),
        repo_key="k",
    )


def test_a_drained_map_phase_lands_what_ran_and_leaves_the_rest_pending(tmp_path: Path) -> None:
    parent = make_repo(tmp_path / "repo")
    with open_store(tmp_path / "home") as store:
        drained: list[MapRunner] = []
        job = _job(tmp_path, store, parent, drained)
        runner = MapRunner(job, ["a", "b", "c", "d"])
        drained.append(runner)
        summary = asyncio.run(runner.run())
        states = {r.item_id: r.state for r in store.items.find("job-d")}

    assert summary.drain_reason == "budget reached"
    assert summary.stop_reason is None
    assert summary.successful == 1 and summary.not_started == 3
    assert states == {
        "item_0": ItemState.MERGED,
        "item_1": ItemState.PENDING,
        "item_2": ItemState.PENDING,
        "item_3": ItemState.PENDING,
    }
    assert (parent / "out" / "a.txt").read_text() == "done a\n"
    assert "Prodigy-Item: job-d/item_0" in git(parent, "log", "-1", "--format=%B")


def test_an_agent_task_is_plain_data_that_survives_pickling(tmp_path: Path) -> None:
    spec = AgentSpec(
        agent="scripted",
        template=steps(tmp_path, TEMPLATE),
        variables={"PROJECT": "demo", "limits": {"n": 3}},
        env_names=("HOME", "PATH"),
        timeout=60.0,
    )
    task = AgentTask(
        job_id="job-d", item_id="item_0", index=0, item={"path": "a"}, spec=spec, base_commit="abc"
    )
    assert pickle.loads(pickle.dumps(task)) == task
