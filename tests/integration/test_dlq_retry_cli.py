"""`prodigy dlq retry` on jobs produced by real runs with the fake `claude`: after fixing the
cause, failing again, after a failed and an interrupted job, and refused while a run holds
the session."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from prodigy.runtime.locks import acquire_lock, lock_path
from tests.support.cli import PRODIGY
from tests.support.conformance import M07, NOOP_ITEMS
from tests.support.mapreduce import MapReduceRepo


def test_retry_after_fixing_the_cause_lands_and_leaves_the_dlq(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(NOOP_ITEMS)
    mr.rules([{"match": "out/2.txt", "exit": 7, "stderr": "no space left on device\n"}])
    assert mr.run(M07).returncode == 0
    job = mr.job_id()
    assert [e["item_id"] for e in mr.dlq()] == ["item_1"]
    assert "out/2.txt" not in mr.tree()
    calls = len(mr.calls())
    dry = mr.prodigy("dlq", "retry", job, "--dry-run")
    assert dry.returncode == 0 and "Would retry: 1 item(s)" in dry.stdout
    assert len(mr.calls()) == calls  # the dry run ran nothing
    mr.rules([])  # the cause is fixed
    session = mr.query("SELECT session_id FROM jobs")[0]["session_id"]
    with acquire_lock(lock_path(mr.home / ".prodigy" / "locks", session), owner="prodigy run"):
        busy = mr.prodigy("dlq", "retry", job, "-y")  # as if the run were still going
    assert busy.returncode == 1 and "is locked by a running prodigy" in busy.stderr
    assert len(mr.dlq()) == 1
    done = mr.prodigy("dlq", "retry", job, "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert mr.cat("out/2.txt") == "ok\n"
    assert mr.dlq() == []
    assert mr.items_state()["item_1"] == "merged"
    trailers = mr.git("log", "master", "--format=%(trailers:key=Prodigy-Item,valueonly)")
    assert sorted(t for t in trailers.split() if t) == [f"{job}/item_{i}" for i in range(3)]
    kinds = [e["event_type"] for e in mr.events()]
    assert kinds[-2:] == ["d_l_q_item_removed", "d_l_q_items_reprocessed"]
    again = mr.prodigy("dlq", "retry", job, "-y")
    assert again.returncode == 0 and "Nothing to retry" in again.stdout


def test_an_item_failing_again_stays_with_the_attempt_appended(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"id": 1, "pre": "fake-fail 3 still broken"}, {"id": 2, "pre": "fake-noop"}])
    workflow = M07.replace(
        "commit_required: true", 'commit_required: true\n    - claude: "/fake-noop"'
    )
    mr.rules([{"match": "out/2.txt", "exit": 0}])  # item 2 does not commit: manual review
    assert mr.run(workflow).returncode == 0
    job = mr.job_id()
    before = {e["item_id"]: e for e in mr.dlq()}
    assert before["item_1"]["reprocess_eligible"] == 0
    assert before["item_1"]["manual_review_required"] == 1
    head = mr.head()
    done = mr.prodigy("dlq", "retry", job, "-y")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skipping 'item_1': not eligible" in done.stdout + done.stderr
    assert "0 landed, 1 failed again" in done.stdout + done.stderr
    after = {e["item_id"]: e for e in mr.dlq()}
    assert after["item_0"]["failure_count"] == 2
    assert [h["attempt_number"] for h in after["item_0"]["failure_history"]] == [1, 2]
    assert after["item_1"] == before["item_1"]
    assert mr.head() == head
    # the job's branch, re-created for the retry, is gone again: nothing landed on it
    assert not [b for b in mr.branches() if b.startswith("prodigy-session-")]
    unknown = mr.prodigy("dlq", "retry", job, "--item", "item_9")
    assert unknown.returncode == 2 and "not in the DLQ" in unknown.stderr


def test_retry_of_a_failed_job_lands_in_its_branch_only(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(NOOP_ITEMS)
    mr.rules([{"match": "out/2.txt", "exit": 7, "times": 1}])
    failing = M07.replace("  - shell: echo", "  - shell: exit 4\n  - shell: echo")
    assert mr.run(failing).returncode == 1
    job = mr.job_id()
    [branch] = [b for b in mr.branches() if b.startswith("prodigy-session-")]
    done = mr.prodigy("dlq", "retry", job, "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing was merged into master" in done.stdout
    assert mr.cat("out/2.txt", branch) == "ok\n"
    assert "out/2.txt" not in mr.tree()
    assert mr.dlq() == []


def test_retry_of_an_interrupted_job(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"id": 1, "pre": "fake-noop"}, {"id": 2, "pre": "fake-sleep 30"}])
    mr.rules([{"match": "out/1.txt", "exit": 7, "times": 1}])
    (mr.root / "wf" / "wf.yml").write_text(M07.lstrip("\n"))
    run = subprocess.Popen(
        [str(PRODIGY), "run", str(mr.root / "wf" / "wf.yml"), "-y"],
        cwd=mr.repo, env=mr.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _dead_lettered(mr) and time.monotonic() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=30) == 130
    finally:
        run.kill()
    job = mr.job_id()
    assert mr.query("SELECT status FROM jobs")[0]["status"] == "interrupted"
    done = mr.prodigy("dlq", "retry", job, "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is interrupted" in done.stdout and "nothing was merged into master" in done.stdout
    [branch] = [b for b in mr.branches() if b.startswith("prodigy-session-")]
    assert mr.cat("out/1.txt", branch) == "ok\n"
    assert mr.dlq() == []


def _dead_lettered(mr: MapReduceRepo) -> bool:
    with contextlib.suppress(sqlite3.OperationalError):
        return (mr.home / ".prodigy" / "prodigy.db").exists() and bool(mr.dlq())
    return False
