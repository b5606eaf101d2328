"""Interrupted git operations and cleanup (reliability.md §5 group D): T14, T15, T16."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
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

ALL4 = [f"item_{i}" for i in range(4)]


# Landing runs beside the next agent: on a loaded machine the second item used to reach its
# merge while the first one's was still in flight. Later agents wait for the first merge.
WAIT_FOR_A_MERGE = """\
import contextlib, sqlite3, sys, time
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with contextlib.closing(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)) as db:
        if db.execute("SELECT 1 FROM items WHERE state = 'merged'").fetchone():
            sys.exit(0)
    time.sleep(0.05)
sys.exit("no item was merged within 60 s")
"""


def _crashed(cr: CrashRepo, count: int = 4) -> Path:
    """A job killed before its second merge, its first item merged; returns the parent
    worktree."""
    cr.numbered(count)
    script = cr.home / "wait-for-a-merge.py"
    script.write_text(WAIT_FOR_A_MERGE)
    wait = f"""\
        - shell: '[ "${{item.id}}" = k001 ] || "{sys.executable}" "{script}" "{cr.state_home}/prodigy.db"'
        """
    cr.write_workflow(item_workflow(max_parallel=1, extra_agent=wait))
    crashed = cr.crash_run("before-merge", 2)
    assert crashed.returncode == CRASH_EXIT, crashed.stdout + crashed.stderr
    return Path(cr.query("SELECT parent_worktree FROM jobs")[0]["parent_worktree"])


def _git_path(worktree: Path, name: str) -> Path:
    out = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-path", name],
        cwd=worktree,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def test_t14a_stale_index_locks_are_removed_with_a_warning(cr: CrashRepo) -> None:
    parent = _crashed(cr)
    locks = [_git_path(cr.repo, "index.lock"), _git_path(parent, "index.lock")]
    hour_ago = time.time() - 3600
    for lock in locks:
        lock.write_text("")
        os.utime(lock, (hour_ago, hour_ago))
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert not any(lock.exists() for lock in locks)
    repairs = [e["repair"] for e in cr.events() if e["event_type"] == "leftover_repaired"]
    assert sum("index.lock" in r for r in repairs) == 2, repairs
    assert "stale" in resumed.stdout + resumed.stderr
    assert len(cr.check(expect_items=ALL4).landed) == 4


def test_t14b_a_lock_in_use_by_live_git_is_never_deleted(cr: CrashRepo) -> None:
    parent = _crashed(cr)
    lock = _git_path(parent, "index.lock")
    lock.write_text("")
    live = subprocess.Popen(  # a live git working in the parent, as if it held the lock
        ["git", "cat-file", "--batch"], cwd=parent, stdin=subprocess.PIPE, text=True
    )
    try:
        began = time.monotonic()
        refused = cr.resume(timeout=60)
        assert time.monotonic() - began < 45  # bounded waiting, never a hang
        assert refused.returncode != 0
        assert str(lock) in refused.stderr and f"rm {lock}" in refused.stderr, refused.stderr
        assert str(live.pid) in refused.stderr
        assert lock.exists()
    finally:
        live.communicate("", timeout=10)
    resumed = cr.resume()  # the git process is gone: the lock is stale now
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(cr.check(expect_items=ALL4).landed) == 4


def _pending_index(cr: CrashRepo) -> int:
    rows = cr.query("SELECT idx FROM items WHERE state = 'pending' ORDER BY idx DESC")
    return int(rows[0]["idx"])


def test_t15_a_worktree_left_initializing_is_unlocked_removed_and_recreated(
    cr: CrashRepo,
) -> None:
    parent = _crashed(cr)
    job, index = cr.job_id(), _pending_index(cr)
    path = parent.parent / job / f"agent-{index}"
    branch = f"prodigy-agent-{job}-{index}"
    cr.git("worktree", "add", "-q", "-b", branch, str(path), "HEAD")
    admin = Path(cr.git("rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    (admin / "worktrees" / path.name / "locked").write_text("initializing")
    (path / "README.md").unlink()  # the checkout was cut short
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    text = resumed.stdout + resumed.stderr
    assert "already exists" not in text and "already checked out" not in text
    assert len(cr.check(expect_items=ALL4).landed) == 4


def test_resume_removes_leftover_branches_and_incoming_refs_read_in_one_pass(
    cr: CrashRepo,
) -> None:
    # resume lists the branches and incoming refs once (not one git process per item): the
    # leftovers of a pending and of a merged item must still be found and removed.
    _crashed(cr)
    job, pending = cr.job_id(), _pending_index(cr)
    merged = int(cr.query("SELECT idx FROM items WHERE state = 'merged' LIMIT 1")[0]["idx"])
    pending_item = cr.query(f"SELECT item_id FROM items WHERE idx = {pending}")[0]["item_id"]
    leftovers = [f"prodigy-agent-{job}-{pending}", f"prodigy-agent-{job}-{merged}"]
    for branch in leftovers:  # a branch whose worktree directory is already gone
        cr.git("branch", "-f", branch, "HEAD")
    incoming = f"refs/prodigy/incoming/{job}/{pending_item}/1"
    cr.git("update-ref", incoming, "HEAD")  # a remote attempt's commits, fetched, never merged
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    branches = cr.git("for-each-ref", "--format=%(refname:short)", "refs/heads/").split()
    assert not set(leftovers) & set(branches)
    assert cr.git("for-each-ref", f"refs/prodigy/incoming/{job}/").strip() == ""
    assert len(cr.check(expect_items=ALL4).landed) == 4


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_t15_sigkill_a_real_worktree_add_of_1000_files(tmp_path: Path) -> None:
    seed = int(os.environ.get("PRODIGY_T15_SEED") or random.randrange(1 << 30))
    print(f"T15 seed: {seed}")
    rng = random.Random(seed)
    for trial in range(10):
        cr = CrashRepo(tmp_path / f"trial-{trial}")
        bulk = cr.repo / "bulk"
        bulk.mkdir()
        for n in range(1000):
            (bulk / f"f{n}.txt").write_text(f"{n}\n" * 20)
        cr.git("add", "bulk")
        cr.git("commit", "-q", "-m", "bulk")
        parent = _crashed(cr)
        job, index = cr.job_id(), _pending_index(cr)
        path = parent.parent / job / f"agent-{index}"
        add = subprocess.Popen(
            ["git", "worktree", "add", "-q", "-b", f"prodigy-agent-{job}-{index}", str(path)],
            cwd=cr.repo,
        )
        time.sleep(rng.uniform(0.0, 0.3))
        add.send_signal(signal.SIGKILL)
        add.wait()
        resumed = cr.resume(timeout=300)
        assert resumed.returncode == 0, f"trial {trial} (seed {seed}): {resumed.stderr}"
        assert len(cr.check(expect_items=ALL4).landed) == 4


HANG = """\
- shell: |
    if [ ! -e "$HOME/no-hang" ]; then echo start >> "$HOME/started"; sleep 300; fi
"""


@pytest.mark.parametrize("how", ["resume", "worktree clean --all -f"])
def test_t16_cleanup_removes_only_what_the_run_made(cr: CrashRepo, how: str) -> None:
    cr.git("branch", "agent-foo")
    user_tree = cr.root / "user-tree"
    cr.git("worktree", "add", "-q", "-b", "user-branch", str(user_tree))
    cr.numbered(4)
    cr.write_workflow(item_workflow(max_parallel=4, extra_agent=HANG))
    proc = cr.start("run", str(cr.workflow_path), "-y")
    started = cr.home / "started"
    wait_until(lambda: started.exists() and len(started.read_text().splitlines()) == 4)
    kill_group(proc)
    job = cr.job_id()
    (cr.home / "no-hang").touch()
    if how == "resume":
        done = cr.resume()
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(cr.check(expect_items=ALL4).landed) == 4
    else:
        done = cr.call("worktree", "clean", "--all", "-f")
        assert done.returncode == 0, done.stdout + done.stderr
        listing = cr.git("worktree", "list", "--porcelain")
        assert job not in listing, listing
        assert not [b for b in cr.branches() if job in b]
        for pid in tagged_processes(job):  # the old agents: resume's sweep stops them
            os.kill(pid, signal.SIGKILL)
    assert "agent-foo" in cr.branches() and "user-branch" in cr.branches()
    assert (user_tree / "README.md").exists()
    assert str(user_tree) in cr.git("worktree", "list")
