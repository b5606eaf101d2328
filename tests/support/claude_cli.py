"""Locate (and if need be install) the real Claude Code CLI for the end-to-end tier.

Order: `$PRODIGY_E2E_CLAUDE`, else `scripts/install-claude-cli`, which installs the pinned
version with npm into `.cache/claude-cli/` once and prints the path afterwards.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "PRODIGY_E2E_CLAUDE"
ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ROOT / "scripts" / "install-claude-cli"
INSTALL_TIMEOUT = 600.0


@dataclass(frozen=True)
class ClaudeCli:
    """The CLI to use, or why there is none (`path` None)."""

    path: Path | None
    reason: str = ""


def locate_claude_cli(env: dict[str, str] | None = None) -> ClaudeCli:
    """The Claude Code executable for e2e tests; installs it when npm is available."""
    env = dict(os.environ if env is None else env)
    given = env.get(ENV_VAR, "").strip()
    if given:
        path = Path(given)
        if path.is_file() and os.access(path, os.X_OK):
            return ClaudeCli(path.resolve())
        return ClaudeCli(None, f"{ENV_VAR}={given} is not an executable file")
    if shutil.which("npm", path=env.get("PATH")) is None:
        return ClaudeCli(
            None,
            f"the Claude Code CLI is not installed and npm is not on PATH; install Node.js "
            f"and run scripts/install-claude-cli, or set {ENV_VAR}=/path/to/claude",
        )
    return _install(env)


def _install(env: dict[str, str]) -> ClaudeCli:
    lock_path = ROOT / ".cache" / "claude-cli.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share the cache: install once
        try:
            done = subprocess.run(
                ["bash", str(INSTALL_SCRIPT)],
                capture_output=True,
                text=True,
                env=env,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ClaudeCli(None, f"{INSTALL_SCRIPT} took over {INSTALL_TIMEOUT:.0f} s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return ClaudeCli(None, f"{INSTALL_SCRIPT} failed (exit {done.returncode}): {tail}")
    return ClaudeCli(Path(lines[-1]))
