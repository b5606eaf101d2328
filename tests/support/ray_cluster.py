"""A local Ray cluster for tests: a head that runs nothing (`--num-cpus 0`) plus worker nodes,
each with its own temp dir, HOME and PRODIGY_HOME (no path shared with the coordinator, so a
test cannot pass by reading the coordinator's files).

Every node binds 127.0.0.2 (Ray swaps 127.0.0.1/localhost for the routed address, which
would take test traffic off loopback), token auth is set explicitly, and nodes are stopped
by their own process session, never with `ray stop` (which kills every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.repos import git

IP = "127.0.0.2"
BIN = Path(sys.executable).parent
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def ray_available() -> bool:
    """Whether Ray is installed; on CI (`CI=true`) its absence fails instead of skipping."""
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Ray is not installed; CI must run the Ray tests (scripts/test)")
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind((IP, 0))
        return int(s.getsockname()[1])


def session_pids(sid: int) -> list[int]:
    """Live processes of one process session (a node started with start_new_session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


@dataclass
class RayNode:
    name: str
    root: Path  # the node's own HOME is root/home, PRODIGY_HOME root/home/.prodigy
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home" / ".prodigy"

    def kill(self, *, stop_first: bool = True) -> None:
        """The node dies at once: SIGSTOP all its processes, then SIGKILL (killed one at a
        time, Ray would report an ordinary task error instead of a lost node)."""
        pids = session_pids(self.proc.pid)
        for sig in ((signal.SIGSTOP,) if stop_first else ()) + (signal.SIGKILL,):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while session_pids(self.proc.pid) and time.monotonic() < deadline:
            for pid in session_pids(self.proc.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)


@dataclass
class RayCluster:
    base: Path
    port: int
    nodes: list[RayNode] = field(default_factory=list)
    dashboard_port: int | None = None

    @property
    def address(self) -> str:
        return f"{IP}:{self.port}"

    @property
    def workers(self) -> list[RayNode]:
        return [n for n in self.nodes if n.name != "head"]

    def start_node(
        self, name: str, *, head: bool = False, env: dict[str, str] | None = None
    ) -> RayNode:
        root = self.base / name
        home = root / "home"
        home.mkdir(parents=True)
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Ray Node\n\temail = node@example.invalid\n[commit]\n\tgpgsign = false\n"
        )
        node_env = {
            "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(home),
            "PRODIGY_HOME": str(home / ".prodigy"),
            "LANG": "C.UTF-8",
            "TMPDIR": str(root / "tmp"),
            **RAY_ENV,
            **(env or {}),
        }
        (root / "tmp").mkdir()
        args = [
            str(BIN / "ray"),
            "start",
            "--block",
            f"--node-ip-address={IP}",
            f"--temp-dir={root / 't'}",
            "--disable-usage-stats",
        ]
        if head:
            args += ["--head", f"--port={self.port}", "--num-cpus=0"]
            if self.dashboard_port:
                args += [
                    "--include-dashboard=true",
                    f"--dashboard-host={IP}",
                    f"--dashboard-port={self.dashboard_port}",
                ]
            else:
                args += ["--include-dashboard=false"]
        else:
            args += [f"--address={self.address}", "--num-cpus=2"]
        log = (root / "ray-start.log").open("wb")
        proc = subprocess.Popen(
            args, env=node_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        node = RayNode(name, root, proc, node_env)
        self.nodes.append(node)
        return node

    def wait_for(self, alive: int, timeout: float = 120) -> list[str]:
        """Wait until `alive` nodes are up; returns the addresses Ray reports for them."""
        script = (
            "import json, sys, time, ray\n"
            f"ray.init(address={self.address!r}, _node_ip_address={IP!r},"
            " logging_level='ERROR', log_to_driver=False)\n"
            "deadline = time.time() + float(sys.argv[1])\n"
            "while True:\n"
            "    nodes = [n for n in ray.nodes() if n['Alive']]\n"
            f"    if len(nodes) >= {alive} or time.time() > deadline: break\n"
            "    time.sleep(0.3)\n"
            "print(json.dumps([n['NodeManagerAddress'] for n in nodes]))\n"
        )
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                [sys.executable, "-c", script, str(timeout)],
                env={**os.environ, **RAY_ENV},
                capture_output=True,
                text=True,
                timeout=timeout + 30,
                check=False,
            )
            if done.returncode == 0:
                addresses: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
                if len(addresses) >= alive:
                    return addresses
            if time.monotonic() > deadline:
                raise AssertionError(f"the Ray cluster did not come up:\n{done.stderr[-2000:]}")
            time.sleep(1)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.kill(stop_first=False)
        shutil.rmtree(self.base, ignore_errors=True)


def start_cluster(
    workers: int = 1, *, dashboard: bool = False, worker_env: dict[str, str] | None = None
) -> RayCluster:
    # short: Ray's socket paths live under the temp dir and must stay under 108 bytes
    base = Path(tempfile.mkdtemp(prefix="prt-", dir="/tmp"))
    cluster = RayCluster(base, free_port(), dashboard_port=free_port() if dashboard else None)
    try:
        cluster.start_node("head", head=True)
        cluster.wait_for(1)
        for n in range(workers):
            cluster.start_node(f"w{n + 1}", env=worker_env)
        addresses = cluster.wait_for(1 + workers)
        assert addresses and all(a == IP for a in addresses), addresses
    except BaseException:
        cluster.stop()
        raise
    return cluster


def node_leftovers(cluster: RayCluster) -> list[str]:
    """Worktrees, branches and owner files left on the worker nodes."""
    found = []
    for node in cluster.workers:
        for area in (node.home / "remote").glob("*"):
            found += [str(p) for p in area.glob("work/*/*")]
            cache = area / "cache.git"
            found += git(cache, "branch", "--list").split()
            found += git(cache, "worktree", "list").splitlines()[1:]
    return found
