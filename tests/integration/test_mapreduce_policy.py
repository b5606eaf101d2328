"""The error policy through the CLI: stop, max_failures, threshold, retry with backoff, skip."""

from __future__ import annotations

import time

import pytest

from tests.support.mapreduce import MapReduceRepo

FLAKY = """
name: policy
mode: mapreduce
{policy}
map:
  input: items.json
  max_parallel: 1
  agent_template:
    - claude: "/${{item.pre}}"
    - claude: "/fake-write-commit out/${{item.id}}.txt ok"
      commit_required: true
reduce:
  - shell: touch ${{HOME}}/reduce-ran
"""


def _items(*pres: str) -> list[dict[str, object]]:
    return [{"id": k, "pre": pre} for k, pre in enumerate(pres, start=1)]


def test_stop_policy_cancels_the_job_and_merges_nothing(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-noop", "fake-fail 2 first-failure", "fake-noop", "fake-noop"))
    done = mr.run(FLAKY.format(policy="error_policy:\n  on_item_failure: stop"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stopped by the error policy" in done.stderr  # a warning: stderr (issue 19)
    prompts = mr.prompts()
    assert "/fake-write-commit out/3.txt ok" not in prompts  # never started
    assert "/fake-write-commit out/4.txt ok" not in prompts
    assert not (mr.home / "reduce-ran").exists()
    assert mr.head() == mr.seed
    [row] = mr.query("SELECT status, error FROM jobs")
    assert row["status"] == "failed" and "on_item_failure is stop" in row["error"]
    states = mr.items_state()
    assert states["item_1"] == "dead_lettered"
    assert states["item_2"] in ("pending", "merged")  # never left half-run
    assert "running" not in states.values()
    assert [w for w in mr.worktrees() if "/agent-" in w] == [
        e["worktree_artifacts"]["worktree_path"] for e in mr.dlq()
    ]


def test_max_failures_stops_after_the_limit(mr: MapReduceRepo) -> None:
    mr.items(_items(*["fake-fail 1 nope"] * 4))
    done = mr.run(FLAKY.format(policy="max_failures: 1"))
    assert done.returncode == 1
    assert "more than max_failures (1)" in done.stderr
    assert len(mr.dlq()) == 2
    assert len(mr.calls()) == 2


def test_failure_threshold_stops_when_the_share_is_exceeded(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-noop", "fake-fail 1 a", "fake-fail 1 b", "fake-noop", "fake-noop"))
    done = mr.run(FLAKY.format(policy="error_policy:\n  failure_threshold: 0.3"))
    assert done.returncode == 1
    assert "more than failure_threshold 0.3" in done.stderr
    assert len(mr.dlq()) == 2


def test_retry_with_backoff_lands_a_flaky_item(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-flaky k 1"))
    policy = """error_policy:
  on_item_failure: retry
  retry_config:
    max_attempts: 3
    backoff:
      fixed: {delay: {secs: 0, nanos: 300000000}}"""
    done = mr.run(FLAKY.format(policy=policy))
    assert done.returncode == 0, done.stderr
    assert mr.cat("out/1.txt") == "ok\n"
    assert mr.dlq() == []
    retrying = [e for e in mr.events() if e["event_type"] == "agent_retrying"]
    assert [(e["attempt"], e["backoff_ms"]) for e in retrying] == [(2, 300)]
    flaky = [c for c in mr.calls() if c["prompt"] == "/fake-flaky k 1"]
    assert [c["exit"] for c in flaky] == [1, 0]
    assert flaky[1]["start"] - flaky[0]["end"] >= 0.3
    [row] = mr.query("SELECT attempts, state FROM items")
    assert (row["attempts"], row["state"]) == (2, "merged")


def test_retries_exhausted_go_to_the_dlq_with_every_attempt(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-fail 5 always"))
    policy = "on_item_failure: retry\nerror_policy:\n  retry_config: {max_attempts: 2, backoff: {fixed: {delay: 0}}}"
    done = mr.run(FLAKY.format(policy=policy))
    assert done.returncode == 0, done.stderr
    [entry] = mr.dlq()
    assert entry["failure_count"] == 1
    assert entry["failure_history"][0]["attempt_number"] == 2
    assert len(mr.calls()) == 2


def test_skip_policy_keeps_failures_out_of_the_dlq(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-fail 1 nope", "fake-noop"))
    done = mr.run(FLAKY.format(policy="on_item_failure: skip"))
    assert done.returncode == 0, done.stderr
    assert mr.dlq() == []
    assert mr.items_state() == {"item_0": "failed", "item_1": "merged"}
    assert (mr.home / "reduce-ran").exists()


def test_continue_on_failure_false_stops_at_the_first_failure(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-fail 1 nope", "fake-noop"))
    done = mr.run(FLAKY.format(policy="continue_on_failure: false"))
    assert done.returncode == 1
    assert "/fake-write-commit out/2.txt ok" not in mr.prompts()


def test_immediate_error_collection_reports_each_failure_as_it_happens(
    mr: MapReduceRepo,
) -> None:
    mr.items(_items("fake-fail 1 nope", "fake-noop"))
    done = mr.run(FLAKY.format(policy="error_collection: immediate"))
    assert done.returncode == 0
    lines = done.stderr.splitlines()  # both are warnings: stderr
    failed_at = next(i for i, line in enumerate(lines) if "item_0 failed:" in line)
    assert failed_at < next(i for i, line in enumerate(lines) if "Map phase completed" in line)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_max_parallel_below_one_is_an_error_before_anything_starts(
    mr: MapReduceRepo, value: str
) -> None:
    mr.items(_items("fake-noop"))
    done = mr.run(
        f"""
        name: zero
        mode: mapreduce
        env: {{WORKERS: "{value}"}}
        map:
          input: items.json
          max_parallel: "${{WORKERS}}"
          agent_template: [{{claude: /fake-noop}}]
        """
    )
    assert done.returncode == 2
    assert "max_parallel" in done.stderr and "must be 1 or more" in done.stderr
    assert mr.worktrees() == [str(mr.repo)]
    assert (
        not (mr.home / ".prodigy" / "prodigy.db").exists()
        or mr.query("SELECT * FROM sessions") == []
    )


def test_dry_run_prints_the_plan_and_creates_nothing(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-noop"))
    done = mr.run(FLAKY.format(policy=""), "--dry-run")
    assert done.returncode == 0, done.stderr
    for text in ("map input: items.json", "agent step 1: claude: /${item.pre}", "reduce 1:"):
        assert text in done.stdout
    assert mr.calls() == []
    assert mr.worktrees() == [str(mr.repo)]


def test_circuit_breaker_pauses_new_agents_after_failures(mr: MapReduceRepo) -> None:
    mr.items(_items("fake-fail 1 down", "fake-noop", "fake-noop"))
    policy = """error_policy:
  circuit_breaker: {failure_threshold: 1, timeout: 1s, half_open_requests: 1, success_threshold: 1}"""
    done = mr.run(FLAKY.format(policy=policy))
    assert done.returncode == 0, done.stderr
    calls = mr.calls()
    failed = next(c for c in calls if c["prompt"] == "/fake-fail 1 down")
    later = [c for c in calls if c["start"] > failed["start"]]
    assert later, "no agent ran after the failure"
    assert min(c["start"] for c in later) - failed["end"] >= 0.9  # the breaker was open
    assert sorted(p for p in mr.tree() if p.startswith("out/")) == ["out/2.txt", "out/3.txt"]


@pytest.mark.parametrize(("action", "code", "dead_lettered"), [("Fail", 1, 1), ("Skip", 0, 0)])
def test_timeout_config_per_command_limits_and_actions(
    mr: MapReduceRepo, action: str, code: int, dead_lettered: int
) -> None:
    mr.items([{"id": 1, "delay": 300}, {"id": 2, "delay": 0}])
    began = time.monotonic()
    done = mr.run(
        f"""
        name: per-command
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 1
          timeout_config:
            timeout_policy: PerCommand
            command_timeouts: {{shell: 1}}
            timeout_action: {action}
            cleanup_grace_period_secs: 0
          agent_template:
            - shell: sleep ${{item.delay}}
        """
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert time.monotonic() - began < 60  # not the 300 s sleep
    assert len(mr.dlq()) == dead_lettered
    assert mr.items_state()["item_0"] == ("dead_lettered" if dead_lettered else "failed")
