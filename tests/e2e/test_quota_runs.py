"""Usage limits (quotas) through `prodigy run`, with the real Claude Code CLI on a scripted
subscription: the model server rejects every request for a few seconds (a quota window),
as Anthropic does when a 5-hour limit is reached (docs/budgets-and-quotas.md)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from prodigy.core.errors import EXIT_PAUSED
from prodigy.runtime.model_server import ModelServer, QuotaWarning, ServerOptions
from tests.support.quota import (
    events,
    resume_job_of,
    run,
    seconds_until,
    sessions,
    start_waiting_run,
    stop_group,
    subscription_env,
)
from tests.support.repos import git, make_repo

pytestmark = pytest.mark.e2e

# three requests per item: two tool calls and the final answer
MAPREDUCE = """\
name: quota-map
mode: mapreduce
quota:
  on_limit: {policy}
  jitter: 0s
setup:
  - shell: 'printf "[1,2,3,4]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - claude: |
        @run echo "item ${{item}}" > "out-${{item}}.txt"
        @commit item ${{item}}
"""


def landed_once(repo: Path) -> None:
    subjects = git(repo, "log", "--format=%s", "master").splitlines()
    for item in range(1, 5):
        assert subjects.count(f"item {item}") == 1, subjects
        assert (repo / f"out-{item}.txt").read_text() == f"item {item}\n"


def test_wait_waits_for_the_reset_and_lands_every_item_once(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(MAPREDUCE.format(policy="wait"))

    began = time.monotonic()
    done = run(repo, env, "run", "wf.yml", "-y")
    took = time.monotonic() - began

    assert done.returncode == 0, done.stdout + done.stderr
    landed_once(repo)
    assert "Usage limit reached: waiting until" in done.stderr
    assert "resuming in" in done.stderr
    assert took >= 3  # the window lasts 3 s from the 7th request
    [session] = sessions(env)
    assert session["status"] == "completed"
    hits = events(env, "quota_limit_hit")
    assert hits
    assert hits[0]["limit_type"] == "five_hour"
    assert hits[0]["resets_at"] == hits[0]["resume_at"]  # jitter 0s
    assert [e["reason"] for e in events(env, "job_resumed")] == ["quota"]
    assert events(env, "agent_failed") == []
    dlq = run(repo, env, "dlq", "list", "--json")
    assert json.loads(dlq.stdout or "[]") == []


@pytest.mark.parametrize("window", [(7, 60.0)], indirect=True)
def test_pause_ends_paused_and_resume_job_refuses_before_the_reset(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(MAPREDUCE.format(policy="pause"))

    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == EXIT_PAUSED == 75, done.stdout + done.stderr
    assert "paused (quota): the agent hit the five_hour usage limit" in done.stderr
    job = resume_job_of(done.stderr)
    [session] = sessions(env)
    assert (session["status"], session["pause_reason"]) == ("paused", "quota")
    resume_at = str(session["resume_at"])
    # the 60 s window's end, sent as a whole epoch second rounded up (as Anthropic's header)
    assert 0 < seconds_until(resume_at) <= 61
    paused = events(env, "job_paused")
    assert [(e["reason"], e["resume_at"]) for e in paused] == [("quota", resume_at)]
    assert events(env, "agent_failed") == []
    listed = run(repo, env, "sessions", "ls")
    assert "paused" in listed.stdout and "quota" in listed.stdout

    early = run(repo, env, "resume-job", job, "-y")
    assert early.returncode == 2, early.stdout + early.stderr
    assert "paused by a usage limit until" in early.stderr
    assert "--force" in early.stderr

    window.close_quota_window()  # the account has allowance again before the stated reset
    forced = run(repo, env, "resume-job", job, "-y", "--force")

    assert forced.returncode == 0, forced.stdout + forced.stderr
    landed_once(repo)
    assert json.loads(run(repo, env, "dlq", "list", "--json").stdout or "[]") == []


@pytest.mark.slow
@pytest.mark.parametrize("window", [(7, 8.0)], indirect=True)
def test_after_the_reset_resume_job_lands_the_rest_of_a_paused_job(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(MAPREDUCE.format(policy="pause"))
    done = run(repo, env, "run", "wf.yml", "-y")
    assert done.returncode == 75, done.stdout + done.stderr
    [session] = sessions(env)
    time.sleep(max(0.0, seconds_until(str(session["resume_at"]))) + 0.5)

    later = run(repo, env, "resume-job", resume_job_of(done.stderr), "-y")

    assert later.returncode == 0, later.stdout + later.stderr
    assert "Usage limit reached" not in later.stderr  # the reset had passed: no wait
    landed_once(repo)
    [session] = sessions(env)
    assert session["status"] == "completed"
    assert json.loads(run(repo, env, "dlq", "list", "--json").stdout or "[]") == []


@pytest.mark.slow
@pytest.mark.parametrize("window", [(7, 9.0)], indirect=True)
def test_a_job_killed_during_the_wait_resumes_into_the_same_wait(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(MAPREDUCE.format(policy="wait"))
    proc = start_waiting_run(repo, env)
    os.kill(proc.pid, signal.SIGKILL)  # a crash in the middle of the wait
    stop_group(proc)  # and the agents the crash left behind
    paused = [s for s in sessions(env) if s["status"] == "paused"]
    resume_at = str(paused[0]["resume_at"])
    assert seconds_until(resume_at) > 0
    [job] = [str(e["job_id"]) for e in events(env, "job_started")]

    resumed = run(repo, env, "resume-job", job, "-y")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Usage limit reached: waiting until" in resumed.stderr
    assert seconds_until(resume_at) < 0  # it waited for the stored reset, not less
    landed_once(repo)
    assert json.loads(run(repo, env, "dlq", "list", "--json").stdout or "[]") == []


SEQUENTIAL = """\
quota:
  on_limit: {policy}
  jitter: 0s
commands:
  - claude: |
      @run echo one > one.txt
      @commit one
  - claude: |
      @run echo two > two.txt
      @commit two
"""


@pytest.mark.parametrize("window", [(4, 3.0)], indirect=True)
def test_a_sequential_step_waits_for_the_reset_and_runs_again(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(SEQUENTIAL.format(policy="wait"))

    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Usage limit reached: waiting until" in done.stderr
    assert git(repo, "log", "--format=%s", "-2", "master^2").splitlines() == ["two", "one"]
    assert (repo / "two.txt").read_text() == "two\n"
    assert [e["limit_type"] for e in events(env, "quota_limit_hit")] == ["five_hour"]
    assert [e["reason"] for e in events(env, "job_resumed")] == ["quota"]


@pytest.mark.parametrize("window", [(4, 60.0)], indirect=True)
def test_a_sequential_run_pauses_at_the_step_and_resume_continues_there(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(SEQUENTIAL.format(policy="pause"))

    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == 75, done.stdout + done.stderr
    [session] = sessions(env)
    assert (session["status"], session["pause_reason"]) == ("paused", "quota")
    resume_at = str(session["resume_at"])
    assert f"continue with: prodigy resume {session['id']}" in done.stderr
    assert seconds_until(resume_at) > 0
    early = run(repo, env, "resume", str(session["id"]), "-y")
    assert early.returncode == 2
    assert "--force" in early.stderr
    window.close_quota_window()

    later = run(repo, env, "resume", str(session["id"]), "-y", "--force")

    assert later.returncode == 0, later.stdout + later.stderr
    assert git(repo, "log", "--format=%s", "-2", "master^2").splitlines() == ["two", "one"]


@pytest.mark.parametrize("window", [(7, 30.0)], indirect=True)
def test_ctrl_c_during_the_wait_leaves_the_job_paused_and_resumable(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(MAPREDUCE.format(policy="wait"))
    proc = start_waiting_run(repo, env)
    try:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        stop_group(proc)

    assert proc.returncode == 130, stderr
    assert "continue with: prodigy resume-job" in stderr
    [session] = sessions(env)
    assert (session["status"], session["pause_reason"]) == ("paused", "quota")
    assert seconds_until(str(session["resume_at"])) > 0
    assert [e["reason"] for e in events(env, "job_paused")] == ["quota"]
    assert events(env, "agent_failed") == []


def test_a_usage_warning_is_shown_and_recorded(tmp_path: Path, claude_cli: Path) -> None:
    with ModelServer(ServerOptions(quota_warning=QuotaWarning(2, 0.85))) as server:
        env = subscription_env(tmp_path, claude_cli, server)
        repo = make_repo(tmp_path / "repo")
        (repo / "wf.yml").write_text("- claude: |\n    @run echo one > one.txt\n    @commit one\n")

        done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "usage warning: 85% of the five_hour usage limit used" in done.stderr
    [warning] = events(env, "quota_warning")
    info = warning["rate_limit_info"]
    assert isinstance(info, dict)
    assert (info["status"], info["utilization"]) == ("allowed_warning", 0.85)


@pytest.mark.parametrize("window", [(4, 30.0)], indirect=True)
def test_a_reset_beyond_max_wait_ends_paused_even_under_wait(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    workflow = SEQUENTIAL.format(policy="wait").replace(
        "  jitter: 0s\n", "  jitter: 0s\n  max_wait: 10s\n"
    )
    (repo / "wf.yml").write_text(workflow)

    began = time.monotonic()
    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == 75, done.stdout + done.stderr
    assert time.monotonic() - began < 25  # it did not wait the 30 s
    assert "Usage limit reached: waiting" not in done.stderr
    [session] = sessions(env)
    assert (session["status"], session["pause_reason"]) == ("paused", "quota")
    early = run(repo, env, "resume", str(session["id"]), "-y")
    assert early.returncode == 2  # waiting longer than max_wait is not what resume does
    assert "--force" in early.stderr
