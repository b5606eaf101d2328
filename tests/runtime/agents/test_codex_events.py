"""The Codex event parser on streams recorded from the real `codex exec --json` (0.171.0)."""

from __future__ import annotations

from pathlib import Path

from prodigy.core.usage import Usage
from prodigy.runtime.agents.codex_events import CodexEvents
from prodigy.runtime.agents.stream_json import parse_record

FIXTURES = Path(__file__).parents[2] / "fixtures" / "agents"


def replay(name: str) -> tuple[CodexEvents, list[str]]:
    events, echoed = CodexEvents(), []
    for line in (FIXTURES / name).read_text().splitlines():
        record = parse_record(line)
        assert record is not None, line
        echoed.extend(events.feed(record))
    return events, echoed


def test_a_run_that_commits_succeeds_with_its_answer_session_and_usage() -> None:
    events, echoed = replay("codex-commit.jsonl")

    assert events.succeeded
    assert events.thread_id == "01a251fe-82f0-7370-a1ea-f975fff10a75"
    assert events.last_message == "greeting added"
    assert echoed[0] == "@write hello.txt hello"
    assert any(line.startswith("→ exec: /bin/bash -c") and "git commit" in line for line in echoed)
    usage = events.usage("gpt-5.5")
    assert usage.input_tokens == events.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.turns == 1
    assert usage.model == "gpt-5.5"


def test_a_usage_limit_fails_the_turn_with_codex_words() -> None:
    events, _ = replay("codex-usage-limit.jsonl")

    assert not events.succeeded
    assert events.failure is not None
    assert events.failure.startswith("You’ve hit your usage limit. Try again at ")


def test_an_api_error_after_a_command_fails_the_turn() -> None:
    events, echoed = replay("codex-task-failure.jsonl")

    assert not events.succeeded
    assert events.failure is not None and "@fail 3: the tests broke" in events.failure
    assert any(line.startswith("→ exec:") for line in echoed)


def test_cached_input_is_taken_out_of_input_and_reasoning_is_part_of_output() -> None:
    events = CodexEvents()
    usage_record = {
        "input_tokens": 1000,
        "cached_input_tokens": 600,
        "cache_write_input_tokens": 100,
        "output_tokens": 50,
        "reasoning_output_tokens": 20,
    }
    events.feed({"type": "turn.completed", "usage": usage_record})

    assert events.usage("m") == Usage(
        turns=1,
        input_tokens=300,
        output_tokens=50,
        cache_creation_input_tokens=100,
        cache_read_input_tokens=600,
        reasoning_tokens=20,
        model="m",
    )


def test_an_error_item_is_a_warning_not_a_failure() -> None:
    events = CodexEvents()
    message = "Model metadata for `x` not found. Defaulting to fallback metadata"
    echoed = events.feed({"type": "item.completed", "item": {"type": "error", "message": message}})
    events.feed({"type": "turn.completed", "usage": {}})

    assert events.succeeded
    assert events.warnings == [message]
    assert echoed == [f"warning: {message}"]
