"""`python -m benchmarks.ab_overhead BEFORE_SRC AFTER_SRC [--items N] [--parallel P]...
[--rounds R]`: benchmark 1 (per-item overhead) for two versions of prodigy (two `src/`
directories, e.g. an older commit unpacked with `git archive COMMIT | tar -x -C /tmp/before`)
and its bash floor, interleaved in the same rounds (the order rotates each round, so load
drift hits all three alike). Prints a Markdown table of median wall and CPU time (user +
sys of the process and the git children it waited for) with the load average."""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.bench_overhead import BASELINE, STEP, check_landed
from benchmarks.timing import load, python_argv, run_child
from benchmarks.workspace import (
    Workspace,
    items_json,
    make_workspace,
    mapreduce_workflow,
    reset_repo,
)


def _once(space: Workspace, side: str, items: int, parallel: int) -> tuple[float, float]:
    reset_repo(space)
    if side == "bash":
        argv = ["bash", str(BASELINE), str(space.repo), str(space.root / "b"), str(items)]
        done = run_child([*argv, str(parallel)], cwd=space.repo, env=space.env())
        check_landed(space, items, done.stderr)
    else:
        env = {**space.env(), "PYTHONPATH": side}
        done = run_child(
            python_argv("-m", "prodigy", "run", "wf.yml", "-y"), cwd=space.repo, env=env
        )
        check_landed(space, items, done.stdout + done.stderr)
    return done.wall, done.cpu


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab_overhead")
    parser.add_argument("before", help="the src/ directory of the older version")
    parser.add_argument("after", help="the src/ directory of the newer version")
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--parallel", type=int, action="append", help="default: 1 and 4")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sides = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    sides["bash floor"] = "bash"
    root = Path(tempfile.mkdtemp(prefix="prodigy-ab-overhead-"))
    loads = [load()]
    print("| max_parallel | side | wall (median) | CPU (median) | wall / floor | CPU / floor |")
    print("|---|---|---|---|---|---|")
    for parallel in args.parallel or [1, 4]:
        files = {"items.json": items_json(args.items), "wf.yml": mapreduce_workflow(STEP, parallel)}
        space = make_workspace(root / f"p{parallel}", files)
        names = list(sides)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for name in names:  # warm-up
            _once(space, sides[name], args.items, parallel)
        for round_ in range(args.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                samples[name].append(_once(space, sides[name], args.items, parallel))
        walls = {n: statistics.median(w for w, _ in s) for n, s in samples.items()}
        cpus = {n: statistics.median(c for _, c in s) for n, s in samples.items()}
        for name in names:
            print(
                f"| {parallel} | {name} | {walls[name]:.2f} s | {cpus[name]:.2f} s"
                f" | {walls[name] / walls['bash floor']:.2f}x"
                f" | {cpus[name] / cpus['bash floor']:.2f}x |"
            )
    loads.append(load())
    before, after = (" / ".join(f"{x:.2f}" for x in sample) for sample in loads)
    print(f"\nN={args.items}, {args.rounds} rounds; load average {before} before, {after} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
