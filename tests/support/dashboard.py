"""Real jobs for the dashboard tests: `prodigy run` with the scripted agent in a throwaway repo."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from prodigy.web.server import Settings, create_app
from tests.support.cli import PRODIGY
from tests.support.mapreduce import MapReduceRepo

TOKEN = "test-token-0123456789abcdef"

# Item 2 (`fail: 1`) fails its first attempt (@flaky keeps its count under PRODIGY_HOME, so a
# later retry succeeds); `ticks` tenths of a second of waiting keep a job running while a test
# looks at it, cut short once the file $HOME/release exists.
WORKFLOW = """
name: dash-{name}
mode: mapreduce
agent: scripted
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - claude: |
        Work on item ${{item.id}}.
        @run for i in $(seq ${{item.ticks}}); do [ -e "$HOME/release" ] && break; sleep 0.1; done
        @flaky {name}-${{item.id}} ${{item.fail}}
        @write out/{name}-${{item.id}}.txt done
        @commit item ${{item.id}}
      commit_required: true
"""


def items(
    *, fail: tuple[int, ...] = (2,), count: int = 3, pause: float = 0
) -> list[dict[str, Any]]:
    """`pause` seconds of waiting per agent, as the `ticks` the workflow counts (an item
    without `ticks` left `${item.ticks}` unresolved and the agents did not wait at all)."""
    ticks = round(pause * 10)
    return [{"id": n, "fail": int(n in fail), "ticks": ticks} for n in range(1, count + 1)]


def run_job(mr: MapReduceRepo, name: str = "one") -> str:
    """Runs a job to its end (one item dead-lettered); returns its id."""
    done = mr.run(WORKFLOW.format(name=name))
    assert done.returncode == 0, done.stdout + done.stderr
    return mr.job_id()


def start_job(mr: MapReduceRepo, name: str) -> subprocess.Popen[bytes]:
    """Starts `prodigy run` in the background (its own process group, to stop it whole)."""
    path = mr.root / "wf" / f"{name}.yml"
    path.write_text(WORKFLOW.format(name=name).lstrip("\n"))
    return subprocess.Popen(
        [str(PRODIGY), "run", str(path), "-y"],
        cwd=mr.repo, env=mr.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def stop(proc: subprocess.Popen[Any]) -> None:
    """Kills a background run that a failed test left behind, with its agents."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def has_running_item(mr: MapReduceRepo) -> bool:
    try:
        return "running" in mr.items_state().values()
    except sqlite3.OperationalError:  # the run has not created the store yet
        return False


def release(mr: MapReduceRepo) -> None:
    """Lets every waiting agent of `mr` go on at once."""
    (Path(mr.env["HOME"]) / "release").touch()


def settings(mr: MapReduceRepo, **kw: Any) -> Settings:
    return Settings(home=prodigy_home(mr), token=TOKEN, env=mr.env, **kw)


def app_for(mr: MapReduceRepo, **kw: Any) -> Any:
    return create_app(settings(mr, **kw))


def prodigy_home(mr: MapReduceRepo) -> Path:
    return Path(mr.env["PRODIGY_HOME"])


def wait_for(check: Any, *, timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_exit(pid: int, timeout: float = 60) -> None:
    """Waits for a process the dashboard started (our child: its reaper thread reaps it)."""
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=timeout,
             what=f"process {pid} to end")  # fmt: skip


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
