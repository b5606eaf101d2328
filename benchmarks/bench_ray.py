"""Benchmark 8: `--executor ray` against the local executor, in the same run: Ray start-up
(a head that runs nothing plus one worker node, on loopback), the wall time of the same map
both ways (the difference per item is Ray's overhead), and the coordinator's own peak RSS."""

from __future__ import annotations

import time

from benchmarks.bench_overhead import STEP, check_landed
from benchmarks.timing import Row, Settings, Stats, unavailable
from benchmarks.workspace import items_json, make_workspace, mapreduce_workflow, reset_repo

NAME = "8. Ray executor"
PARALLEL = 2  # the worker node has 2 CPUs: one agent per CPU


def run(settings: Settings) -> list[Row]:
    try:
        import ray  # noqa: F401
        from tests.support.ray_cluster import RAY_ENV, start_cluster
    except ImportError:
        return [unavailable(NAME, "(all)", "Ray is not installed: pip install 'prodigy[ray]'")]
    items = settings.size(40, 4)
    space = make_workspace(
        settings.work / "ray",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, PARALLEL)},
    )
    began = time.perf_counter()
    cluster = start_cluster(workers=1)
    startup = time.perf_counter() - began
    try:
        env = {**space.env(), **RAY_ENV}
        ray_args = ("--executor", "ray", "--ray-address", cluster.address)
        local, remote, local_rss, remote_rss = [], [], [], []
        for _ in range(settings.runs):
            reset_repo(space)
            done = space.prodigy("run", "wf.yml", "-y", env=env)
            check_landed(space, items, done.stdout)
            local.append(done.wall)
            local_rss.append(done.max_rss_mb)
            reset_repo(space)
            done = space.prodigy("run", "wf.yml", "-y", *ray_args, env=env)
            check_landed(space, items, done.stdout)
            remote.append(done.wall)
            remote_rss.append(done.max_rss_mb)
    finally:
        cluster.stop()
    per_item = [(r - loc) / items for r, loc in zip(remote, local, strict=True)]
    case = f"N={items}, max_parallel {PARALLEL}"
    runs = f"{settings.runs} run(s) each, alternating, no warm-up"
    return [
        Row(
            benchmark=NAME,
            case="start-up: head (--num-cpus 0) + 1 worker node, until both are alive",
            unit="s",
            stats=Stats((startup,)),
            note="once per benchmark run; `ray start` of each node, then a driver sees them",
        ),
        Row(
            benchmark=NAME,
            case=f"{case}: wall of `prodigy run --executor ray`",
            unit="s",
            stats=Stats(tuple(remote)),
            baseline=Stats(tuple(local)),
            baseline_name="the same run with the local executor",
            note=f"{runs}; includes connecting to the cluster",
        ),
        Row(
            benchmark=NAME,
            case=f"{case}: overhead per item (ray - local) / N",
            unit="s",
            stats=Stats(tuple(per_item)),
            note="bundles both ways, task scheduling, a Ray worker per agent",
        ),
        Row(
            benchmark=NAME,
            case=f"{case}: coordinator peak RSS (children excluded)",
            unit="MB",
            stats=Stats(tuple(remote_rss)),
            baseline=Stats(tuple(local_rss)),
            baseline_name="local executor",
            note="the Ray driver (its core worker) lives in the coordinator's process",
        ),
    ]
