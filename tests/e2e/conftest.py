"""The end-to-end tier: the real Claude Code CLI against the scripted model server.

Without the CLI these tests skip with the reason, except on CI (`CI=true`), where a
missing CLI is an error: CI must never pass without running this tier.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodigy.runtime.model_server import ModelServer
from tests.support.agent_clis import AgentCli, locate_agent_cli, locate_claude_cli
from tests.support.e2e import ClaudeRunner
from tests.support.quota import quota_server


def _required(found: AgentCli, what: str) -> Path:
    if found.path is None:
        message = f"{what} unavailable: {found.reason}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: the e2e tier must run on CI)", pytrace=False)
        pytest.skip(message)
    return found.path


@pytest.fixture(scope="session")
def claude_cli() -> Path:
    """The real `claude` executable; skips (fails on CI) when it cannot be had."""
    return _required(locate_claude_cli(), "Claude Code CLI")


@pytest.fixture(scope="session")
def codex_cli() -> Path:
    """The real `codex` executable; skips (fails on CI) when it cannot be had."""
    return _required(locate_agent_cli("codex"), "Codex CLI")


@pytest.fixture(scope="session")
def gemini_cli() -> Path:
    """The real `gemini` executable; skips (fails on CI) when it cannot be had."""
    return _required(locate_agent_cli("gemini"), "Gemini CLI")


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


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


@pytest.fixture
def claude(claude_cli: Path, cli_env: dict[str, str], tmp_path: Path) -> ClaudeRunner:
    return ClaudeRunner(claude_cli, cli_env, tmp_path / "logs")


@pytest.fixture
def window(request: pytest.FixtureRequest) -> Iterator[ModelServer]:
    """A model server with a quota window: `(from_request, seconds)` by indirect param."""
    from_request, seconds = getattr(request, "param", (7, 3.0))
    yield from quota_server(from_request, seconds)
