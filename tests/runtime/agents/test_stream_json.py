"""The stream-json reader on realistic records, huge lines and garbage."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runtime.agents.sample_stream import (
    ASSISTANT_TOOLS,
    INIT,
    MODEL,
    RESULT,
    SESSION,
    SESSION_RECORDS,
)

from prodigy.core.usage import Usage
from prodigy.runtime.agents.stream_json import (
    StreamRecorder,
    echo_lines,
    open_recorder,
    parse_record,
)


def feed_all(lines: list[str], echoed: list[str] | None = None) -> StreamRecorder:
    recorder = StreamRecorder(None, echoed.append if echoed is not None else None)
    for line in lines:
        recorder.feed(line)
    return recorder


def test_a_full_session_gives_session_result_and_usage() -> None:
    summary = feed_all([json.dumps(r) for r in SESSION_RECORDS]).summary
    assert summary.session_id == SESSION
    assert summary.model == MODEL
    assert not summary.is_error
    assert summary.result_text == "Fixed the typo in src/app.py."
    assert summary.records == 5
    assert summary.usage() == Usage(
        duration_ms=12034,
        turns=4,
        input_tokens=12,
        output_tokens=345,
        cache_creation_input_tokens=5120,
        cache_read_input_tokens=20480,
        cost_usd=0.0421,
        model=MODEL,
        cost_source="reported",
    )


def test_echo_is_one_line_per_text_block_and_tool_call() -> None:
    echoed: list[str] = []
    feed_all([json.dumps(r) for r in SESSION_RECORDS], echoed)
    assert echoed == [
        "I'll check the repository state first.",
        "→ Bash: git status --short",
        "→ Edit: src/app.py",
        "Fixed the typo in src/app.py.",
    ]


def test_echo_truncates_long_text_and_names_unknown_tools() -> None:
    record = {
        "type": "assistant",
        "message": {
            "content": [
                {"type": "text", "text": "x" * 500},
                {"type": "tool_use", "name": "mcp__db__query", "input": {"sql": "select 1"}},
                {"type": "tool_use", "name": "TodoWrite", "input": {"todos": []}},
                {"type": "thinking", "thinking": "hmm"},
            ]
        },
    }
    first, second, third = echo_lines(record)
    assert len(first) == 120 and first.endswith("…")
    assert second == "→ mcp__db__query: select 1"
    assert third == "→ TodoWrite"
    assert echo_lines(INIT) == []


def test_garbage_lines_are_ignored_but_counted() -> None:
    lines = [
        "",
        "npm WARN deprecated something",
        "{not json",
        "[1, 2, 3]",
        '"a string"',
        json.dumps(INIT),
        "\x00\x01 binary noise",
        json.dumps(RESULT) + "\r",
    ]
    summary = feed_all(lines).summary
    assert summary.ignored_lines == 6
    assert summary.records == 2
    assert summary.session_id == SESSION
    assert not summary.is_error


def test_a_line_over_one_megabyte_is_parsed() -> None:
    big = "y" * (3 * 1024 * 1024)
    tool_result = {
        "type": "user",
        "message": {"content": [{"type": "tool_result", "tool_use_id": "t", "content": big}]},
    }
    final = dict(RESULT, result=big[:10])
    summary = feed_all([json.dumps(INIT), json.dumps(tool_result), json.dumps(final)]).summary
    assert summary.records == 3
    assert summary.result_text == "y" * 10


def test_without_a_result_record_the_stream_is_an_error_with_zero_usage() -> None:
    summary = feed_all([json.dumps(INIT), json.dumps(ASSISTANT_TOOLS)]).summary
    assert summary.result is None
    assert summary.is_error
    assert summary.usage() == Usage(model=MODEL, cost_source="unknown")
    assert summary.result_text == "I'll check the repository state first.\nThen fix it."


def test_error_result_without_text_explains_itself() -> None:
    final = {"type": "result", "subtype": "error_max_turns", "is_error": True, "num_turns": 30}
    summary = feed_all([json.dumps(final)]).summary
    assert summary.is_error
    assert summary.error_detail == "error_max_turns"
    final_with_errors = dict(final, subtype="error_during_execution", errors=["tool crashed"])
    assert feed_all([json.dumps(final_with_errors)]).summary.error_detail == (
        "error_during_execution; tool crashed"
    )


def test_model_falls_back_to_the_costliest_model_usage_entry() -> None:
    summary = feed_all([json.dumps(RESULT)]).summary
    assert summary.model is None
    assert summary.usage().model == MODEL


def test_is_error_must_be_literally_false() -> None:
    for value in (None, "false", 0):
        summary = feed_all([json.dumps(dict(RESULT, is_error=value))]).summary
        assert summary.is_error, value


def test_parse_record_accepts_only_objects() -> None:
    assert parse_record('  {"type": "x"}  ') == {"type": "x"}
    assert parse_record("[]") is None
    assert parse_record("{") is None


def test_the_log_holds_every_raw_line_and_parents_are_created(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "deep" / "run.jsonl"
    lines = ["garbage first", json.dumps(INIT), json.dumps(RESULT)]
    with open_recorder(log, None) as recorder:
        for line in lines:
            recorder.feed(line)
        assert log.read_text().splitlines() == lines  # flushed as it arrives
    assert log.read_text() == "".join(f"{line}\n" for line in lines)
