"""Adding an agent backend takes one module and one registry line (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import echo_agent
from tests.support.repos import git, make_repo

from prodigy.app.config import load_config
from prodigy.cli.main import main
from prodigy.runtime import agents


@pytest.fixture
def echo_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(agents.AGENTS, "echo", echo_agent.PLUGIN)  # the one registry line


@pytest.mark.usefixtures("echo_registered")
def test_config_accepts_a_registered_agent_and_help_lists_it(tmp_path: Path) -> None:
    config = load_config(
        repo_root=None, env={"PRODIGY_HOME": str(tmp_path), "PRODIGY_AGENT": "echo"}
    )
    assert config.values.agent == "echo"
    assert "echo (writes the prompt to ECHO.md (a test backend))" in agents.agents_help()


def test_config_refuses_an_agent_nobody_registered(tmp_path: Path) -> None:
    from prodigy.core.errors import ConfigError

    with pytest.raises(
        ConfigError, match="agent: must be one of claude, codex, gemini, scripted, got 'echo'"
    ):
        load_config(repo_root=None, env={"PRODIGY_HOME": str(tmp_path), "PRODIGY_AGENT": "echo"})


@pytest.mark.usefixtures("echo_registered")
def test_a_workflow_runs_with_the_new_agent_and_its_change_is_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "flow.yml").write_text(
        "- claude: /write-notes for the echo agent\n"
        "- shell: git add ECHO.md && git commit -q -m 'echo notes'\n"
    )
    git(repo, "add", "flow.yml")
    git(repo, "commit", "-q", "-m", "workflow")
    monkeypatch.setenv("PRODIGY_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(repo)

    code = main(["run", "flow.yml", "--agent", "echo", "-y"])

    assert code == 0, capsys.readouterr().err
    assert (repo / "ECHO.md").read_text() == "/write-notes for the echo agent\n"
    assert git(repo, "log", "-1", "--format=%s").startswith("Merge")
