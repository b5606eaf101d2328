"""The real Claude Code CLI, driven by the scripted model server, through our `claude` agent."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from prodigy.runtime.model_server import ModelServer
from tests.support.e2e import ClaudeRunner, processes_mentioning
from tests.support.repos import git

pytestmark = pytest.mark.e2e


def test_write_and_commit_land_in_the_repository(claude: ClaudeRunner, repo: Path) -> None:
    prompt = (
        "Add a greeting.\n"
        "@write notes/hello.txt <<EOF\nhello from claude\nEOF\n"
        "@commit docs: add greeting\n"
        "@print greeting added"
    )
    result = claude.run(prompt, repo)

    assert result.success, result.error_message
    assert result.text == "greeting added"
    assert (repo / "notes" / "hello.txt").read_text() == "hello from claude\n"
    assert git(repo, "log", "-1", "--format=%s").strip() == "docs: add greeting"
    assert git(repo, "status", "--porcelain").strip() == ""
    assert result.session_id
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0
    assert result.usage.turns >= 3  # Read, Write, Bash, final answer
    assert result.log_path is not None
    records = [json.loads(line) for line in result.log_path.read_text().splitlines()]
    assert records[0]["type"] == "system"
    assert records[-1]["type"] == "result"
    assert records[-1]["session_id"] == result.session_id
    assert any("@commit docs: add greeting" in line for line in claude.texts)


def test_replacing_a_tracked_file_and_appending(claude: ClaudeRunner, repo: Path) -> None:
    prompt = (
        "@write README.md # replaced\n"
        "@append log/run.txt it's $HOME `not run`\n"
        "@append log/run.txt second\n"
        '@run test "$(wc -l < log/run.txt)" -eq 2\n'
        "@commit replace readme"
    )
    result = claude.run(prompt, repo)

    assert result.success, result.error_message
    assert (repo / "README.md").read_text() == "# replaced\n"
    assert (repo / "log" / "run.txt").read_text() == "it's $HOME `not run`\nsecond\n"
    assert git(repo, "log", "-1", "--format=%s").strip() == "replace readme"


def test_fail_directive_fails_the_run_with_is_error(claude: ClaudeRunner, repo: Path) -> None:
    result = claude.run("@write partial.txt started\n@fail 3 tests broke\n@print unreachable", repo)

    assert not result.success
    assert result.is_error
    assert result.exit_code == 1  # Claude Code exits 1 on an API error, whatever the @fail code
    assert result.error_kind == "task"
    assert "@fail 3: tests broke" in result.error_message
    assert str(result.log_path) in result.error_message
    assert (repo / "partial.txt").read_text() == "started\n"  # what ran before stays done


def test_failing_command_fails_the_run(claude: ClaudeRunner, repo: Path) -> None:
    result = claude.run("@run echo checking && exit 7\n@print unreachable", repo)

    assert not result.success
    assert result.is_error
    assert result.error_kind == "task"
    assert "Exit code 7" in result.error_message


def test_rate_limit_directive_is_classified_as_rate_limit(
    claude: ClaudeRunner, repo: Path, model_server: ModelServer
) -> None:
    result = claude.run("@fail 1 API Error: 429 rate_limit_error", repo)

    assert not result.success
    assert result.is_error
    assert result.error_kind == "rate_limit"
    assert result.transient
    assert [s.status for s in model_server.served if "/v1/messages" in s.path] == [429]


def test_injected_overload_is_classified_as_overloaded(
    claude: ClaudeRunner, repo: Path, model_server: ModelServer
) -> None:
    model_server.inject(529)
    result = claude.run("@print never answered", repo)

    assert not result.success
    assert result.error_kind == "overloaded"
    assert "529" in result.error_message


def test_the_cli_retries_an_injected_rate_limit_then_succeeds(
    claude: ClaudeRunner, repo: Path, model_server: ModelServer
) -> None:
    claude.env["CLAUDE_CODE_MAX_RETRIES"] = "2"
    model_server.inject(429)
    result = claude.run("@print answered after a retry", repo)

    assert result.success, result.error_message
    assert result.text == "answered after a retry"
    statuses = [s.status for s in model_server.served if "/v1/messages" in s.path]
    assert statuses == [429, 200]


def test_a_slow_model_hits_the_timeout_and_leaves_no_process(
    claude: ClaudeRunner, repo: Path
) -> None:
    marker = f"e2e-timeout-{uuid.uuid4().hex}"
    started = time.monotonic()
    result = claude.run(f"@sleep 60\n@print {marker}", repo, timeout=4)

    assert time.monotonic() - started < 20
    assert not result.success
    assert result.error_kind == "timeout"
    assert processes_mentioning(marker) == []


def test_claude_expands_project_slash_commands_before_the_server_reads_them(
    claude: ClaudeRunner, repo: Path
) -> None:
    commands = repo / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "add-test.md").write_text(
        "---\ndescription: add a test\n---\n"
        "Write a test for $ARGUMENTS.\n"
        "@write tests/test_$ARGUMENTS.py <<EOF\nimport $ARGUMENTS\nEOF\n"
        "@print tested $ARGUMENTS\n"
    )
    result = claude.run("/add-test parser", repo)

    assert result.success, result.error_message
    assert result.text == "tested parser"
    assert (repo / "tests" / "test_parser.py").read_text() == "import parser\n"
