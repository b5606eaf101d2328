"""The retry loop on real shell steps: attempts in total, delays slept, retry_on, budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.steps import Recorder, context, run_first_step

from prodigy.core.workflow import RetryPolicy
from prodigy.core.workflow.step_model import Backoff

COUNTING = "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; "


def test_attempts_counts_every_run_and_stops_at_success(tmp_path: Path) -> None:
    reporter = Recorder()
    repo, outcome, _ = run_first_step(
        tmp_path,
        f"""
        commands:
          - shell: '{COUNTING} test $n -ge 3'
            retry: {{attempts: 5, backoff: fixed, initial_delay: 10ms}}
        """,
        reporter=reporter,
    )
    assert outcome.result.success
    assert (repo / "count").read_text() == "3\n"
    notes = [t for t in reporter.texts() if "retrying" in t]
    assert len(notes) == 2
    assert "attempt 1/5 failed (exit code 1)" in notes[0]


def test_attempts_three_means_three_runs_then_failure(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        f"""
        commands:
          - shell: '{COUNTING} exit 4'
            retry: {{attempts: 3, backoff: fixed, initial_delay: 0s}}
        """,
    )
    assert not outcome.result.success and outcome.fatal
    assert (repo / "count").read_text() == "3\n"
    assert "failed after 3 attempts" in outcome.result.error


def test_attempts_one_runs_once(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        f"""
        commands:
          - shell: '{COUNTING} exit 1'
            retry: {{attempts: 1}}
        """,
    )
    assert (repo / "count").read_text() == "1\n"
    assert not outcome.result.success


def test_retry_on_that_does_not_match_stops_after_one_run(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        f"""
        commands:
          - shell: '{COUNTING} echo assertion failed; exit 1'
            retry: {{attempts: 4, initial_delay: 0s, retry_on: [network, {{exit_code: 75}}]}}
        """,
    )
    assert (repo / "count").read_text() == "1\n"
    assert "retry_on does not match" in outcome.result.error


def test_retry_on_output_pattern_retries(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        f"""
        commands:
          - shell: '{COUNTING} echo "HTTP 503"; test $n -ge 2'
            retry: {{attempts: 4, initial_delay: 0s, retry_on: [{{pattern: "HTTP 5\\\\d\\\\d"}}]}}
        """,
    )
    assert outcome.result.success
    assert (repo / "count").read_text() == "2\n"


def test_write_file_errors_are_retried_too(tmp_path: Path) -> None:
    _, outcome, _ = run_first_step(
        tmp_path,
        """
        commands:
          - write_file: {path: missing/dir/x.txt, content: hi}
            retry: {attempts: 2, initial_delay: 0s}
        """,
    )
    assert not outcome.result.success
    assert "create_dirs" in outcome.result.error
    assert "failed after 2 attempts" in outcome.result.error


def test_budget_stops_retrying(tmp_path: Path) -> None:
    from prodigy.runtime.steps.retrying import run_retrying

    calls: list[int] = []
    slept: list[float] = []

    async def attempt():  # type: ignore[no-untyped-def]
        from prodigy.core.results import StepResult

        calls.append(1)
        return StepResult(success=False, exit_code=1, error="boom")

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = RetryPolicy(
        attempts=10, backoff=Backoff(kind="fixed"), initial_delay=2.0, retry_budget=5.0
    )
    clock = iter([0.0, 1.0, 4.0, 9.0])
    result = asyncio.run(
        run_retrying(
            policy,
            attempt,
            context(tmp_path),
            label="x",
            sleep=sleep,
            clock=lambda: next(clock),
        )
    )
    assert len(calls) == 2 and slept == [2.0]
    assert "retry_budget of 5 s used up after 2 attempts" in result.error
