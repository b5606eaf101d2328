"""Crash and resume (reliability.md §5 group A): T02-T06 fast; T01 in the slow tier."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.harness import (
    CRASH_EXIT,
    CrashRepo,
    item_workflow,
    kill_group,
    tagged_processes,
)


@pytest.fixture
def cr(tmp_path: Path) -> CrashRepo:
    return CrashRepo(tmp_path)


def test_t03_crash_between_merge_and_journal_lands_once_and_is_reconciled(cr: CrashRepo) -> None:
    cr.numbered(8)
    cr.write_workflow(item_workflow(max_parallel=2))
    crashed = cr.crash_run("after-merge-before-journal", 7)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    states = cr.items_state()
    assert list(states.values()).count("merged") == 6, states
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check = cr.check(expect_items=[f"item_{i}" for i in range(8)])
    assert len(check.landed) == 8
    [reconciled] = [e for e in cr.events() if e["event_type"] == "item_reconciled"]
    item = reconciled["item_id"]
    key = f"k{int(item.removeprefix('item_')) + 1:03d}"
    assert cr.invocations(key) == 1


SLOW_AGENT = """\
- shell: sleep 0.$((RANDOM % 4))
"""


@pytest.mark.slow
def test_t01_random_sigkill_during_a_50_item_map(cr: CrashRepo) -> None:
    """20 seeded trials in one job's life: SIGKILL the orchestrator and its agents at a random
    moment, resume (killed again up to 3 times), and check the invariants each time."""
    seed = int(os.environ.get("PRODIGY_T01_SEED") or random.randrange(1 << 30))
    print(f"T01 seed: {seed} (re-run with PRODIGY_T01_SEED={seed})")
    rng = random.Random(seed)
    trials = int(os.environ.get("PRODIGY_T01_TRIALS", "20"))
    began = time.monotonic()
    for trial in range(trials):
        root = cr.root / f"trial-{trial}"
        root.mkdir()
        repo = CrashRepo(root)
        repo.numbered(50)
        repo.write_workflow(item_workflow(max_parallel=4, extra_agent=SLOW_AGENT))
        proc = repo.start("run", str(repo.workflow_path), "-y")
        kills = 0
        while True:
            try:
                out, err = proc.communicate(timeout=rng.uniform(1.0, 20.0))
            except subprocess.TimeoutExpired:
                kill_group(proc)
                for pid in tagged_processes(repo.job_id()):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                kills += 1
            else:
                assert proc.returncode == 0, (
                    f"trial {trial} (seed {seed}): {proc.args} exit {proc.returncode}\n{out}{err}"
                )
                break
            if kills > 3:
                done = repo.resume(timeout=600)
                assert done.returncode == 0, f"trial {trial} (seed {seed}):\n{done.stderr}"
                break
            proc = repo.start("resume", repo.session_id(), "-y")
        check = repo.check(expect_items=[f"item_{i}" for i in range(50)])
        assert len(check.landed) == 50, f"trial {trial} (seed {seed})"
        print(f"trial {trial}: {kills} kill(s), passed")
    assert time.monotonic() - began < 15 * 60 * max(1, trials / 20) * 3
