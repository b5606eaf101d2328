"""`prodigy run` with `claude:` steps performed by the real Codex and Gemini CLIs.

The CLIs talk to the scripted model server (Responses API for Codex, Gemini API for Gemini
CLI), so the same directive prompts drive them as drive Claude Code. Each run gets its own
HOME (with the git identity in ~/.gitconfig only), CODEX_HOME and TMPDIR.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from prodigy.runtime.model_server import ModelServer
from tests.support.cli import run_prodigy
from tests.support.e2e import processes_mentioning
from tests.support.repos import git, make_repo, prodigy_env

pytestmark = pytest.mark.e2e

BACKENDS = ("codex", "gemini")
PACKAGES = {"codex": "@openai/codex", "gemini": "@google/gemini-cli"}
ONE_STEP = """\
- claude: |
    Add a greeting.
    @write hello.txt hello
    @commit add hello
    @print greeting added
"""
MAPREDUCE = """\
name: fan-out
mode: mapreduce
setup:
  - shell: 'printf "[1,2,3,4]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - claude: |
        @write out-${item}.txt item ${item}
        @commit item ${item}
"""


def agent_env(tmp_path: Path, server: ModelServer, clis: dict[str, Path]) -> dict[str, str]:
    """prodigy's environment with the CLIs configured and pointed at the server."""
    env = prodigy_env(tmp_path)
    home = Path(env["HOME"])
    env.update(server.codex_env(tmp_path / "codex-home"))
    env.update(server.gemini_env(home))
    env["TMPDIR"] = str(tmp_path / "tmp")  # Gemini CLI writes error reports to the temp dir
    (tmp_path / "tmp").mkdir()
    config = Path(env["PRODIGY_HOME"])
    config.mkdir(parents=True, exist_ok=True)
    agents = {name: {"executable": str(path)} for name, path in clis.items()}
    if "gemini" in agents:  # a listed model, so the cost is estimated (no routing request)
        agents["gemini"]["model"] = "gemini-2.5-flash"
    (config / "config.yml").write_text(json.dumps({"agents": agents}))
    return env


def repo_without_identity(tmp_path: Path) -> Path:
    """A repository whose commit identity is only in ~/.gitconfig (Gemini ignores that)."""
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    return repo


@pytest.fixture
def clis(request: pytest.FixtureRequest) -> dict[str, Path]:
    return {name: request.getfixturevalue(f"{name}_cli") for name in BACKENDS}


def one_cli(request: pytest.FixtureRequest, name: str) -> dict[str, Path]:
    return {name: request.getfixturevalue(f"{name}_cli")}


def usage_line(output: str) -> str:
    return next(line for line in output.splitlines() if "Agent usage:" in line)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_commits_with_the_users_identity_and_records_usage(
    tmp_path: Path, model_server: ModelServer, request: pytest.FixtureRequest, backend: str
) -> None:
    env = agent_env(tmp_path, model_server, one_cli(request, backend))
    repo = repo_without_identity(tmp_path)
    (repo / "wf.yml").write_text(ONE_STEP)

    done = run_prodigy("run", "wf.yml", "-y", "--agent", backend, cwd=repo, env=env, timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "hello.txt").read_text() == "hello\n"
    # the merge's second parent is the agent's commit (`log -2` orders by date, and the
    # agent's commit and the initial one can share a second)
    agent_commit = git(repo, "log", "--format=%s|%an", "-1", "HEAD^2").strip()
    assert agent_commit == "add hello|Conformance"  # from ~/.gitconfig, as GIT_AUTHOR_NAME
    line = usage_line(done.stdout)
    assert "(estimated)" in line and "$0.0000" not in line
    assert int(line.split("Agent usage: ", 1)[1].split(" ", 1)[0]) > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_mapreduce_lands_each_item_once(
    tmp_path: Path, model_server: ModelServer, request: pytest.FixtureRequest, backend: str
) -> None:
    env = agent_env(tmp_path, model_server, one_cli(request, backend))
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(MAPREDUCE)

    done = run_prodigy("run", "wf.yml", "-y", "--agent", backend, cwd=repo, env=env, timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    subjects = git(repo, "log", "--format=%s", "master").splitlines()
    for item in range(1, 5):
        assert subjects.count(f"item {item}") == 1, subjects
        assert (repo / f"out-{item}.txt").read_text() == f"item {item}\n"
    assert "(estimated)" in usage_line(done.stdout)


def test_a_step_can_name_its_own_agent(
    tmp_path: Path, model_server: ModelServer, clis: dict[str, Path]
) -> None:
    env = agent_env(tmp_path, model_server, clis)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(
        "agent: codex\n"
        "commands:\n"
        "  - claude: |\n      @write a.txt by codex\n      @commit by codex\n"
        "  - claude: |\n      @write b.txt by gemini\n      @commit by gemini\n"
        "    agent: gemini\n"
    )

    done = run_prodigy("run", "wf.yml", "-y", cwd=repo, env=env, timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    # the session's commits, read from the merge's second parent: `git log` orders commits
    # of the same second arbitrarily (it once put the repo's first commit between them)
    assert git(repo, "log", "--format=%s", "-2", "HEAD^2").splitlines() == ["by gemini", "by codex"]
    logs = sorted((Path(env["PRODIGY_HOME"]) / "logs").rglob("*.jsonl"))
    first_events = [json.loads(p.read_text().splitlines()[0])["type"] for p in logs]
    assert first_events == ["thread.started", "init"]  # Codex's stream, then Gemini's


def test_a_permanent_api_error_fails_the_step(
    tmp_path: Path, model_server: ModelServer, request: pytest.FixtureRequest
) -> None:
    env = agent_env(tmp_path, model_server, one_cli(request, "gemini"))
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(
        "- claude: |\n    @write a.txt started\n    @fail 2 the tests broke\n"
        "- shell: touch never-here\n"
    )

    done = run_prodigy("run", "wf.yml", "-y", "--agent", "gemini", cwd=repo, env=env, timeout=180)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "the tests broke" in output
    assert ".jsonl" in output
    assert not (repo / "a.txt").exists()
    assert not list(tmp_path.rglob("never-here"))


def test_a_permanent_api_error_dead_letters_the_item(
    tmp_path: Path, model_server: ModelServer, request: pytest.FixtureRequest
) -> None:
    env = agent_env(tmp_path, model_server, one_cli(request, "codex"))
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(
        MAPREDUCE.replace("[1,2,3,4]", "[1,2]").replace(
            "@commit item ${item}", "@commit item ${item}\n        @run test ${item} != 2"
        )
    )

    done = run_prodigy("run", "wf.yml", "-y", "--agent", "codex", cwd=repo, env=env, timeout=180)

    output = done.stdout + done.stderr
    assert "1 successful, 1 failed" in output, output
    listed = run_prodigy("dlq", "list", "--json", cwd=repo, env=env, timeout=180)
    items = json.loads(listed.stdout)
    assert len(items) == 1, listed.stdout + listed.stderr
    assert "test 2 != 2" in json.dumps(items)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_timeout_kills_the_cli_process_tree(
    tmp_path: Path, model_server: ModelServer, request: pytest.FixtureRequest, backend: str
) -> None:
    env = agent_env(tmp_path, model_server, one_cli(request, backend))
    env["PRODIGY_GRACE_PERIOD"] = "1"  # SIGTERM, then SIGKILL a second later
    marker = f"e2e-{backend}-timeout-{uuid.uuid4().hex}"
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(
        f"- claude: |\n    @run sleep 60 # {marker}\n    @print never\n  timeout: 8\n"
    )

    started = time.monotonic()
    done = run_prodigy("run", "wf.yml", "-y", "--agent", backend, cwd=repo, env=env, timeout=180)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "timed out after 8 s" in output
    assert time.monotonic() - started < 120  # generous: a loaded machine is slow, not wrong
    assert processes_mentioning(marker) == []  # the CLI and the `sleep` it started are gone


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_cli_is_an_error_before_any_work(tmp_path: Path, backend: str) -> None:
    env = prodigy_env(tmp_path)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(ONE_STEP)

    done = run_prodigy("run", "wf.yml", "-y", "--agent", backend, cwd=repo, env=env, timeout=180)

    assert done.returncode == 2  # a usage error: nothing ran
    assert f"npm install -g {PACKAGES[backend]}" in done.stderr
    assert f"executable {backend!r} not found on PATH" in done.stderr
    assert not (Path(env["PRODIGY_HOME"]) / "worktrees").exists() or not any(
        (Path(env["PRODIGY_HOME"]) / "worktrees").rglob("session-*")
    )


@pytest.mark.parametrize("backend", ["codex", pytest.param("gemini", marks=pytest.mark.slow)])
def test_the_demo_runs_offline_with_a_real_cli(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    cli = request.getfixturevalue(f"{backend}_cli")
    env = prodigy_env(tmp_path)
    bin_dir = tmp_path / "cli-bin"  # the demo finds the CLI under its own name on PATH
    bin_dir.mkdir()
    (bin_dir / backend).symlink_to(cli)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["TMPDIR"] = str(tmp_path)
    target = tmp_path / "demo"

    done = run_prodigy("demo", str(target), "--agent", backend, cwd=tmp_path, env=env, timeout=180)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"the real {backend} CLI, answered by a scripted model server" in output
    assert "3 successful, 1 failed" in output
    fixed = git(target, "log", "--format=%s", "main").splitlines()
    assert sum(s.startswith("fix: resolve the issue in src/") for s in fixed) == 3
