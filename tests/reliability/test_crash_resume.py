"""Crash and resume (reliability.md §5 group A): T02-T06 fast; T01 in the slow tier."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.reliability import (
    CRASH_EXIT,
    CrashRepo,
    item_workflow,
    kill_group,
    tagged_processes,
    wait_until,
)


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


def _has_job(repo: CrashRepo) -> bool:
    try:
        return bool(repo.query("SELECT id FROM jobs"))
    except sqlite3.Error:
        return False


@pytest.mark.slow
@pytest.mark.timeout(3600)
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
        wait_until(lambda repo=repo: _has_job(repo), timeout=120)  # a map to kill
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


FAILING_AGENT = """\
- shell: test "${item.id}" != k003
"""
FAST_POINTS = [
    ("during-worktree-add", 2),
    ("after-agent-commit", 1),
    ("before-merge", 2),
    ("after-merge-before-journal", 1),
    ("mid-dlq-add", 1),
]
SLOW_POINTS = [
    (point, n)
    for point in (
        "during-worktree-add",
        "after-agent-commit",
        "before-merge",
        "after-merge-before-journal",
    )
    for n in (1, 2, 4)
    if (point, n) not in FAST_POINTS
]


def _crash_and_resume(cr: CrashRepo, point: str, n: int) -> None:
    cr.numbered(5)
    cr.write_workflow(item_workflow(max_parallel=2, extra_agent=FAILING_AGENT))
    crashed = cr.crash_run(point, n)
    assert crashed.returncode == CRASH_EXIT, crashed.stdout + crashed.stderr
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check = cr.check(expect_items=[f"item_{i}" for i in range(5)])
    assert check.dlq == {"item_2"}  # k003 fails every time; the rest land once
    assert len(check.landed) == 4
    for key in ("k001", "k002", "k004", "k005"):
        assert 1 <= cr.invocations(key) <= 2


@pytest.mark.parametrize(("point", "n"), FAST_POINTS)
def test_t02_crash_at_a_named_point_then_resume(cr: CrashRepo, point: str, n: int) -> None:
    _crash_and_resume(cr, point, n)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("point", "n"), SLOW_POINTS)
def test_t02_every_point_slow(cr: CrashRepo, point: str, n: int) -> None:
    _crash_and_resume(cr, point, n)


HANG_FIRST = """\
- shell: |
    mkdir -p work && echo "${item.id}" > work/${item.id}.txt
    if [ ! -e "$HOME/no-hang" ]; then
      echo start >> "$HOME/started"
      git add work && git commit -qm "half ${item.id}"
      sleep 300
    fi
"""


def test_t04_crash_while_agents_hold_work_runs_them_again_and_lands_once(
    cr: CrashRepo,
) -> None:
    cr.numbered(6)
    cr.write_workflow(item_workflow(max_parallel=4, extra_agent=HANG_FIRST))
    proc = cr.start("run", str(cr.workflow_path), "-y")
    started = cr.home / "started"
    wait_until(lambda: started.exists() and len(started.read_text().splitlines()) >= 4)
    kill_group(proc)  # the orchestrator only: its agents live on in their own sessions
    (cr.home / "no-hang").touch()
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "stopped" in resumed.stdout + resumed.stderr  # the old agents were swept first
    check = cr.check(expect_items=[f"item_{i}" for i in range(6)])
    assert len(check.landed) == 6
    for n in range(1, 7):
        assert cr.invocations(f"k{n:03d}") == 1  # the counted step runs after the hang
    assert len((cr.home / "started").read_text().splitlines()) == 4  # 4 ran, then again
    assert not list((cr.home / ".prodigy" / "worktrees").rglob("agent-*"))


MARKED_SETUP = """
- shell: echo s1 >> "$HOME/markers"
- shell: echo s2 >> "$HOME/markers" && echo s2
  capture: second
- shell: echo s3 >> "$HOME/markers"
"""
MARKED_REDUCE = """
- shell: echo r1 >> "$HOME/markers"
- shell: |
    echo r2 >> "$HOME/markers"
    printf '%s' "${map.results}" > "$HOME/results.json"
- shell: echo "r3 ${second}" >> "$HOME/markers"
"""


@pytest.mark.parametrize("point", ["after-setup-step-2", "reduce-step-2"])
def test_t05_crash_in_setup_or_reduce_resumes_at_the_next_step(cr: CrashRepo, point: str) -> None:
    cr.numbered(3)
    cr.write_workflow(item_workflow(setup=MARKED_SETUP, reduce=MARKED_REDUCE))
    crashed = cr.crash_run(point, 1)
    assert crashed.returncode == CRASH_EXIT, crashed.stdout + crashed.stderr
    before = [cr.invocations(f"k{n:03d}") for n in (1, 2, 3)]
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    markers = (cr.home / "markers").read_text().split("\n")
    for marker in ("s1", "s2", "s3", "r1", "r2"):
        assert markers.count(marker) == 1, markers
    assert "r3 s2" in markers  # a capture from before the crash reaches reduce
    after = [cr.invocations(f"k{n:03d}") for n in (1, 2, 3)]
    assert after == [1, 1, 1]
    if point.startswith("reduce"):
        assert before == after  # the map did not run again
    assert len(json.loads((cr.home / "results.json").read_text())) == 3
    cr.check(expect_items=["item_0", "item_1", "item_2"])


def test_t06_changed_input_or_workflow_is_refused_without_force(cr: CrashRepo) -> None:
    items = cr.numbered(6)
    cr.write_workflow(item_workflow(max_parallel=1))
    crashed = cr.crash_run("before-merge", 3)
    assert crashed.returncode == CRASH_EXIT
    parent = Path(cr.query("SELECT parent_worktree FROM jobs")[0]["parent_worktree"])
    # reordered: identity is the item, not its position, so nothing runs again
    (parent / "items.json").write_text(json.dumps(list(reversed(items))))
    # appended: refused, with a distinct exit code, unless --force
    (parent / "items.json").write_text(json.dumps([*reversed(items), {"id": "new1"}]))
    refused = cr.resume()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "changed since" in refused.stderr and "--force" in refused.stderr
    cr.workflow_path.write_text(
        cr.workflow_path.read_text().replace("max_parallel: 1", "max_parallel: 2")
    )
    refused = cr.resume()
    assert refused.returncode == 2
    assert "max_parallel: 2" in refused.stderr  # the diff is shown
    forced = cr.resume("--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    check = cr.check()
    assert len(check.landed) == 7  # the six, and the appended one
    assert all(cr.invocations(f"k{n:03d}") == 1 for n in (1, 2))  # landed before the crash


def test_t06_reordered_input_reruns_nothing(cr: CrashRepo) -> None:
    items = cr.numbered(4)
    cr.write_workflow(item_workflow(max_parallel=1))
    assert cr.crash_run("before-merge", 3).returncode == CRASH_EXIT
    parent = Path(cr.query("SELECT parent_worktree FROM jobs")[0]["parent_worktree"])
    (parent / "items.json").write_text(json.dumps(list(reversed(items))))
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert [cr.invocations(f"k{n:03d}") for n in (1, 2)] == [1, 1]
    assert len(cr.check().landed) == 4


def test_t05_a_failed_reduce_resumes_at_the_failed_step_after_a_fix(cr: CrashRepo) -> None:
    cr.numbered(2)
    reduce = """
    - shell: echo r1 >> "$HOME/markers"
    - shell: test -e "$HOME/fixed" && echo r2 >> "$HOME/markers"
    """
    cr.write_workflow(item_workflow(reduce=reduce))
    failed = cr.call("run", str(cr.workflow_path), "-y")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"prodigy resume {cr.session_id()}" in failed.stderr
    (cr.home / "fixed").touch()
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (cr.home / "markers").read_text().split() == ["r1", "r2"]
    assert [cr.invocations("k001"), cr.invocations("k002")] == [1, 1]
    assert len(cr.check(expect_items=["item_0", "item_1"]).landed) == 2
