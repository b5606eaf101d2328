"""T07-T10: one writer per session or job; stale lock metadata is not a lock; jobs started
together never share a namespace; parallel worktree creation survives `.git/config.lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from tests.support.cli import CliResult
from tests.support.reliability import check_job
from tests.support.scenario import Scenario, open_scenario, wait_for

# Fails until $HOME/go exists; then the second step holds the session (and its lock) until
# the test creates $HOME/release, so the timing does not depend on the machine's load.
GATED = """
- shell: test -f "$HOME/go"
- shell: |
    echo ran >> "$HOME/ran.txt"
    for i in $(seq 900); do test -f "$HOME/release" && break; sleep 0.1; done
"""


def _failed_session(s: Scenario) -> str:
    first = s.run(s.workflow("gated", GATED))
    assert first.code == 1, first
    sid = first.session_id()
    (s.home / "go").write_text("")
    return sid


def _lock_file(s: Scenario, sid: str) -> Path:
    return s.home / ".prodigy" / "locks" / f"{sid}.lock"


@pytest.mark.parametrize("count", [2, 5])
def test_t07_concurrent_resumes_exactly_one_proceeds(tmp_path: Path, count: int) -> None:
    with open_scenario(tmp_path) as s:
        sid = _failed_session(s)
        procs = [s.start("resume", sid, "-y") for _ in range(count)]
        finished: dict[int, CliResult] = {}

        def refused_all_but_one() -> bool:
            for proc in procs:
                if proc.pid not in finished and proc.poll() is not None:
                    finished[proc.pid] = s.finish(proc)
            return len(finished) == count - 1

        # The holder waits for `release`, so every other resume must give up on its own.
        wait_for(refused_all_but_one, timeout=120)
        [winner] = [p for p in procs if p.pid not in finished]
        assert winner.poll() is None
        for run in finished.values():
            assert run.code == 1, run
            assert f"{sid} is locked by a running prodigy (pid {winner.pid}" in run.stderr, run
        (s.home / "release").write_text("")
        won = s.finish(winner)
        assert won.code == 0, won
        # The final state is that of one resume: the slow step ran once, the session is done.
        assert (s.home / "ran.txt").read_text() == "ran\n"
        assert s.session_status(sid) == "completed"
        assert not _held(_lock_file(s, sid))


def test_t07_resume_is_refused_while_the_run_itself_holds_the_session(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        (s.home / "go").write_text("")
        proc = s.start("run", s.workflow("gated", GATED), "-y")
        sid = wait_for(lambda: next(iter(s.session_ids()), None))
        wait_for(lambda: _held(_lock_file(s, sid)))
        refused = s.prodigy("resume", sid, "-y")
        assert refused.code == 1, refused
        assert f"is locked by a running prodigy (pid {proc.pid}" in refused.stderr
        assert f"kill {proc.pid}" in refused.stderr
        (s.home / "release").write_text("")
        done = s.finish(proc)
        assert done.code == 0, done
        assert (s.home / "ran.txt").read_text() == "ran\n"


def _held(path: Path) -> bool:
    """True while some process holds the flock on `path` (probed without taking it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _resume_proceeds(s: Scenario, sid: str) -> None:
    resumed = s.prodigy("resume", sid, "-y")
    assert resumed.code == 0, resumed
    assert s.session_status(sid) == "completed"
    assert "locked" not in resumed.output


def test_t08a_a_sigkilled_holder_leaves_no_lock(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        (s.home / "go").write_text("")
        proc = s.start("run", s.workflow("gated", GATED), "-y")
        sid = wait_for(lambda: next(iter(s.session_ids()), None))
        wait_for((s.home / "ran.txt").exists)  # inside the held step
        proc.kill()
        proc.communicate(timeout=30)
        s.kill_leftovers()
        (s.home / "release").write_text("")
        holder = json.loads(_lock_file(s, sid).read_text())
        assert holder["pid"] == proc.pid, "the dead holder's details are still in the file"
        assert not _held(_lock_file(s, sid))
        _resume_proceeds(s, sid)


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage {", b'[1, {"pid": -5}]'])
def test_t08b_an_empty_or_garbage_lock_file_is_not_a_lock(tmp_path: Path, content: bytes) -> None:
    with open_scenario(tmp_path) as s:
        sid = _failed_session(s)
        _lock_file(s, sid).write_bytes(content)
        (s.home / "release").write_text("")
        _resume_proceeds(s, sid)


def test_t08c_metadata_naming_a_live_unrelated_pid_is_not_a_lock(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        sid = _failed_session(s)
        sleeper = subprocess.Popen(["sleep", "60"])
        try:
            meta = {"pid": sleeper.pid, "host": socket.gethostname(), "started": "now"}
            _lock_file(s, sid).write_text(json.dumps(meta))
            (s.home / "release").write_text("")
            _resume_proceeds(s, sid)
            assert sleeper.poll() is None, "prodigy must not touch the pid it read"
        finally:
            sleeper.kill()
            sleeper.wait()


def test_t08d_another_hosts_metadata_refuses_only_while_the_flock_is_held(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        sid = _failed_session(s)
        path = _lock_file(s, sid)
        meta = {"pid": 4242, "host": "elsewhere.example", "started": "2026-01-01T00:00:00Z"}
        path.write_text(json.dumps(meta))
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            refused = s.prodigy("resume", sid, "-y")
            assert refused.code == 1, refused
            assert "pid 4242, on elsewhere.example" in refused.stderr, refused
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        (s.home / "release").write_text("")
        _resume_proceeds(s, sid)


# --- T09 two jobs started together -------------------------------------------------------------

ONE_JOB = """
name: {name}
mode: mapreduce
map:
  input: {items}
  max_parallel: 2
  agent_template:
    - shell: mkdir -p {name} && echo ${{item.n}} > {name}/${{item.n}}.txt
    - shell: git add {name} && git commit -qm "{name} ${{item.n}}"
"""


def test_t09_two_jobs_started_in_the_same_second_never_share_anything(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        for name in ("a", "b"):
            (s.repo / f"{name}.json").write_text(json.dumps([{"n": i} for i in range(4)]))
        s.git("add", "a.json", "b.json")
        s.git("commit", "-qm", "items")
        flows = [s.workflow(n, ONE_JOB.format(name=n, items=f"{n}.json")) for n in ("a", "b")]
        procs = [s.start("run", wf, "-y") for wf in flows]
        runs = [s.finish(p, timeout=120) for p in procs]
        for run in runs:
            assert run.code == 0, run
        jobs = [re.search(r"\(job (\S+)\)", r.output) for r in runs]
        job_ids = [j.group(1) for j in jobs if j]
        assert len(set(job_ids)) == 2, job_ids
        assert len({r.session_id() for r in runs}) == 2
        for job in job_ids:
            check_job(
                s.repo, s.home / ".prodigy", job, expect_items=[f"item_{i}" for i in range(4)]
            )
        for name in ("a", "b"):
            for i in range(4):
                assert s.cat(f"master:{name}/{i}.txt") == f"{i}\n"
        assert s.branches() == ["master"]
        assert s.session_worktrees() == []


# --- T10 worktree creation under .git/config.lock contention -----------------------------------


@contextlib.contextmanager
def _config_lock_holder(repo: Path, hold: float = 0.2) -> object:
    """A thread that keeps taking `.git/config.lock` for `hold` seconds, as a busy git would."""
    stop = threading.Event()
    lock = repo / ".git" / "config.lock"
    taken = [0]

    def loop() -> None:
        while not stop.is_set():
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                time.sleep(0.01)
                continue
            taken[0] += 1
            time.sleep(hold)
            os.close(fd)
            lock.unlink()
            time.sleep(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        stop.set()
        thread.join()


def test_t10_eight_agents_start_while_config_lock_is_contended(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        s.git("config", "branch.autoSetupMerge", "always")
        (s.repo / "items.json").write_text(json.dumps([{"n": i} for i in range(8)]))
        s.git("add", "items.json")
        s.git("commit", "-qm", "items")
        wf = s.workflow(
            "eight",
            ONE_JOB.format(name="eight", items="items.json").replace(
                "max_parallel: 2", "max_parallel: 8"
            ),
        )
        with _config_lock_holder(s.repo) as taken:
            run = s.run(wf, timeout=180)
        assert taken[0] > 3, "the contention never happened"
        assert not (s.repo / ".git" / "config.lock").exists()
        job = re.search(r"\(job (\S+)\)", run.output)
        assert job, run
        if run.code == 0:
            check_job(
                s.repo,
                s.home / ".prodigy",
                job.group(1),
                expect_items=[f"item_{i}" for i in range(8)],
            )
        else:  # the retry budget ran out: a clear error, and nothing half-made is left
            assert "config.lock" in run.output, run
        admin = s.repo / ".git" / "worktrees"
        leftovers = sorted(p.name for p in admin.iterdir()) if admin.exists() else []
        assert leftovers == [], leftovers
        assert [b for b in s.branches() if b.startswith("prodigy-agent")] == []
