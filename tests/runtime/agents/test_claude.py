"""The claude agent against the conformance fake `claude` and a replaying stand-in."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.runtime.agents.sample_stream import INIT, MODEL, RESULT, SESSION, SESSION_RECORDS
from tests.support.agent_replay import Replay, run
from tests.support.repos import fake_calls, git

from prodigy.core.errors import ProdigyError, UsageError
from prodigy.runtime.agents import (
    AgentRequest,
    AgentSettings,
    ClaudeSettings,
    check_available,
    get_agent,
)
from prodigy.runtime.agents.claude import ClaudeAgent, ClaudeNotFoundError

FAST = ClaudeSettings(grace_period=0.5)


def request(repo: Path, env: dict[str, str], prompt: str, **extra: Any) -> AgentRequest:
    return AgentRequest(prompt=prompt, cwd=repo, env=env, label="step 2", **extra)


def test_success_parses_session_text_and_usage(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "step.jsonl"
    result = run(ClaudeAgent(FAST).run(request(repo, env, "/fake-echo hello world", log_path=log)))
    assert result.success, result.error_message
    assert result.exit_code == 0
    assert result.text == "hello world"
    assert result.session_id == "fake-1"
    assert result.usage.input_tokens == 10
    assert result.usage.output_tokens == 5
    assert result.usage.cost_usd == pytest.approx(0.0012)
    assert result.usage.turns == 1
    assert result.usage.model == "fake"
    assert result.log_path == log
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["type"] for r in records] == ["system", "assistant", "result"]


def test_argv_is_print_mode_stream_json_and_prompt_last_after_dashes(
    repo: Path, env: dict[str, str]
) -> None:
    settings = ClaudeSettings(args=("--model", "opus"), grace_period=0.5)
    prompt = "--help me: this prompt starts with dashes"
    run(ClaudeAgent(settings).run(request(repo, env, prompt)))
    (call,) = fake_calls(Path(env["HOME"]))
    assert call["argv"] == [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
        "--model",
        "opus",
        "--",
        prompt,
    ]
    assert call["cwd"] == str(repo)
    assert call["mode"] == "stream"


def test_the_agent_works_in_cwd_with_the_given_env(repo: Path, env: dict[str, str]) -> None:
    env = {**env, "PRODIGY_AUTOMATION": "true"}
    result = run(ClaudeAgent(FAST).run(request(repo, env, "/fake-write-commit notes/a.txt hi")))
    assert result.success
    assert (repo / "notes" / "a.txt").read_text() == "hi\n"
    assert git(repo, "log", "-1", "--format=%s").strip() == "fake: notes/a.txt"
    assert fake_calls(Path(env["HOME"]))[0]["env"]["PRODIGY_AUTOMATION"] == "true"


def test_failure_exit_code_and_is_error_make_a_task_failure(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "fail.jsonl"
    result = run(
        ClaudeAgent(FAST).run(request(repo, env, "/fake-fail 3 lint found 2 errors", log_path=log))
    )
    assert not result.success
    assert result.exit_code == 3
    assert result.is_error
    assert result.error_kind == "task"
    assert "step 2: claude failed (exit code 3): lint found 2 errors" in result.error_message
    assert str(log) in result.error_message
    assert "lint found 2 errors" in result.stderr_tail
    assert result.usage.cost_usd > 0  # a failed run still cost money
    assert len(log.read_text().splitlines()) == 3


def test_is_error_true_with_exit_zero_is_a_failure(replay: Replay, repo: Path) -> None:
    env = replay.configure([INIT, dict(RESULT, is_error=True, result="Credit balance is too low")])
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "do it")))
    assert not result.success
    assert result.exit_code == 0
    assert result.error_kind == "task"
    assert result.text == "Credit balance is too low"
    assert "Credit balance is too low" in result.error_message


def test_missing_result_record_is_no_result(repo: Path, env: dict[str, str]) -> None:
    result = run(ClaudeAgent(FAST).run(request(repo, env, "/fake-noresult")))
    assert not result.success
    assert result.exit_code == 0
    assert result.error_kind == "no_result"
    assert result.error_message.startswith("step 2: agent ended without a result (exit code 0)")
    assert result.session_id == "fake-1"
    assert result.usage.duration_ms > 0  # wall time when claude reported none


def test_rate_limit_is_classified_apart_from_task_failures(repo: Path, env: dict[str, str]) -> None:
    result = run(ClaudeAgent(FAST).run(request(repo, env, "/fake-ratelimit 1")))
    assert not result.success
    assert result.error_kind == "rate_limit"
    assert result.transient
    assert "rate_limit_error" in result.error_message


def test_overload_on_stderr_without_result_is_overloaded(replay: Replay, repo: Path) -> None:
    env = replay.configure(
        [INIT], stderr='API Error: 529 {"type":"overloaded_error"}\n', exit_code=1
    )
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "x")))
    assert result.error_kind == "overloaded"
    assert "overloaded_error" in result.stderr_tail


def test_timeout_kills_claude_and_keeps_the_log(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "slow.jsonl"
    started = time.monotonic()
    result = run(
        ClaudeAgent(FAST).run(request(repo, env, "/fake-sleep 30", timeout=1.0, log_path=log))
    )
    assert time.monotonic() - started < 10
    assert not result.success
    assert result.error_kind == "timeout"
    assert "step 2: claude timed out" in result.error_message
    (call,) = fake_calls(Path(env["HOME"]))
    assert "end" not in call  # killed before it could record its end
    assert log.exists()


def test_huge_lines_and_garbage_stream_through_into_a_complete_log(
    replay: Replay, repo: Path, tmp_path: Path
) -> None:
    big_result: dict[str, object] = {
        "type": "user",
        "message": {"content": [{"type": "tool_result", "content": "z" * (2 * 1024 * 1024)}]},
    }
    lines: list[str | dict[str, object]] = [
        "warming up...",
        SESSION_RECORDS[0],
        big_result,
        *SESSION_RECORDS[1:],
    ]
    env = replay.configure(lines)
    log = tmp_path / "big.jsonl"
    echoed: list[str] = []
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "go", log_path=log, on_text=echoed.append)))
    assert result.success, result.error_message
    assert result.session_id == SESSION
    assert result.usage.model == MODEL
    assert result.usage.cache_read_input_tokens == 20480
    assert log.read_text() == (replay.dir / "stdout.jsonl").read_text()
    assert "→ Bash: git status --short" in echoed
    assert replay.argv()[-2:] == ["--", "go"]


def test_missing_executable_is_not_found_naming_the_step_and_the_fix(
    repo: Path, env: dict[str, str]
) -> None:
    settings = ClaudeSettings(executable="claude-does-not-exist")
    result = run(ClaudeAgent(settings).run(request(repo, env, "/fake-echo hi")))
    assert not result.success
    assert result.exit_code is None
    assert result.error_kind == "not_found"
    assert "step 2" in result.error_message
    assert "npm install -g @anthropic-ai/claude-code" in result.error_message
    assert "PRODIGY_CLAUDE" in result.error_message
    assert fake_calls(Path(env["HOME"])) == []


def test_check_available_resolves_against_the_given_path(env: dict[str, str]) -> None:
    run(check_available(ClaudeSettings(), env))
    with pytest.raises(ClaudeNotFoundError, match=r"claude\.executable") as caught:
        run(check_available(ClaudeSettings(), {"PATH": "/nonexistent"}))
    assert isinstance(caught.value, UsageError)


def test_registry_knows_every_agent() -> None:
    for name in ("claude", "codex", "gemini", "scripted"):
        assert get_agent(name, AgentSettings()).name == name
    known = "known agents: claude, codex, gemini, scripted"
    with pytest.raises(UsageError, match=f"unknown agent 'gpt'; {known}"):
        get_agent("gpt", AgentSettings())


def test_claude_stopped_from_outside_is_interrupted(replay: Replay, repo: Path) -> None:
    env = replay.configure([INIT], exit_code=130)
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "x")))
    assert result.error_kind == "interrupted"
    assert result.error_message == "step 2: claude was interrupted (exit code 130)"


def test_cancelling_the_run_stops_claude_and_closes_the_log(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "cancelled.jsonl"

    async def cancel_soon() -> None:
        task = asyncio.ensure_future(
            ClaudeAgent(FAST).run(request(repo, env, "/fake-sleep 30", log_path=log))
        )
        while not fake_calls(Path(env["HOME"])):  # noqa: ASYNC110 - another process's state
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    started = time.monotonic()
    run(cancel_soon())
    assert time.monotonic() - started < 10
    (call,) = fake_calls(Path(env["HOME"]))
    assert "end" not in call
    assert log.exists()


def test_a_missing_working_directory_is_an_error_not_a_failed_run(
    env: dict[str, str], tmp_path: Path
) -> None:
    for agent in (get_agent("claude", FAST), get_agent("scripted", FAST)):
        with pytest.raises(ProdigyError, match="does not exist"):
            run(agent.run(request(tmp_path / "gone", env, "/fake-echo hi")))


def test_a_usage_limit_is_a_quota_failure_with_its_reset_time(replay: Replay, repo: Path) -> None:
    """Claude Code 2.1's subscription answer (is_error, api_error_status 429, exit 1)."""
    text = "You've hit your weekly limit · resets Dec 10, 5:42pm (UTC)"
    env = replay.configure(
        [INIT, dict(RESULT, is_error=True, result=text, api_error_status=429)], exit_code=1
    )
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "do it")))
    assert not result.success
    assert result.error_kind == "quota"
    assert not result.transient  # never burnt as an ordinary rate-limit retry
    assert result.resets_at is not None
    reset = time.gmtime(result.resets_at)
    assert (reset.tm_mon, reset.tm_mday, reset.tm_hour, reset.tm_min) == (12, 10, 17, 42)
    assert "hit the usage limit" in result.error_message and text in result.error_message


def test_a_plain_429_without_quota_markers_stays_a_rate_limit(replay: Replay, repo: Path) -> None:
    text = "API Error: Request rejected (429) · rate_limit_error"
    env = replay.configure([INIT, dict(RESULT, is_error=True, result=text)], exit_code=1)
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "do it")))
    assert result.error_kind == "rate_limit" and result.transient
    assert result.resets_at is None


def test_a_rejected_rate_limit_event_gives_the_reset_to_the_second(
    replay: Replay, repo: Path
) -> None:
    """Claude Code 2.1.197 on a subscription, as recorded against the model server."""
    info = {"status": "rejected", "resetsAt": 1796681159, "rateLimitType": "five_hour"}
    event = {"type": "rate_limit_event", "rate_limit_info": info, "session_id": SESSION}
    text = "You've hit your session limit · resets 10:05pm (UTC)"
    env = replay.configure(
        [INIT, event, dict(RESULT, is_error=True, result=text, api_error_status=429)],
        exit_code=1,
    )
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "do it")))
    assert result.error_kind == "quota"
    assert result.resets_at == 1796681159.0  # the event's epoch, not the minute in the text
    assert result.limit_type == "five_hour"


def test_an_allowed_warning_is_carried_on_a_successful_run(replay: Replay, repo: Path) -> None:
    info = {
        "status": "allowed_warning",
        "resetsAt": 1796684732,
        "rateLimitType": "five_hour",
        "utilization": 0.9,
        "surpassedThreshold": 0.75,
    }
    event = {"type": "rate_limit_event", "rate_limit_info": info, "session_id": SESSION}
    env = replay.configure([INIT, event, RESULT])
    agent = ClaudeAgent(ClaudeSettings(executable=str(replay.executable)))
    result = run(agent.run(request(repo, env, "do it")))
    assert result.success
    assert result.quota_warning == info
    assert result.limit_type is None
