"""`--executor ray` failure model on a real local cluster (slow tier, docs/reliability.md).

Each test's cluster: a head running nothing plus two worker nodes, each with its own HOME and
PRODIGY_HOME; the coordinator is `prodigy run` in a subprocess with its own HOME.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import PRODIGY
from tests.support.mapreduce import MapReduceRepo
from tests.support.ray_cluster import (
    BIN,
    RAY_ENV,
    RayCluster,
    node_leftovers,
    ray_available,
    start_cluster,
)
from tests.support.repos import git

SECRET = "tok-88c1d2e3-slow-secret"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not ray_available(), reason="Ray is not installed (pip install 'prodigy[ray]')"
    ),
]


def workflow(step: str = "true", extra: str = "", parallel: int = 4) -> str:
    return f"""
name: ray-slow
mode: mapreduce
secrets:
  API_TOKEN: {{provider: env, key: API_TOKEN}}
{extra}
map:
  input: items.json
  max_parallel: {parallel}
  agent_template:
    - shell: echo "agent sees $API_TOKEN"
    - shell: {step}
    - shell: mkdir -p out && printf '%s\\n' "${{item.id}}" > "out/${{item.id}}.txt"
    - shell: git add out && git commit -qm "item ${{item.id}}"
"""


@pytest.fixture
def cluster() -> Iterator[RayCluster]:
    started = start_cluster(workers=2, dashboard=True, worker_env={"API_TOKEN": SECRET})
    try:
        yield started
    finally:
        started.stop()


def _repo(tmp_path: Path, count: int) -> MapReduceRepo:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"id": f"i{n:02d}"} for n in range(count)])
    return mr


def _args(cluster: RayCluster) -> tuple[str, ...]:
    return ("--executor", "ray", "--ray-address", cluster.address)


def _env() -> dict[str, str]:
    return {**RAY_ENV, "API_TOKEN": SECRET}


def _events(mr: MapReduceRepo, kind: str) -> list[dict[str, object]]:
    listed = json.loads(mr.prodigy("events", "ls", "--json").stdout)
    return [r["event"] for r in listed if r["event"]["event_type"] == kind]


def _landed_once(mr: MapReduceRepo, count: int, output: str = "") -> None:
    trailers = git(mr.repo, "log", "--format=%(trailers:key=Prodigy-Item,valueonly)").split()
    failures = mr.prodigy("events", "ls", "--type", "agent_failed").stdout
    assert len(trailers) == count, output + failures
    assert len(set(trailers)) == count
    for n in range(count):
        assert (mr.repo / "out" / f"i{n:02d}.txt").read_text() == f"i{n:02d}\n"
    assert git(mr.repo, "for-each-ref", "refs/prodigy/").strip() == ""
    assert "prodigy-agent" not in git(mr.repo, "branch", "--list", "--all")


def _marked(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_twelve_items_land_once_on_two_nodes_and_secrets_stay_out_of_ray(
    tmp_path: Path, cluster: RayCluster
) -> None:
    mr = _repo(tmp_path, 12)

    done = mr.run(workflow("sleep 1"), *_args(cluster), timeout=500, env=_env())

    assert done.returncode == 0, done.stdout + done.stderr
    _landed_once(mr, 12, done.stdout + done.stderr)
    nodes = {str(e["node"]) for e in _events(mr, "agent_started")}
    assert len(nodes) == 2, nodes  # both workers ran agents; the head (0 CPUs) none
    assert {str(e["node"]) for e in _events(mr, "agent_completed")} == nodes
    assert node_leftovers(cluster) == []
    listed = subprocess.run(
        [
            str(BIN / "ray"),
            "list",
            "tasks",
            "--detail",
            "--limit",
            "1000",
            "--address",
            f"http://127.0.0.2:{cluster.dashboard_port}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **RAY_ENV},
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "attempt_on_node" in listed.stdout
    assert SECRET not in listed.stdout
    logs = subprocess.run(
        ["grep", "-rl", SECRET, str(cluster.base)], capture_output=True, text=True, check=False
    )
    assert logs.stdout == ""
    assert SECRET not in done.stdout + done.stderr


def test_a_worker_node_killed_mid_job_loses_nothing_and_lands_nothing_twice(
    tmp_path: Path, cluster: RayCluster
) -> None:
    mr = _repo(tmp_path, 12)
    retry = (
        "on_item_failure: retry\nretry_config:\n  max_attempts: 3\n  backoff: {fixed: {delay: 0.5}}"
    )
    path = mr.root / "wf" / "wf.yml"
    path.write_text(workflow("sleep 4", extra=retry))
    proc = subprocess.Popen(
        [str(PRODIGY), "run", str(path), "-y", *_args(cluster)],
        cwd=mr.repo,
        env={**mr.env, **_env()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    victim = cluster.workers[0]
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # until the victim runs an agent
            store_events = mr.prodigy("events", "ls", "--json", "--type", "agent_started")
            started = json.loads(store_events.stdout or "[]")
            if len(started) >= 2:
                break
            time.sleep(0.5)
        time.sleep(1.5)
        victim.kill()
        out, _ = proc.communicate(timeout=500)
    finally:
        if proc.poll() is None:
            proc.kill()
    if proc.returncode != 0:  # the job may stop on the policy; resume must finish it
        job = json.loads(mr.prodigy("events", "ls", "--json", "--type", "job_started").stdout)
        job_id = job[0]["event"]["job_id"]
        resumed = mr.prodigy("resume-job", job_id, "-y", *_args(cluster), env=_env(), timeout=500)
        assert resumed.returncode == 0, out + resumed.stdout + resumed.stderr
    _landed_once(mr, 12)
    lost = [e for e in _events(mr, "agent_failed") if "was lost" in str(e.get("error"))]
    assert lost, "no attempt was reported lost with the node"


def test_a_coordinator_killed_after_fetching_a_bundle_lands_it_once_on_resume(
    tmp_path: Path, cluster: RayCluster
) -> None:
    mr = _repo(tmp_path, 6)

    crashed = mr.run(
        workflow(),
        *_args(cluster),
        timeout=400,
        env={**_env(), "PRODIGY_CRASH_AT": "after-bundle-fetch:3"},
    )

    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    assert git(mr.repo, "for-each-ref", "refs/prodigy/incoming/")  # fetched, not merged
    job = json.loads(mr.prodigy("events", "ls", "--json", "--type", "job_started").stdout)
    resumed = mr.prodigy(
        "resume-job", job[0]["event"]["job_id"], "-y", *_args(cluster), env=_env(), timeout=400
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    _landed_once(mr, 6)


def test_timeout_and_cancel_leave_no_process_on_the_workers(
    tmp_path: Path, cluster: RayCluster
) -> None:
    marker = f"ray-slow-marker-{os.getpid()}"
    mr = _repo(tmp_path, 2)
    step = f"(sleep 300; echo {marker}) & sleep 300 # {marker}"
    timed = mr.run(
        workflow(step, extra="", parallel=2).replace(
            "  max_parallel: 2", "  max_parallel: 2\n  agent_timeout_secs: 5"
        ),
        *_args(cluster),
        timeout=300,
        env=_env(),
    )
    assert timed.returncode == 0, timed.stdout + timed.stderr
    assert len(_events(mr, "agent_timed_out")) == 2
    time.sleep(2)
    assert _marked(marker) == []

    # Ctrl-C of the coordinator while agents run on the nodes
    mr2 = _repo(tmp_path / "second", 2)
    path = mr2.root / "wf" / "wf.yml"
    path.write_text(workflow(step, parallel=2))
    proc = subprocess.Popen(
        [str(PRODIGY), "run", str(path), "-y", *_args(cluster)],
        cwd=mr2.repo,
        env={**mr2.env, **_env()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 200
        while len(_marked(marker)) < 4 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _marked(marker), "the agents never started"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    deadline = time.monotonic() + 30
    while _marked(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _marked(marker) == []
    assert node_leftovers(cluster) == []
