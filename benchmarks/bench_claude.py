"""Benchmark 7: 16 items at max_parallel 4 with the real Claude Code CLI against the scripted
model server, against bash running the same `claude -p` commands with `xargs -P 4` in
worktrees prepared beforehand. Both sides run in the same rounds and take turns going first,
so a drift in the machine's load reaches both."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.agent_clis import locate_claude_cli

from benchmarks.bench_overhead import check_landed
from benchmarks.timing import ROOT, Row, Settings, Stats, run_child, unavailable
from benchmarks.workspace import (
    Workspace,
    first_commit,
    git,
    items_json,
    make_workspace,
    mapreduce_workflow,
    reset_repo,
)
from prodigy.runtime.agents.claude import ClaudeSettings, claude_argv
from prodigy.runtime.model_server import ModelServer

NAME = "7. real Claude Code CLI"
BASELINE = ROOT / "benchmarks" / "baseline_claude.sh"
Argv = Callable[[str], tuple[str, ...]]


def prompt(label: str) -> str:
    """What each agent is asked: the scripted model writes one file and commits it."""
    return f"@write out-{label}.txt {label}\n@commit item {label}"


# the map step asks the same as the baseline; a JSON string is a YAML double-quoted scalar
STEP = f"claude: {json.dumps(prompt('${item.n}'))}"


def run(settings: Settings) -> list[Row]:
    found = locate_claude_cli()
    if found.path is None:
        return [unavailable(NAME, "16 items, max_parallel 4", found.reason)]
    items, parallel = settings.size(16, 4), settings.size(4, 2)
    space = make_workspace(
        settings.work / "claude",
        {"items.json": items_json(items), "wf.yml": mapreduce_workflow(STEP, parallel)},
    )
    spaces = [make_workspace(settings.work / f"claude-{i}") for i in range(parallel)]
    cli = str(found.path)
    agent = ClaudeSettings(executable=cli)

    def argv(text: str) -> tuple[str, ...]:  # exactly what prodigy's claude agent runs
        return claude_argv(cli, agent, text)

    samples: dict[str, list[float]] = {"prodigy": [], "xargs": [], "alone": [], "together": []}
    with ModelServer() as server:
        env = {
            **space.env(),
            **server.client_env(max_retries=0),
            "IS_SANDBOX": "1",
            "PRODIGY_CLAUDE": cli,
        }
        sides: dict[str, Callable[[int], float]] = {
            "prodigy": lambda _: _prodigy(space, env, items),
            "xargs": lambda round_: _xargs(
                space, env, argv, items=items, parallel=parallel, round_=round_
            ),
        }
        for round_ in range(settings.runs + 1):  # round 0 is the warm-up
            order = ["prodigy", "xargs"] if round_ % 2 == 0 else ["xargs", "prodigy"]
            figures = {name: sides[name](round_) for name in order}
            figures["alone"] = _alone(space, env, argv)
            figures["together"] = _together(spaces, env, argv)
            if round_:
                for name, figure in figures.items():
                    samples[name].append(figure)
    wall, xargs, alone, together = (
        Stats(tuple(samples[name])) for name in ("prodigy", "xargs", "alone", "together")
    )
    runs = f"{settings.runs} round(s) after a warm-up, the side going first alternating"
    return [
        Row(
            benchmark=NAME,
            case=f"{items} items, max_parallel {parallel}: prodigy run wall",
            unit="s",
            stats=wall,
            baseline=xargs,
            baseline_name=f"bash: xargs -P {parallel} claude -p in prepared worktrees",
            ratio_limit=1.15,
            note=f"{runs}; the baseline's worktrees are made and removed untimed",
        ),
        Row(
            benchmark=NAME,
            case="for scale: one agent alone, claude -p in a checkout",
            unit="s",
            stats=alone,
        ),
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


def _prodigy(space: Workspace, env: dict[str, str], items: int) -> float:
    reset_repo(space)
    done = space.prodigy("run", "wf.yml", "-y", env=env)
    check_landed(space, items, done.stdout)
    return done.wall


def _xargs(
    space: Workspace, env: dict[str, str], argv: Argv, *, items: int, parallel: int, round_: int
) -> float:
    """Wall time of baseline_claude.sh: one agent per prepared worktree, `parallel` at once.
    Each worktree is on a fresh branch from the commit prodigy's agents start from."""
    work = space.root / f"xargs-{round_}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    start, made = first_commit(space), []
    try:
        for i in range(items):
            branch, tree = f"bench-xargs-{round_}-{i}", work / f"wt-{i}"
            git(space.repo, "worktree", "add", "-q", "-b", branch, str(tree), start)
            made.append((branch, tree))
            (work / f"argv-{i}").write_bytes(
                b"".join(os.fsencode(a) + b"\0" for a in argv(prompt(str(i))))
            )
        done = run_child(
            ["bash", str(BASELINE), str(work), str(items), str(parallel)],
            cwd=space.repo,
            env=env,
            check=False,
        )
        for i, (_, tree) in enumerate(made):  # a failed agent is an error, not a fast figure
            subject = git(tree, "log", "-1", "--format=%s").strip()
            if subject != f"item {i}":
                raise RuntimeError(
                    f"xargs baseline: claude did not commit in {tree} (exit {done.returncode},"
                    f" last commit {subject!r}):\n{_tail(work / f'err-{i}.txt')}"
                )
        return done.wall
    finally:
        for branch, tree in made:
            git(space.repo, "worktree", "remove", "--force", str(tree))
            git(space.repo, "branch", "-q", "-D", branch)
        shutil.rmtree(work, ignore_errors=True)


def _alone(space: Workspace, env: dict[str, str], argv: Argv) -> float:
    """One agent's work without prodigy: the CLI writes and commits in the repository."""
    reset_repo(space)
    done = run_child(argv(prompt("alone")), cwd=space.repo, env=env)
    if "item alone" not in git(space.repo, "log", "-1", "--format=%s"):
        raise RuntimeError(f"claude did not commit in {space.repo}")
    return done.wall


def _together(spaces: list[Workspace], env: dict[str, str], argv: Argv) -> float:
    """Wall time of one agent in each repository, all started at once."""
    for space in spaces:
        reset_repo(space)
    command = argv(prompt("alone"))
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            command, cwd=space.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for space in spaces
    ]
    codes = [proc.wait() for proc in procs]
    wall = time.perf_counter() - start
    if any(codes):
        raise RuntimeError(f"claude exited {codes} in {[str(s.repo) for s in spaces]}")
    return wall


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else "(no stderr file)"
