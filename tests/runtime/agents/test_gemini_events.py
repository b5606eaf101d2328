"""The Gemini CLI event parser on streams recorded from the real `gemini` (0.61.0)."""

from __future__ import annotations

from pathlib import Path

from prodigy.core.usage import Usage
from prodigy.runtime.agents.gemini_events import GeminiEvents
from prodigy.runtime.agents.stream_json import parse_record

FIXTURES = Path(__file__).parents[2] / "fixtures" / "agents"


def replay(name: str) -> tuple[GeminiEvents, list[str]]:
    events, echoed = GeminiEvents(), []
    for line in (FIXTURES / name).read_text().splitlines():
        record = parse_record(line)
        assert record is not None, line
        echoed.extend(events.feed(record))
    return events, echoed


def test_a_run_that_commits_succeeds_with_its_answer_session_and_usage() -> None:
    events, echoed = replay("gemini-commit.jsonl")

    assert events.succeeded
    assert events.session_id == "400e3e6a-8003-41d1-b2d5-6650e2a25179"
    assert events.text == "greeting added"
    assert echoed == [
        "@write hello.txt hello",
        "→ write_file: /tmp/prodigy-fixture/repo/hello.txt",
        "@commit add hello",
        "→ run_shell_command: git add -A && (git diff --cached --quiet || git commit -q -m 'add hello')",
        "greeting added",
    ]
    usage, per_model = events.usage()
    assert list(per_model) == ["gemini-2.5-flash"]
    assert usage.model == "gemini-2.5-flash"
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.turns == 3  # two tool calls, then the answer


def test_a_usage_limit_is_an_error_result_saying_when_to_retry() -> None:
    events, _ = replay("gemini-usage-limit.jsonl")

    assert not events.succeeded
    assert "Please retry in 3600s" in events.failure


def test_a_rate_limit_is_an_error_result() -> None:
    events, _ = replay("gemini-rate-limit.jsonl")

    assert not events.succeeded
    assert "rate limit exceeded" in events.failure


def test_cached_tokens_leave_input_and_thinking_joins_output() -> None:
    events = GeminiEvents()
    counts = {"total_tokens": 1150, "input_tokens": 1000, "output_tokens": 100, "cached": 400}
    stats = {"tool_calls": 0, "models": {"gemini-2.5-pro": counts}}
    events.feed({"type": "result", "status": "success", "stats": stats})

    usage, per_model = events.usage()

    expected = Usage(
        input_tokens=600,
        output_tokens=150,
        cache_read_input_tokens=400,
        reasoning_tokens=50,
        model="gemini-2.5-pro",
    )
    assert per_model == {"gemini-2.5-pro": expected}
    assert usage == Usage(
        turns=1,
        input_tokens=600,
        output_tokens=150,
        cache_read_input_tokens=400,
        reasoning_tokens=50,
        model="gemini-2.5-pro",
    )


def test_a_stream_without_result_is_not_a_success() -> None:
    events = GeminiEvents()
    events.feed({"type": "init", "session_id": "s", "model": "auto"})

    assert not events.succeeded
    assert events.usage()[0] == Usage()
