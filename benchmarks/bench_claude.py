"""Benchmark 7: 16 items at max_parallel 4 with the real Claude Code CLI against the scripted
model server, against the ideal of 4 rounds of one agent's median latency measured alone."""

from __future__ import annotations

import subprocess
import time

from tests.support.agent_clis import locate_claude_cli

from benchmarks.bench_overhead import check_landed
from benchmarks.timing import Row, Settings, Stats, repeat, run_child, unavailable
from benchmarks.workspace import (
    Workspace,
    git,
    items_json,
    make_workspace,
    mapreduce_workflow,
    reset_repo,
)
from prodigy.runtime.model_server import ModelServer

NAME = "7. real Claude Code CLI"
STEP = 'claude: "@write out-${item.n}.txt ${item.n}\\n@commit item ${item.n}"'
PROMPT = "@write out-alone.txt alone\n@commit item alone"


def run(settings: Settings) -> list[Row]:
    found = locate_claude_cli()
    if found.path is None:
        return [unavailable(NAME, "16 items, max_parallel 4", found.reason)]
    items, parallel = settings.size(16, 4), settings.size(4, 2)
    rounds = items // parallel
    space = make_workspace(
        settings.work / "claude",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, parallel)},
    )
    cli = str(found.path)
    with ModelServer() as server:
        env = {
            **space.env(),
            **server.client_env(max_retries=0),
            "IS_SANDBOX": "1",
            "PRODIGY_CLAUDE": cli,
        }
        alone = repeat(lambda: _alone(space, cli, env), settings.runs)
        spaces = [make_workspace(settings.work / f"claude-{i}") for i in range(parallel)]
        together = repeat(lambda: _together(spaces, cli, env), settings.runs)

        def job() -> float:
            reset_repo(space)
            done = space.prodigy("run", "wf.yml", "-y", env=env)
            check_landed(space, items, done.stdout)
            return done.wall

        wall = repeat(job, settings.runs)
    ideal = Stats(tuple(rounds * s for s in alone.samples))
    return [
        Row(
            benchmark=NAME,
            case=f"{items} items, max_parallel {parallel}: prodigy run wall",
            unit="s",
            stats=wall,
            baseline=ideal,
            baseline_name=f"ideal ({rounds} rounds x one agent alone)",
            ratio_limit=1.3,
        ),
        Row(benchmark=NAME, case="one agent alone: claude -p in a checkout", unit="s", stats=alone),
        Row(
            benchmark=NAME,
            case=f"for scale: one round of {parallel} claude -p at once, without prodigy",
            unit="s",
            stats=together,
            baseline=alone,
            baseline_name="one agent alone",
            note="what running agents side by side costs on this machine by itself",
        ),
    ]


def _alone(space: Workspace, cli: str, env: dict[str, str]) -> float:
    """One agent's work without prodigy: the CLI writes and commits in the repository."""
    reset_repo(space)
    done = run_child(_argv(cli), cwd=space.repo, env=env)
    if "item alone" not in git(space.repo, "log", "-1", "--format=%s"):
        raise RuntimeError(f"claude did not commit in {space.repo}")
    return done.wall


def _together(spaces: list[Workspace], cli: str, env: dict[str, str]) -> float:
    """Wall time of one agent in each repository, all started at once."""
    for space in spaces:
        reset_repo(space)
    start = time.perf_counter()
    argv = _argv(cli)
    procs = [
        subprocess.Popen(
            argv, cwd=space.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for space in spaces
    ]
    codes = [proc.wait() for proc in procs]
    wall = time.perf_counter() - start
    if any(codes):
        raise RuntimeError(f"claude exited {codes} in {[str(s.repo) for s in spaces]}")
    return wall


def _argv(cli: str) -> list[str]:
    return [
        cli,
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
        "--",
        PROMPT,
    ]
