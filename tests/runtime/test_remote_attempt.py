"""A remote attempt without Ray: two directories stand in for the coordinator's machine and a
worker node (no path shared). Real git, real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.repos import commit_file, git, make_repo
from tests.support.steps import context, steps

from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.runtime.merge_queue import MergeQueue, MergeRequest
from prodigy.runtime.remote.bundles import create_bundle
from prodigy.runtime.remote.coordinator import JobBundles, drop_incoming, incoming_ref, receive
from prodigy.runtime.remote.node import ATTEMPT_TAG, run_remote_attempt, sweep
from prodigy.runtime.remote.task import RemoteEvent, RemoteResult, RemoteTask, SecretRef

JOB = "mapreduce-20260101_000000-abc123"


def _task(tmp: Path, base: str, bundles: JobBundles, template: str, **more) -> RemoteTask:  # type: ignore[no-untyped-def]
    bundle = asyncio.run(bundles.incremental(base))
    fields = {
        "job_id": JOB,
        "item_id": "item_0",
        "index": 0,
        "item": {"name": "alpha"},
        "attempt": 1,
        "session_id": "session-x",
        "repo_key": "app-1234",
        "base": base,
        "root": bundles.root,
        "bundle": bundle,
        "template": steps(tmp, template),
        "variables": {"TEAM": "docs"},
        "env": {"TEAM": "docs"},
        "agent": "scripted",
        "grace_period": 0.5,
        **more,
    }
    return RemoteTask(**fields)


class Node:
    """A worker node: its own PRODIGY_HOME, its own environment."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.home = root / "prodigy-home"
        self.env = {**os.environ, "PRODIGY_HOME": str(self.home), **(env or {})}
        self.full_requests = 0
        self.events: list[RemoteEvent] = []

    def run(self, task: RemoteTask, bundles: JobBundles) -> RemoteResult:
        async def full() -> bytes:
            self.full_requests += 1
            return await bundles.full()

        return asyncio.run(
            run_remote_attempt(
                task,
                home=self.home,
                node="node-a",
                full_bundle=full,
                node_env=self.env,
                on_event=self.events.append,
            )
        )


WRITE = """
name: t
commands:
  - shell: printf '%s %s\\n' "${item.name}" "$TEAM" > out.txt
  - shell: git add out.txt && git commit -qm "item ${item.name}"
"""


@pytest.fixture
def coordinator(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "coordinator" / "repo")
    commit_file(repo, "src/a.txt", "a\n")
    return repo


def test_attempt_runs_on_the_node_and_its_commits_land_through_the_merge_queue(
    tmp_path: Path, coordinator: Path
) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    base = commit_file(coordinator, "src/b.txt", "b\n")  # merged after the job started
    node = Node(tmp_path / "node")
    task = _task(tmp_path, base, bundles, WRITE)

    result = node.run(task, bundles)

    outcome = AgentOutcome.from_json(result.outcome)
    assert outcome.ok, outcome.error
    assert len(outcome.commits) == 1 and result.bundle
    assert outcome.worktree_path is None and outcome.branch is None
    # the node had no history: verify said prerequisites missing, so the full bundle came
    assert node.full_requests == 1
    assert [e.label for e in node.events if e.kind == "step"][:1] == [
        'shell: printf \'%s %s\\n\' "${item.name}" "$TEAM" > out.txt'
    ]
    # nothing is left on the node: no worktree, no branch, no owner file
    cache = node.home / "remote" / "app-1234" / "cache.git"
    assert git(cache, "branch", "--list").strip() == ""
    assert git(cache, "worktree", "list").count("\n") == 1
    assert not list((node.home / "remote" / "app-1234").glob("work/*/*"))

    landed = asyncio.run(receive(coordinator, JOB, base, result))
    assert landed.branch == incoming_ref(JOB, "item_0", 1)
    parent = tmp_path / "coordinator" / "parent"
    git(coordinator, "worktree", "add", "-q", "-b", "parent", str(parent), base)
    queue = MergeQueue(parent, context(parent).agent, dict(os.environ), tmp_path / "logs")
    merged = asyncio.run(queue.merge(MergeRequest(JOB, "item_0", landed.branch or "")))
    assert merged.merged
    assert (parent / "out.txt").read_text() == "alpha docs\n"
    assert f"Prodigy-Item: {JOB}/item_0" in git(parent, "log", "-1", "--format=%B")
    asyncio.run(drop_incoming(coordinator, JOB))
    assert git(coordinator, "for-each-ref", "refs/prodigy/").strip() == ""


def test_a_node_that_has_the_root_gets_only_the_incremental_bundle(
    tmp_path: Path, coordinator: Path
) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    node = Node(tmp_path / "node")
    assert AgentOutcome.from_json(
        node.run(_task(tmp_path, root, bundles, WRITE), bundles).outcome
    ).ok
    base = commit_file(coordinator, "src/c.txt", "c\n")
    task = _task(tmp_path, base, bundles, WRITE, attempt=2)
    assert task.bundle is not None and len(task.bundle) < 2000

    result = node.run(task, bundles)

    assert AgentOutcome.from_json(result.outcome).ok
    assert node.full_requests == 1  # only for the first task


def test_a_bundle_that_does_not_hold_the_reported_commits_is_refused(
    tmp_path: Path, coordinator: Path
) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    result = Node(tmp_path / "node").run(_task(tmp_path, root, bundles, WRITE), bundles)
    forged = dict(result.outcome, commits=["0" * 40])

    outcome = asyncio.run(
        receive(
            coordinator, JOB, root, RemoteResult(outcome=forged, node="n", bundle=result.bundle)
        )
    )

    assert not outcome.ok and "does not hold" in (outcome.error or "")
    assert git(coordinator, "for-each-ref", "refs/prodigy/").strip() == ""


def test_secrets_come_from_the_node_and_are_masked_there(tmp_path: Path, coordinator: Path) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    node = Node(tmp_path / "node", {"NODE_API_TOKEN": "s3cr3t-value-xyz"})
    template = """
name: t
commands:
  - shell: echo "token is $API_TOKEN"
"""
    task = _task(
        tmp_path,
        root,
        bundles,
        template,
        secrets={"API_TOKEN": SecretRef("env", "NODE_API_TOKEN")},
        verbosity=2,
    )
    assert "s3cr3t" not in repr(task)

    result = node.run(task, bundles)

    outcome = AgentOutcome.from_json(result.outcome)
    assert outcome.ok
    assert "token is ***" in outcome.output
    assert "s3cr3t" not in json.dumps(result.outcome)
    assert all("s3cr3t" not in e.line for e in node.events)


def test_a_secret_missing_on_the_node_fails_the_attempt_with_the_fix(
    tmp_path: Path, coordinator: Path
) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    task = _task(
        tmp_path, root, bundles, WRITE, secrets={"API_TOKEN": SecretRef("env", "NOPE_TOKEN")}
    )

    outcome = AgentOutcome.from_json(Node(tmp_path / "node").run(task, bundles).outcome)

    assert not outcome.ok
    assert "NOPE_TOKEN is not set on this node" in (outcome.error or "")


def test_the_next_task_sweeps_what_a_dead_attempt_left(tmp_path: Path, coordinator: Path) -> None:
    """A worker killed hard leaves its worktree, branch and agent processes; the next task on
    the node removes them."""
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    node = Node(tmp_path / "node")
    node.run(_task(tmp_path, root, bundles, WRITE), bundles)  # makes the cache
    area = node.home / "remote" / "app-1234"
    cache = area / "cache.git"
    path = area / "work" / JOB / "agent-5"
    git(cache, "worktree", "add", "-q", "-b", f"prodigy-agent-{JOB}-5", str(path), root)
    leftover = subprocess.Popen(
        ["sleep", "300"], env={**os.environ, ATTEMPT_TAG: "deadbeef"}, start_new_session=True
    )
    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = {
        "pid": dead.pid,
        "started": "1",
        "token": "deadbeef",
        "branch": f"prodigy-agent-{JOB}-5",
    }
    (path.parent / "agent-5.owner.json").write_text(json.dumps(owner))
    try:
        swept = asyncio.run(sweep(area))

        assert swept == [str(path)]
        deadline = time.monotonic() + 5
        while leftover.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftover.returncode == -signal.SIGKILL
        assert not path.exists()
        assert git(cache, "branch", "--list").strip() == ""
    finally:
        if leftover.poll() is None:
            leftover.kill()


def test_a_failed_attempt_leaves_nothing_on_the_node(tmp_path: Path, coordinator: Path) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    node = Node(tmp_path / "node")
    template = """
name: t
commands:
  - shell: "false"
"""
    outcome = AgentOutcome.from_json(
        node.run(_task(tmp_path, root, bundles, template), bundles).outcome
    )
    assert not outcome.ok and outcome.failure_kind == "command"
    cache = node.home / "remote" / "app-1234" / "cache.git"
    assert git(cache, "branch", "--list").strip() == ""
    assert not list((node.home / "remote" / "app-1234").glob("work/*/*"))


def test_empty_history_difference_makes_no_bundle(coordinator: Path) -> None:
    head = git(coordinator, "rev-parse", "HEAD").strip()
    assert asyncio.run(create_bundle(coordinator, head, exclude=(head,))) is None


def _marked(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_cancelling_the_attempt_kills_its_processes_and_removes_its_worktree(
    tmp_path: Path, coordinator: Path
) -> None:
    root = git(coordinator, "rev-parse", "HEAD").strip()
    bundles = JobBundles(coordinator, root)
    node = Node(tmp_path / "node")
    marker = f"remote-cancel-{os.getpid()}"
    template = f"""
name: t
commands:
  - shell: (sleep 300; echo {marker}) & sleep 300 # {marker}
"""
    task = _task(tmp_path, root, bundles, template)

    async def scenario() -> None:
        async def full() -> bytes:
            return await bundles.full()

        running = asyncio.ensure_future(
            run_remote_attempt(task, home=node.home, node="n", full_bundle=full, node_env=node.env)
        )
        deadline = time.monotonic() + 20
        while not _marked(marker) and time.monotonic() < deadline:  # noqa: ASYNC110 - another process's state
            await asyncio.sleep(0.05)
        assert _marked(marker)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(scenario())

    assert _marked(marker) == []
    assert not list((node.home / "remote" / "app-1234").glob("work/*/*"))
