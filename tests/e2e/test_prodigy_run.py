"""`prodigy run` with `claude:` steps performed by the real Claude Code CLI."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from prodigy.runtime.model_server import ModelServer
from tests.support.cli import run_prodigy
from tests.support.e2e import processes_mentioning
from tests.support.repos import git, make_repo, prodigy_env

pytestmark = pytest.mark.e2e

TWO_STEPS = """\
- claude: |
    Add a greeting.
    @write hello.txt hello
    @commit add hello
    @print greeting added
- claude: |
    @append hello.txt again
    @commit append again
"""


@pytest.fixture
def run_env(tmp_path: Path, claude_cli: Path, model_server: ModelServer) -> dict[str, str]:
    return {
        **prodigy_env(tmp_path),
        **model_server.client_env(max_retries=0),
        "PRODIGY_CLAUDE": str(claude_cli),
        "IS_SANDBOX": "1",
    }


def test_two_claude_steps_commit_in_the_worktree_and_merge(
    tmp_path: Path, run_env: dict[str, str]
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(TWO_STEPS)

    done = run_prodigy("run", "wf.yml", "-y", cwd=repo, env=run_env, timeout=90)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "hello.txt").read_text() == "hello\nagain\n"
    assert git(repo, "log", "--format=%s", "-1").startswith("Merge ")
    # the session's commits from the merge's second parent (same-second commits of two lines
    # of history come out of `git log` in no fixed order)
    subjects = git(repo, "log", "--format=%s", "-2", "HEAD^2").splitlines()
    assert subjects == ["append again", "add hello"]
    assert "Agent usage:" in done.stdout
    assert "$0.00" not in done.stdout.split("Agent usage:", 1)[1].split("\n", 1)[0]
    logs = list((Path(run_env["PRODIGY_HOME"]) / "logs").rglob("*.jsonl"))
    assert len(logs) == 2


def test_a_failing_claude_step_fails_the_run_and_names_its_log(
    tmp_path: Path, run_env: dict[str, str]
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(
        "- claude: |\n    @write a.txt started\n    @fail 4 the tests broke\n"
        "- shell: touch never-here\n"
    )

    done = run_prodigy("run", "wf.yml", "-y", cwd=repo, env=run_env, timeout=90)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "the tests broke" in output
    assert ".jsonl" in output
    assert not (repo / "a.txt").exists()  # the failed session is not merged
    assert not list(repo.parent.rglob("never-here"))


def test_an_api_error_fails_the_step_as_a_rate_limit(
    tmp_path: Path, run_env: dict[str, str], model_server: ModelServer
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text("- claude: '@print never answered'\n")
    model_server.inject(429)

    done = run_prodigy("run", "wf.yml", "-y", cwd=repo, env=run_env, timeout=90)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "429" in output
    assert [s.status for s in model_server.served if "/v1/messages" in s.path] == [429]


def test_a_step_timeout_stops_claude_and_leaves_no_process(
    tmp_path: Path, run_env: dict[str, str]
) -> None:
    marker = f"e2e-run-timeout-{uuid.uuid4().hex}"
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(f"- claude: |\n    @sleep 60\n    @print {marker}\n  timeout: 3\n")

    started = time.monotonic()
    done = run_prodigy("run", "wf.yml", "-y", cwd=repo, env=run_env, timeout=90)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "timed out after 3 s" in output
    assert time.monotonic() - started < 120  # generous: a loaded machine is slow, not wrong
    assert processes_mentioning(marker) == []
