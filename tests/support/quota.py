"""Runs against a scripted subscription whose usage limit the test controls (issue 14):
the model server rejects every request of a quota window as Anthropic does at a 5-hour
limit, and the real Claude Code CLI reports it (docs/budgets-and-quotas.md)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from prodigy.runtime.model_server import ModelServer, QuotaWindow, ServerOptions
from tests.support.cli import CliResult, run_prodigy, start_prodigy
from tests.support.repos import prodigy_env


def quota_server(from_request: int, seconds: float) -> Iterator[ModelServer]:
    """A model server whose quota window opens at request `from_request` for `seconds`."""
    with ModelServer(ServerOptions(quota_window=QuotaWindow(from_request, seconds))) as server:
        yield server


def subscription_env(tmp_path: Path, claude_cli: Path, server: ModelServer) -> dict[str, str]:
    """prodigy's environment with the real Claude CLI logged in to `server` by a token."""
    return {
        **prodigy_env(tmp_path),
        **server.client_env(max_retries=0, subscription=True),
        "PRODIGY_CLAUDE": str(claude_cli),
        "IS_SANDBOX": "1",
    }


def run(repo: Path, env: dict[str, str], *args: str, timeout: float = 120) -> CliResult:
    return run_prodigy(*args, cwd=repo, env=env, timeout=timeout)


def events(env: dict[str, str], kind: str) -> list[dict[str, object]]:
    """The recorded events of one type (their payloads)."""
    done = run_prodigy("events", "ls", "--type", kind, "--json", cwd=Path.cwd(), env=env)
    assert done.returncode == 0, done.output
    if not done.stdout.strip().startswith("["):
        return []  # "No events match."
    return [record["event"] for record in json.loads(done.stdout)]


def sessions(env: dict[str, str]) -> list[dict[str, object]]:
    result: list[dict[str, object]] = run_prodigy(
        "sessions", "ls", "--all", "--json", cwd=Path.cwd(), env=env
    ).json()
    return result


def resume_job_of(output: str) -> str:
    """The job id in the `prodigy resume-job JOB` a paused run names."""
    marker = "prodigy resume-job "
    assert marker in output, output
    return output.split(marker, 1)[1].split(maxsplit=1)[0].rstrip(".;,")


def seconds_until(stamp: str) -> float:
    return (datetime.fromisoformat(stamp) - datetime.now().astimezone()).total_seconds()


def start_waiting_run(repo: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`prodigy run wf.yml -y` in the background, in its own process group, returned once
    its session is paused waiting out a usage limit (fails the test after 60 s)."""
    proc = start_prodigy("run", "wf.yml", "-y", cwd=repo, env=env, new_session=True)
    deadline = time.monotonic() + 60
    while not any(s["status"] == "paused" for s in sessions(env)):
        if time.monotonic() > deadline or proc.poll() is not None:
            stop_group(proc)
            raise AssertionError(f"the run never started waiting (exit {proc.returncode})")
        time.sleep(0.3)
    return proc


def stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the run's process group: it and any agent it left behind."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
