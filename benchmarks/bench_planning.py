"""Benchmark 2: planning 100,000 objects (about 20 MB) through json_path, a compound filter,
a two-key sort, distinct and max_items, as a whole process, against jq doing the same."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from benchmarks.plan_items import JQ_FILTER
from benchmarks.timing import ROOT, ChildRun, Row, Settings, Stats, python_argv, repeat, run_child

NAME = "2. planning"
WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
]


def run(settings: Settings) -> list[Row]:
    count = settings.size(100_000, 2_000)
    folder = settings.work / "planning"
    folder.mkdir(parents=True, exist_ok=True)
    data = write_input(folder / "items.json", count)
    size_mb = data.stat().st_size / 1e6
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    ours: list[ChildRun] = []

    def plan() -> float:
        done = run_child(python_argv("-m", "benchmarks.plan_items", str(data)), cwd=folder, env=env)
        ours.append(done)
        return done.wall

    wall = repeat(plan, settings.runs)
    timed = ours[1:]  # after the warm-up
    rss = Stats(tuple(run.max_rss_mb for run in timed))
    inside = Stats(tuple(float(run.stderr.split()[-1]) for run in timed))
    jq = _jq()
    rows = []
    if jq is None:
        note = "jq unavailable (not on PATH and apt-get install -y jq failed)"
        baseline, agree = None, ""
    else:
        jq_runs: list[ChildRun] = []

        def select_with_jq() -> float:
            done = run_child([jq, "-c", JQ_FILTER, str(data)], cwd=folder, env=env)
            jq_runs.append(done)
            return done.wall

        baseline = repeat(select_with_jq, settings.runs)
        same = json.loads(jq_runs[-1].stdout) == json.loads(timed[-1].stdout)
        agree = "jq selects the same items" if same else "**jq's selection differs**"
        note = f"{agree}; jq peak {max(r.max_rss_mb for r in jq_runs):.0f} MB"
    selected = len(json.loads(timed[-1].stdout))
    rows.append(
        Row(
            benchmark=NAME,
            case=f"{count:,} objects ({size_mb:.1f} MB) -> {selected} items: wall (process)",
            unit="s",
            stats=wall,
            baseline=baseline,
            baseline_name="jq",
            limit=2.0,
            note=note,
        )
    )
    rows.append(
        Row(
            benchmark=NAME,
            case="in-process planning time (read, parse, select)",
            unit="s",
            stats=inside,
        )
    )
    rows.append(
        Row(
            benchmark=NAME,
            case="peak RSS of the planning process",
            unit="MB",
            stats=rss,
            limit=400.0,
        )
    )
    return rows


def write_input(path: Path, count: int) -> Path:
    """About 225 bytes an object: ids, a nested owner, tags, a phrase; groups of three.

    Written one object at a time: built whole, the 100,000 objects took this process to
    180 MB, and Linux reports a parent's peak as the ru_maxrss of every child it starts
    afterwards (benchmarks/prodigy_rss.py), which then hid the children's own peaks."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"items": [')
        for i in range(count):
            item = {
                "id": i,
                "file": f"src/m{i % 500:03d}/f{i:06d}.py",
                "group": i // 3,
                "priority": (i * 13) % 10,
                "score": (i * 37) % 1000 / 10,
                "status": "closed" if i % 3 == 0 else "open",
                "owner": {"team": f"team-{i % 20}", "login": f"user{i % 997}"},
                "tags": [WORDS[i % 12], WORDS[(i * 5) % 12]],
                "description": " ".join(WORDS[(i + k) % 12] for k in range(3)),
            }
            out.write((", " if i else "") + json.dumps(item))
        out.write("]}")
    return path


def _jq() -> str | None:
    """jq from PATH, installed from Debian when missing (root only); None if that fails."""
    found = shutil.which("jq")
    if found is None and shutil.which("apt-get"):
        for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "jq"]):
            subprocess.run(argv, capture_output=True, check=False, timeout=600)
        found = shutil.which("jq")
    return found
