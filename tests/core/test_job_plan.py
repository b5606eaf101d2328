"""Pure MapReduce pieces: ids and limits, command output, results, failures, setup captures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.errors import UsageError
from prodigy.core.mapreduce.failures import (
    classify_message,
    error_signature,
    error_type,
    failure_entry,
    manual_review_required,
    reprocess_eligible,
    worktree_artifacts,
)
from prodigy.core.mapreduce.job_plan import (
    looks_like_file,
    map_limits,
    new_job_id,
    parse_command_output,
    parse_input_document,
    resolve_count,
)
from prodigy.core.mapreduce.results import AgentOutcome, StepUsage, duration_json, result_record
from prodigy.core.mapreduce.setup_capture import CaptureMissError, capture_output_value
from prodigy.core.usage import Usage
from prodigy.core.workflow import CaptureOutputSpec, MapPhase, SourceLocation, TimeoutConfig

HERE = SourceLocation(file="wf.yml", line=3, column=1, yaml_path="map")


def _phase(**kw: object) -> MapPhase:
    kw.setdefault("agent_template", ())
    return MapPhase(input="items.json", location=HERE, **kw)  # type: ignore[arg-type]


def test_job_id_has_the_time_and_a_suffix() -> None:
    when = datetime(2026, 11, 25, 16, 5, 9, tzinfo=UTC)
    assert new_job_id(when, "a1b2c3") == "mapreduce-20261125_160509-a1b2c3"


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [(4, {}, 4), ("${N}", {"N": "3"}, 3), ("$N", {"N": " 2 "}, 2), ("7", {}, 7)],
)
def test_counts_resolve_from_env(value: int | str, env: dict[str, str], expected: int) -> None:
    assert resolve_count(value, env, "map.max_parallel") == expected


@pytest.mark.parametrize(
    ("value", "env", "message"),
    [
        (0, {}, "must be 1 or more, got 0"),
        ("${N}", {"N": "-2"}, "must be 1 or more, got -2"),
        ("${N}", {}, "names the variable N, which is not set"),
        ("${N}", {"N": "many"}, "expected a whole number, got 'many'"),
    ],
)
def test_bad_counts_are_usage_errors(value: int | str, env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=r"map\.max_parallel") as caught:
        resolve_count(value, env, "map.max_parallel")
    assert message in str(caught.value)


def test_timeout_config_wins_over_agent_timeout_secs() -> None:
    phase = _phase(agent_timeout_secs=9, timeout_config=TimeoutConfig(agent_timeout_secs=4))
    assert map_limits(phase, {}).agent_timeout == 4.0
    assert map_limits(_phase(agent_timeout_secs="$T"), {"T": "6"}).agent_timeout == 6.0
    assert map_limits(_phase(), {}).agent_timeout is None


def test_command_output_whole_json_then_lines() -> None:
    assert parse_command_output('[{"id": 7}, {"id": 8}]\n') == [{"id": 7}, {"id": 8}]
    assert parse_command_output('{"a": 1}') == [{"a": 1}]
    assert parse_command_output('red\n{"id": 2}\n\n3\n') == [{"item": "red"}, {"id": 2}, 3]
    assert parse_command_output("   \n") == []


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), max_size=6))
def test_command_output_lines_keep_every_non_blank_line(lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    items = parse_command_output(text)
    stripped = [line.strip() for line in text.strip().splitlines() if line.strip()]
    try:
        whole = json.loads(text.strip())
    except ValueError:
        assert len(items) == len(stripped)
    else:
        assert items == (whole if isinstance(whole, list) else [whole])


def test_input_files_and_malformed_json() -> None:
    assert looks_like_file("missing.json") and not looks_like_file("cat list.json")
    with pytest.raises(UsageError, match=r"items\.json is not valid JSON"):
        parse_input_document("[{oops", "items.json")


def _outcome(**kw: object) -> AgentOutcome:
    base: dict[str, object] = {
        "item_id": "item_2",
        "index": 2,
        "agent_id": "job_agent_2",
        "attempt": 1,
        "status": "failed",
    }
    return AgentOutcome(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"failure_kind": "command", "exit_code": 3}, {"CommandFailed": {"exit_code": 3}}),
        ({"status": "timeout", "failure_kind": "timeout"}, "Timeout"),
        ({"failure_kind": "merge_conflict"}, "MergeConflict"),
        ({"failure_kind": "worktree"}, "WorktreeError"),
        ({"failure_kind": "commit"}, "CommitValidationFailed"),
        ({"failure_kind": "unknown", "error": "out of memory"}, "ResourceExhausted"),
        (
            {"failure_kind": "unknown", "error": "exited with code 4"},
            {"CommandFailed": {"exit_code": 4}},
        ),
        ({"failure_kind": "unknown", "error": "something odd"}, "Unknown"),
    ],
)
def test_error_types(kw: dict[str, object], expected: object) -> None:
    assert error_type(_outcome(**kw)) == expected


def test_message_heuristics_follow_prodigys_order() -> None:
    assert classify_message("commit validation timed out") == "CommitValidationFailed"
    assert classify_message("merge timed out") == "Timeout"
    assert classify_message("invalid worktree") == "WorktreeError"


def test_signature_groups_the_same_cause_across_items() -> None:
    one = _outcome(failure_kind="command", exit_code=1, error="step 1 failed: /tmp/a/b.txt line 12")
    two = _outcome(failure_kind="command", exit_code=1, error="step 1 failed: /var/x.txt line 99")
    other = _outcome(failure_kind="command", exit_code=2, error="step 1 failed: /var/x.txt line 99")
    assert error_signature(one) == error_signature(two) != error_signature(other)
    assert error_signature(one) == "CommandFailed { exit_code: 1 }::step failed: line"


def test_dlq_seed_fields() -> None:
    outcome = _outcome(
        failure_kind="command",
        exit_code=3,
        error="claude failed (exit code 3): boom",
        failed_step="claude: /x",
        duration=1.25,
        worktree_path="/w/agent-2",
        branch="prodigy-agent-job-2",
        log_path="/logs/1.jsonl",
    )
    entry = failure_entry(outcome, timestamp="2026-11-25T00:00:00Z")
    assert entry["error_type"] == {"CommandFailed": {"exit_code": 3}}
    assert entry["duration_ms"] == 1250 and entry["step_failed"] == "claude: /x"
    assert entry["json_log_location"] == "/logs/1.jsonl"
    assert worktree_artifacts(outcome) == {
        "worktree_path": "/w/agent-2",
        "branch_name": "prodigy-agent-job-2",
        "uncommitted_changes": None,
        "error_logs": "/logs/1.jsonl",
    }
    assert reprocess_eligible(outcome) and not manual_review_required(outcome)
    commit = _outcome(failure_kind="commit", error="has commit_required=true but no commits")
    assert manual_review_required(commit) and not reprocess_eligible(commit)


def test_result_record_is_prodigys_agent_result_shape() -> None:
    ok = _outcome(
        status="success",
        output="hi\n",
        commits=("abc",),
        duration=1.5,
        worktree_path="/w",
        branch="b",
        usage=(StepUsage(step="s", usage=Usage(input_tokens=3)),),
    )
    assert result_record(ok) == {
        "item_id": "item_2",
        "status": "Success",
        "output": "hi\n",
        "commits": ["abc"],
        "duration": {"secs": 1, "nanos": 500000000},
        "worktree_path": "/w",
        "branch_name": "b",
        "worktree_session_id": "job_agent_2",
    }
    assert result_record(_outcome(error="boom"))["status"] == {"Failed": "boom"}
    assert result_record(_outcome(status="timeout"))["status"] == "Timeout"
    assert AgentOutcome.from_json(json.loads(json.dumps(ok.to_json()))) == ok


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_duration_json_round_trips_to_the_nanosecond(seconds: float) -> None:
    d = duration_json(seconds)
    assert 0 <= d["nanos"] < 1_000_000_000
    assert abs(d["secs"] + d["nanos"] / 1e9 - seconds) < 1e-6 * max(1.0, seconds)


def test_setup_capture_outputs() -> None:
    spec = CaptureOutputSpec(command_index=0)
    assert capture_output_value(spec, "pre\n", "") == "pre"
    both = CaptureOutputSpec(command_index=0, source="both")
    assert capture_output_value(both, "o", "e") == "stdout:\no\nstderr:\ne"
    pattern = CaptureOutputSpec(command_index=0, pattern=r"count=(\d+)")
    assert capture_output_value(pattern, "x\ncount=42\n", "") == "42"
    lines = CaptureOutputSpec(command_index=0, multiline="array")
    assert capture_output_value(lines, "a\nb\n", "") == '["a","b"]'
    last = CaptureOutputSpec(command_index=0, multiline="last_line")
    assert capture_output_value(last, "a\nb\n", "") == "b"
    path = CaptureOutputSpec(command_index=0, json_path="result.items[1]")
    assert capture_output_value(path, '{"result": {"items": [1, {"k": 2}]}}', "") == '{"k":2}'
    limited = CaptureOutputSpec(command_index=0, max_size=8)
    assert capture_output_value(limited, "abc\ndefgh\nijk", "") == "abc"
    missing = CaptureOutputSpec(command_index=0, pattern="nope")
    with pytest.raises(CaptureMissError):
        capture_output_value(missing, "text", "")
    fallback = CaptureOutputSpec(command_index=0, pattern="nope", default="dflt")
    assert capture_output_value(fallback, "text", "") == "dflt"


def test_timeout_config_step_limits() -> None:
    from prodigy.core.mapreduce.job_plan import timed_template
    from prodigy.core.workflow import ClaudeAction, ShellAction, Step

    steps = (
        Step(action=ShellAction(command="make"), location=HERE),
        Step(action=ClaudeAction(prompt="/fix"), id="fix", location=HERE),
        Step(action=ShellAction(command="test"), timeout=2, location=HERE),
    )
    config = TimeoutConfig(
        agent_timeout_secs=60,
        command_timeouts={"fix": 30},
        timeout_policy="PerCommand",
        timeout_action="Skip",
        cleanup_grace_period_secs=1,
    )
    limits = map_limits(_phase(agent_template=steps, timeout_config=config), {})
    assert limits.agent_timeout is None  # PerCommand: no limit on the agent as a whole
    assert limits.step_timeouts == {0: 60, 1: 30, 2: 60}
    assert [s.timeout for s in timed_template(steps, limits)] == [60, 30, 2]
    assert (limits.timeout_action, limits.grace_period) == ("Skip", 1.0)
    hybrid = TimeoutConfig(
        agent_timeout_secs=60, command_timeouts={"shell": 5}, timeout_policy="Hybrid"
    )
    limits = map_limits(_phase(agent_template=steps, timeout_config=hybrid), {})
    assert limits.agent_timeout == 60 and limits.step_timeouts == {0: 5, 2: 5}
