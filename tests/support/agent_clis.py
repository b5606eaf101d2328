"""Locate (and if need be install) the real agent CLIs for the end-to-end tier.

Claude Code: `$PRODIGY_E2E_CLAUDE`, else `scripts/install-claude-cli`, which installs the
pinned version with npm into `.cache/claude-cli/` once and prints the path afterwards.
Codex and Gemini: `$PRODIGY_E2E_CODEX` / `$PRODIGY_E2E_GEMINI`, else
`scripts/install-agent-clis NAME`, which installs into `.cache/agent-clis/` and prints
`name=path` lines.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 600.0
CLAUDE_VAR = "PRODIGY_E2E_CLAUDE"
CLAUDE_SCRIPT = ROOT / "scripts" / "install-claude-cli"
AGENT_VARS = {"codex": "PRODIGY_E2E_CODEX", "gemini": "PRODIGY_E2E_GEMINI"}
AGENT_SCRIPT = ROOT / "scripts" / "install-agent-clis"


@dataclass(frozen=True)
class AgentCli:
    """The CLI to use, or why there is none (`path` None)."""

    path: Path | None
    reason: str = ""


def locate_claude_cli(env: dict[str, str] | None = None) -> AgentCli:
    """The Claude Code executable for e2e tests; installs it when npm is available."""
    env = dict(os.environ if env is None else env)
    found = _given_or_missing("claude", "Claude Code", CLAUDE_VAR, CLAUDE_SCRIPT, env)
    if found is not None:
        return found
    done = _install(["bash", str(CLAUDE_SCRIPT)], CLAUDE_SCRIPT, "claude-cli.lock", env)
    if isinstance(done, AgentCli):
        return done
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return _failed(CLAUDE_SCRIPT, done)
    return AgentCli(Path(lines[-1]))


def locate_agent_cli(name: str, env: dict[str, str] | None = None) -> AgentCli:
    """The `codex` or `gemini` executable for e2e tests; installs it when npm is available."""
    env = dict(os.environ if env is None else env)
    found = _given_or_missing(name, name, AGENT_VARS[name], AGENT_SCRIPT, env)
    if found is not None:
        return found
    done = _install(["bash", str(AGENT_SCRIPT), name], AGENT_SCRIPT, "agent-clis.lock", env)
    if isinstance(done, AgentCli):
        return done
    paths = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if done.returncode != 0 or name not in paths:
        return _failed(AGENT_SCRIPT, done)
    return AgentCli(Path(paths[name]))


def _given_or_missing(
    exe: str, title: str, variable: str, script: Path, env: dict[str, str]
) -> AgentCli | None:
    """The CLI named by `variable`, or why none can be had; None: go and install it."""
    given = env.get(variable, "").strip()
    if given:
        path = Path(given)
        if path.is_file() and os.access(path, os.X_OK):
            return AgentCli(path.resolve())
        return AgentCli(None, f"{variable}={given} is not an executable file")
    if shutil.which("npm", path=env.get("PATH")) is None:
        return AgentCli(
            None,
            f"the {title} CLI is not installed and npm is not on PATH; install Node.js "
            f"and run scripts/{script.name}, or set {variable}=/path/to/{exe}",
        )
    return None


def _install(
    argv: list[str], script: Path, lock_name: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str] | AgentCli:
    lock_path = ROOT / ".cache" / lock_name
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share the cache: install once
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return AgentCli(None, f"{script} took over {INSTALL_TIMEOUT:.0f} s")


def _failed(script: Path, done: subprocess.CompletedProcess[str]) -> AgentCli:
    tail = "\n".join(done.stderr.strip().splitlines()[-5:])
    return AgentCli(None, f"{script} failed (exit {done.returncode}): {tail}")
