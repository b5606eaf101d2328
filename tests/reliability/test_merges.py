"""Merges (reliability.md §5 group C): T11 conflict recorded, T12 half-done merge, T13 linear."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

from tests.support.reliability import CRASH_EXIT, CrashRepo, item_workflow, wait_until

SHARED_LINE = """\
- shell: |
    case "${item.id}" in k001|k002) echo "${item.id}" > shared.txt; git add shared.txt ;; esac
"""


def test_t11_a_merge_conflict_is_dead_lettered_with_its_branch_kept(cr: CrashRepo) -> None:
    cr.git("commit", "-q", "--allow-empty", "-m", "base")
    (cr.repo / "shared.txt").write_text("base\n")
    cr.git("add", "shared.txt")
    cr.git("commit", "-q", "-m", "shared")
    cr.numbered(4)
    cr.rules([{"match": "prodigy-merge-worktree", "exit": 1, "stderr": "cannot resolve\n"}])
    cr.write_workflow(item_workflow(max_parallel=1, extra_agent=SHARED_LINE))
    done = cr.call("run", str(cr.workflow_path), "-y")
    assert done.returncode == 0, done.stdout + done.stderr  # item failures do not fail the job
    assert "1 failed" in done.stdout + done.stderr
    check = cr.check(expect_items=[f"item_{i}" for i in range(4)])
    assert check.dlq == {"item_1"} and len(check.landed) == 3  # later items still merged
    [entry] = cr.dlq()
    failure = entry["failure_history"][-1]
    assert failure["error_type"] == "MergeConflict", failure
    assert "shared.txt" in failure["error_message"]
    job = cr.job_id()
    branch = f"prodigy-agent-{job}-1"
    assert branch in cr.branches()
    assert "k002" in cr.git("show", f"{branch}:shared.txt")
    assert cr.cat("shared.txt") == "k001\n"


def test_t12_a_half_finished_merge_in_the_parent_is_aborted_on_resume(cr: CrashRepo) -> None:
    cr.numbered(4)
    cr.write_workflow(item_workflow(max_parallel=1))
    assert cr.crash_run("before-merge", 3).returncode == CRASH_EXIT
    parent = Path(cr.query("SELECT parent_worktree FROM jobs")[0]["parent_worktree"])
    # a conflicting merge left in progress in the parent (a linked worktree)
    cr.git("branch", "side", "master")
    side = cr.root / "side"
    cr.git("worktree", "add", "-q", str(side), "side")
    (side / "out").mkdir()
    (side / "out" / "k001.txt").write_text("conflict\n")
    cr.git("-C", str(side), "add", "out")
    cr.git("-C", str(side), "commit", "-q", "-m", "side")
    cr.git("worktree", "remove", str(side))
    merge = subprocess.run(
        ["git", "merge", "--no-ff", "side"], cwd=parent, capture_output=True, check=False
    )
    assert merge.returncode != 0
    merge_head = cr.git("-C", str(parent), "rev-parse", "--git-path", "MERGE_HEAD").strip()
    assert (parent / merge_head).exists() or Path(merge_head).exists()
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "aborted a merge" in resumed.stdout + resumed.stderr
    cr.git("branch", "-D", "side")
    check = cr.check(expect_items=[f"item_{i}" for i in range(4)])
    assert len(check.landed) == 4
    revs = cr.git("rev-list", "master").split()
    grep = subprocess.run(
        ["git", "grep", "-e", "^<<<<<<<", *revs], cwd=cr.repo, capture_output=True, check=False
    )
    assert grep.stdout == b""


def test_t13_merges_are_serialised_linear_and_a_second_writer_is_refused(cr: CrashRepo) -> None:
    cr.numbered(12)
    gate = '- shell: while [ ! -e "$HOME/go" ]; do sleep 0.1; done\n'
    cr.write_workflow(item_workflow(max_parallel=4, extra_agent=gate))
    proc = cr.start("run", str(cr.workflow_path), "-y")
    wait_until(lambda: list((cr.state_home / "worktrees").rglob("agent-3")), timeout=60)
    second = cr.call("resume-job", cr.job_id())
    (cr.home / "go").touch()
    assert second.returncode != 0
    assert "locked" in second.stderr and f"pid {proc.pid}" in second.stderr, second.stderr
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, out + err
    check = cr.check(expect_items=[f"item_{i}" for i in range(12)])
    assert len(check.landed) == 12
    # the parent branch is merged into master: walk its first-parent chain
    chain = cr.git("rev-list", "--first-parent", "--parents", "master^2").splitlines()
    merges = [line.split() for line in chain if len(line.split()) == 3]
    assert len(merges) == 12
    for (_, first, _), (older, _, _) in itertools.pairwise(merges):
        assert first == older  # each merge's first parent is the previous merge
