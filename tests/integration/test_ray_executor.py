"""`--executor ray` on a real local Ray cluster (default tier: one small happy path).

The coordinator (`prodigy run`, a subprocess with its own HOME) and the worker node share no
path; the node has the workflow's secret in the environment of its `ray start`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mapreduce import MapReduceRepo
from tests.support.ray_cluster import (
    RAY_ENV,
    RayCluster,
    node_leftovers,
    ray_available,
    start_cluster,
)
from tests.support.repos import git

SECRET = "tok-5f1e9c0d-ray-secret"

pytestmark = pytest.mark.skipif(
    not ray_available(), reason="Ray is not installed (pip install 'prodigy[ray]')"
)

WORKFLOW = """
name: ray-map
mode: mapreduce
secrets:
  API_TOKEN: {provider: env, key: API_TOKEN}
map:
  input: items.json
  max_parallel: 2
  agent_template:
    - shell: echo "agent has $API_TOKEN on $(hostname)"
    - shell: mkdir -p out && printf '%s\\n' "${item.text}" > "out/${item.id}.txt"
    - shell: git add out && git commit -qm "item ${item.id}"
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    started = start_cluster(workers=1, worker_env={"API_TOKEN": SECRET})
    try:
        yield started
    finally:
        started.stop()


@pytest.mark.timeout(400)
def test_items_run_on_the_worker_node_and_land_once(tmp_path: Path, cluster: RayCluster) -> None:
    mr = MapReduceRepo(tmp_path)
    items = [{"id": f"i{n}", "text": f"text {n}"} for n in range(5)]
    mr.items(items)

    done = mr.run(
        WORKFLOW,
        "--executor",
        "ray",
        "--ray-address",
        cluster.address,
        timeout=300,
        env={**RAY_ENV, "API_TOKEN": SECRET},
    )

    assert done.returncode == 0, done.stdout + done.stderr
    for item in items:
        assert (mr.repo / "out" / f"{item['id']}.txt").read_text() == f"{item['text']}\n"
    trailers = git(mr.repo, "log", "--format=%(trailers:key=Prodigy-Item,valueonly)").split()
    assert len(trailers) == 5 and len(set(trailers)) == 5
    events = mr.prodigy("events", "ls", "--json")
    records = [r["event"] for r in json.loads(events.stdout)]
    started = [r for r in records if r["event_type"] == "agent_started"]
    completed = [r for r in records if r["event_type"] == "agent_completed"]
    nodes = {r["node"] for r in started}
    assert len(started) == 5 and nodes and "local" not in nodes
    assert all(n.startswith("127.0.0.2/") for n in nodes)
    assert {r["node"] for r in completed} == nodes
    assert "node" in done.stdout  # the items table has the node column
    # nothing left behind: no incoming ref, no agent worktree or branch, here or on the node
    assert git(mr.repo, "for-each-ref", "refs/prodigy/").strip() == ""
    assert "prodigy-agent" not in git(mr.repo, "branch", "--list", "--all")
    assert node_leftovers(cluster) == []
    # the secret never reached the coordinator's output or the Ray session logs
    assert SECRET not in done.stdout + done.stderr
    logs = subprocess.run(
        ["grep", "-rl", SECRET, str(cluster.base)], capture_output=True, text=True, check=False
    )
    assert logs.stdout == ""
