"""The end-to-end tier: the real Claude Code CLI against the scripted model server.

Without the CLI these tests skip with the reason, except on CI (`CI=true`), where a
missing CLI is an error: CI must never pass without running this tier.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodigy.core.agent_result import AgentResult
from prodigy.runtime.agents import AgentRequest, AgentSettings, get_agent
from prodigy.runtime.model_server import ModelServer
from tests.support.claude_cli import locate_claude_cli
from tests.support.repos import make_repo


@pytest.fixture(scope="session")
def claude_cli() -> Path:
    """The real `claude` executable; skips (fails on CI) when it cannot be had."""
    found = locate_claude_cli()
    if found.path is None:
        message = f"Claude Code CLI unavailable: {found.reason}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: the e2e tier must run on CI)", pytrace=False)
        pytest.skip(message)
    return found.path


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def cli_env(tmp_path: Path, model_server: ModelServer) -> dict[str, str]:
    """A complete, isolated environment for the CLI: its own HOME, the server, no retries."""
    home = tmp_path / "claude-home"
    home.mkdir()
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    return {
        "PATH": os.pathsep.join(
            dict.fromkeys([str(git_dir), "/usr/local/bin", "/usr/bin", "/bin"])
        ),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "IS_SANDBOX": "1",  # Claude Code refuses --dangerously-skip-permissions as root otherwise
        "GIT_AUTHOR_NAME": "prodigy e2e",
        "GIT_AUTHOR_EMAIL": "e2e@prodigy.invalid",
        "GIT_COMMITTER_NAME": "prodigy e2e",
        "GIT_COMMITTER_EMAIL": "e2e@prodigy.invalid",
        **model_server.client_env(max_retries=0),
    }


class ClaudeRunner:
    """Runs prompts through our `claude` agent with the real CLI, as a step would."""

    def __init__(self, cli: Path, env: dict[str, str], logs: Path) -> None:
        self.cli, self.env, self.logs = cli, env, logs
        self.texts: list[str] = []

    def run(
        self, prompt: str, cwd: Path, *, timeout: float = 45.0, label: str = "step"
    ) -> AgentResult:
        agent = get_agent("claude", AgentSettings(claude_executable=str(self.cli), grace_period=2))
        request = AgentRequest(
            prompt=prompt,
            cwd=cwd,
            env=self.env,
            timeout=timeout,
            log_path=self.logs / f"{label}.jsonl",
            label=label,
            on_text=self.texts.append,
        )
        return asyncio.run(agent.run(request))


@pytest.fixture
def claude(claude_cli: Path, cli_env: dict[str, str], tmp_path: Path) -> ClaudeRunner:
    return ClaudeRunner(claude_cli, cli_env, tmp_path / "logs")


def processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line contains `marker` (the prompt is an argv element)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found
