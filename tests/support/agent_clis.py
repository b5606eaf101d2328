"""Locate (and if need be install) the real Codex and Gemini CLIs for the end-to-end tier.

Order: `$PRODIGY_E2E_CODEX` / `$PRODIGY_E2E_GEMINI`, else `scripts/install-agent-clis`,
which installs the pinned versions with npm into `.cache/agent-clis/` once and prints
`name=path` lines afterwards.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from tests.support.claude_cli import ClaudeCli

ENV_VARS = {"codex": "PRODIGY_E2E_CODEX", "gemini": "PRODIGY_E2E_GEMINI"}
ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ROOT / "scripts" / "install-agent-clis"
INSTALL_TIMEOUT = 600.0


def locate_agent_cli(name: str, env: dict[str, str] | None = None) -> ClaudeCli:
    """The `codex` or `gemini` executable for e2e tests; installs it when npm is available."""
    env = dict(os.environ if env is None else env)
    variable = ENV_VARS[name]
    given = env.get(variable, "").strip()
    if given:
        path = Path(given)
        if path.is_file() and os.access(path, os.X_OK):
            return ClaudeCli(path.resolve())
        return ClaudeCli(None, f"{variable}={given} is not an executable file")
    if shutil.which("npm", path=env.get("PATH")) is None:
        return ClaudeCli(
            None,
            f"the {name} CLI is not installed and npm is not on PATH; install Node.js and "
            f"run scripts/install-agent-clis, or set {variable}=/path/to/{name}",
        )
    lock_path = ROOT / ".cache" / "agent-clis.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share the cache: install once
        try:
            done = subprocess.run(
                ["bash", str(INSTALL_SCRIPT), name],
                capture_output=True,
                text=True,
                env=env,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ClaudeCli(None, f"{INSTALL_SCRIPT} took over {INSTALL_TIMEOUT:.0f} s")
    paths = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if done.returncode != 0 or name not in paths:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return ClaudeCli(None, f"{INSTALL_SCRIPT} failed (exit {done.returncode}): {tail}")
    return ClaudeCli(Path(paths[name]))
