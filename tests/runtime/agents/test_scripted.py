"""The scripted agent end to end, in a real git repository with real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.support.agent_replay import run
from tests.support.repos import git

from prodigy.core.agent_result import AgentResult
from prodigy.core.usage import Usage
from prodigy.runtime.agents import AgentRequest, AgentSettings, ScriptedAgent
from prodigy.runtime.agents.stream_json import StreamRecorder

AGENT = ScriptedAgent(AgentSettings(grace_period=0.5))


def go(repo: Path, env: dict[str, str], prompt: str, **extra: Any) -> AgentResult:
    req = AgentRequest(prompt=prompt, cwd=repo, env=env, label="item 3", **extra)
    return run(AGENT.run(req))


def commits(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s").splitlines()


def test_write_and_commit_create_a_commit(repo: Path, env: dict[str, str]) -> None:
    prompt = (
        "Add the notes file.\n"
        "@write notes/todo.md <<EOF\n# Todo\n\n- one\nEOF\n"
        "@append notes/todo.md - two\n"
        "@commit docs: add todo list\n"
        "@print added 1 file\n"
    )
    result = go(repo, env, prompt)
    assert result.success, result.error_message
    assert (repo / "notes" / "todo.md").read_text() == "# Todo\n\n- one\n- two\n"
    assert commits(repo) == ["docs: add todo list", "init"]
    assert git(repo, "status", "--porcelain") == ""
    assert result.text == "added 1 file"
    assert result.exit_code == 0
    assert result.usage == Usage(
        duration_ms=result.usage.duration_ms, turns=4, model="scripted", cost_source="reported"
    )
    assert result.session_id is not None and result.session_id.startswith("scripted-")


def test_commit_with_nothing_staged_is_a_no_op(repo: Path, env: dict[str, str]) -> None:
    result = go(repo, env, "@commit nothing here")
    assert result.success
    assert commits(repo) == ["init"]


def test_a_prompt_without_directives_succeeds_with_its_text(
    repo: Path, env: dict[str, str]
) -> None:
    result = go(repo, env, "Please refactor the parser.\n")
    assert result.success
    assert result.text == "Please refactor the parser."
    assert result.usage.turns == 0
    assert commits(repo) == ["init"]


def test_fail_returns_its_exit_code_and_stops(repo: Path, env: dict[str, str]) -> None:
    result = go(repo, env, "@write a.txt x\n@fail 7 tests are red\n@write b.txt y")
    assert not result.success
    assert result.exit_code == 7
    assert result.is_error
    assert result.error_kind == "task"
    assert result.error_message == "item 3: tests are red"
    assert (repo / "a.txt").exists() and not (repo / "b.txt").exists()
    assert result.usage.turns == 2


def test_fail_with_a_rate_limit_message_is_classified_as_one(
    repo: Path, env: dict[str, str]
) -> None:
    result = go(repo, env, "@fail 1 API Error: 429 rate_limit_error")
    assert result.error_kind == "rate_limit"


def test_run_uses_bash_in_cwd_with_the_env_and_fails_on_non_zero(
    repo: Path, env: dict[str, str]
) -> None:
    env = {**env, "GREETING": "hello from env"}
    ok = go(repo, env, '@run echo "$GREETING" > greeting.txt && pwd > where.txt')
    assert ok.success, ok.error_message
    assert (repo / "greeting.txt").read_text() == "hello from env\n"
    assert (repo / "where.txt").read_text().strip() == str(repo)
    bad = go(repo, env, "@run <<SH\necho about to fail >&2\nexit 4\nSH")
    assert not bad.success
    assert bad.exit_code == 4
    assert bad.error_message == "item 3: @run exited with code 4: echo about to fail >&2"
    assert "about to fail" in bad.stderr_tail


def test_flaky_succeeds_after_n_failures(repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "PRODIGY_SCRIPTED_STATE": str(tmp_path / "state")}
    prompt = "@flaky build 2\n@print built"
    outcomes = [go(repo, env, prompt) for _ in range(4)]
    assert [r.success for r in outcomes] == [False, False, True, True]
    assert outcomes[0].error_message == "item 3: flaky failure 1/2"
    assert outcomes[1].exit_code == 1
    assert outcomes[2].text == "built"
    assert (tmp_path / "state" / "counters" / "build").read_text() == "4"


def test_flaky_counters_default_to_prodigy_home(repo: Path, env: dict[str, str]) -> None:
    go(repo, env, "@flaky other 1")
    assert (Path(env["PRODIGY_HOME"]) / "scripted" / "counters" / "other").read_text() == "1"


def test_slash_command_expands_with_arguments(repo: Path, env: dict[str, str]) -> None:
    commands = repo / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "make-file.md").write_text(
        "---\ndescription: write a file and commit it\n---\n"
        "@write $ARGUMENTS.txt made by a command\n@commit add $ARGUMENTS\n"
    )
    result = go(repo, env, "/make-file report")
    assert result.success, result.error_message
    assert (repo / "report.txt").read_text() == "made by a command\n"
    assert commits(repo)[0] == "add report"


def test_bad_directive_fails_naming_the_line(repo: Path, env: dict[str, str]) -> None:
    result = go(repo, env, "intro\n@sleep forever")
    assert not result.success
    assert result.error_kind == "task"
    assert result.error_message.startswith("item 3: prompt line 2: @sleep needs seconds")


def test_writes_outside_the_worktree_are_refused(repo: Path, env: dict[str, str]) -> None:
    result = go(repo, env, "@write ../escape.txt nope")
    assert not result.success
    assert "outside the working directory" in result.error_message
    assert not (repo.parent / "escape.txt").exists()


def test_timeout_stops_a_sleep_and_a_running_command(repo: Path, env: dict[str, str]) -> None:
    started = time.monotonic()
    slept = go(repo, env, "@sleep 30", timeout=0.3)
    ran = go(repo, env, "@run sleep 30", timeout=0.3)
    assert time.monotonic() - started < 10
    for result in (slept, ran):
        assert not result.success
        assert result.error_kind == "timeout"
        assert result.exit_code is None
        assert "timed out after 0.3 s" in result.error_message


def test_log_uses_claude_stream_shapes_and_echo_matches(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "item.jsonl"
    echoed: list[str] = []
    result = go(repo, env, "@write a.txt hi\n@print done", log_path=log, on_text=echoed.append)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["type"] for r in records] == ["system", "assistant", "assistant", "result"]
    assert records[0]["subtype"] == "init" and records[0]["model"] == "scripted"
    assert records[-1]["is_error"] is False and records[-1]["result"] == "done"
    assert records[-1]["num_turns"] == 2 and records[-1]["total_cost_usd"] == 0.0
    assert echoed == ["@write a.txt hi", "@print done"]
    # the same reader that reads claude logs reads this one back to the same result
    replayed = StreamRecorder()
    for line in log.read_text().splitlines():
        replayed.feed(line)
    assert replayed.summary.usage() == result.usage
    assert replayed.summary.session_id == result.session_id


def test_a_write_that_the_filesystem_refuses_fails_the_run(repo: Path, env: dict[str, str]) -> None:
    (repo / "taken").mkdir()
    result = go(repo, env, "intro\n@write taken oops")
    assert not result.success
    assert result.error_kind == "task"
    assert result.error_message.startswith("item 3: line 2: @write taken oops: ")
    assert "Is a directory" in result.error_message
