"""T28: 1,000 items with 100 dead-lettered, and the store's cost per DLQ entry.

The full run is the SLOW tier (`pytest -m slow tests/reliability/test_scale.py`); the DLQ-add
timing runs against the store directly and is fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.scenario import Scenario, open_scenario

from prodigy.store import open_store

FAIL_EVERY = 10  # items whose n is a multiple of this fail, deterministically

SCALE_WF = """
name: scale
mode: mapreduce
map:
  input: items.json
  max_parallel: 4
  agent_template:
    - shell: test $(( ${item.n} % 10 )) -ne 0 || test -f "$HOME/fixed"
    - shell: mkdir -p out && echo ${item.n} > out/${item.n}.txt && git add out && git commit -qm "item ${item.n}"
"""


def test_t28_the_hundredth_dlq_add_costs_what_the_first_does(tmp_path: Path) -> None:
    """Adding to the DLQ never rescans or rewrites what is already there. The cost of an
    add is counted in SQLite virtual-machine steps (a progress handler on the store's own
    connection), not timed: the same figure on a quiet and on a loaded machine."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # 0: go on

    with open_store(tmp_path / "home") as store:
        repo = store.repos.ensure(str(tmp_path))
        store.sessions.create(
            session_id="s", repo_key=repo.key, workflow_path="w", workflow_hash="h"
        )
        store.jobs.create(job_id="job", session_id="s")
        store.items.add("job", [(f"item_{i}", {"n": i, "pad": "x" * 200}) for i in range(1000)])
        store._db._conn.set_progress_handler(count, 1)  # white-box: count its work
        cost = []
        for i in range(0, 1000, 10):
            before = steps
            store.dlq.add_failure(
                job_id="job",
                item_id=f"item_{i}",
                item_data={"n": i, "pad": "x" * 200},
                failure={"attempt_number": 1, "error_message": f"failed {i}"},
                error_signature="CommandFailed::failed",
            )
            cost.append(steps - before)
    first, last = statistics.median(cost[:10]), statistics.median(cost[-10:])
    assert len(cost) == 100 and first > 0
    print(f"T28 DLQ add: {first} SQLite steps (first ten), {last} (last ten)")
    # a B-tree lookup grows with log(n); a rescan would grow 100-fold here
    assert last <= 1.5 * first, f"first adds {first} SQLite steps each, the last {last}"


@dataclass
class Peaks:
    rss_kb: int = 0
    fds: int = 0
    zombies: int = 0
    samples: list[int] = field(default_factory=list)


def _sample(pid: int, peaks: Peaks) -> None:
    proc = Path(f"/proc/{pid}")
    try:
        status = (proc / "status").read_text()
        fds = len(os.listdir(proc / "fd"))
    except OSError:
        return
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            peaks.rss_kb = max(peaks.rss_kb, int(line.split()[1]))
    peaks.fds = max(peaks.fds, fds)


def _state_bytes(home: Path) -> int:
    """Bytes prodigy keeps under its home, the worktrees (checkouts) excluded."""
    total = 0
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if Path(root, d) != home / "worktrees"]
        total += sum(Path(root, f).stat().st_size for f in files)
    return total


def _zombies_of(pid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            count += 1
    return count


def _run_measured(s: Scenario, items: int) -> tuple[int, Peaks, float]:
    (s.repo / "items.json").write_text(json.dumps([{"n": i} for i in range(items)]))
    s.git("add", "items.json")
    s.git("commit", "-qm", f"{items} items")
    before = _state_bytes(s.home / ".prodigy") if (s.home / ".prodigy").exists() else 0
    started = time.monotonic()
    proc = s.start("run", s.workflow("scale", SCALE_WF), "-y")
    peaks = Peaks()
    while proc.poll() is None:
        _sample(proc.pid, peaks)
        time.sleep(0.2)
    run = s.finish(proc, timeout=60)
    assert run.code == 0, run
    peaks.zombies = _zombies_of(proc.pid)
    return _state_bytes(s.home / ".prodigy") - before, peaks, time.monotonic() - started


def _dlq_keys(s: Scenario, job: str) -> set[str]:
    listed = s.prodigy("dlq", "list", "--job", job, "--json")
    assert listed.code == 0, listed
    return {entry["item_id"] for entry in json.loads(listed.stdout)}


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_t28_a_thousand_items_with_a_hundred_failures(tmp_path: Path) -> None:
    with open_scenario(tmp_path / "small") as small:
        small_bytes, _, _ = _run_measured(small, 100)
    with open_scenario(tmp_path / "big") as s:
        big_bytes, peaks, seconds = _run_measured(s, 1000)
        print(
            f"T28: 1000 items in {seconds:.0f} s, {big_bytes} state bytes (100 items: "
            f"{small_bytes}), peak RSS {peaks.rss_kb} kB, peak fds {peaks.fds}"
        )
        assert big_bytes <= 15 * small_bytes, (big_bytes, small_bytes)
        assert peaks.rss_kb < 300 * 1024
        assert peaks.fds < 256
        assert peaks.zombies == 0
        assert s.pids(str(s.root)) == []
        job = _job_id(s)
        failing = {f"item_{i}" for i in range(0, 1000, FAIL_EVERY)}
        assert _dlq_keys(s, job) == failing, "dlq list must show all 100, none evicted"
        # dlq retry after the fix, crashing once in the middle when that crash point exists
        (s.home / "fixed").write_text("")
        s.env["PRODIGY_CRASH_AT"] = "after-dlq-remove-before-requeue:37"
        first = s.prodigy("dlq", "retry", job, "-y", timeout=600)
        del s.env["PRODIGY_CRASH_AT"]
        if first.code != 0:
            again = s.prodigy("dlq", "retry", job, "-y", timeout=600)
            assert again.code == 0, again
        done = set(
            s.git("log", "--format=%(trailers:key=Prodigy-Item,valueonly)", "master").split()
        )
        landed = {entry.split("/", 1)[1] for entry in done if entry.startswith(f"{job}/")}
        in_dlq = _dlq_keys(s, job)
        everything = {f"item_{i}" for i in range(1000)}
        assert landed | in_dlq == everything, "an item was lost"
        assert not landed & in_dlq, "an item is both landed and in the DLQ"
        # last, so a slow machine still checks everything else: 10 min on 2 idle cores
        assert seconds < 600, f"1000 items took {seconds:.0f} s"


def _job_id(s: Scenario) -> str:
    with contextlib.closing(sqlite3.connect(s.db)) as conn:
        row = conn.execute("SELECT id FROM jobs ORDER BY created_at DESC").fetchone()
    return str(row[0])
