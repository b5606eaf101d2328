"""A usage limit in a MapReduce job's setup or reduce phase, with the real Claude Code CLI:
the stopped step is waited out and run again, or the job ends paused and `resume-job`
goes on from that step (docs/budgets-and-quotas.md). The map agents here are shell steps,
so the only model requests are the phase's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodigy.core.errors import EXIT_PAUSED
from prodigy.runtime.model_server import ModelServer
from tests.support.quota import events, resume_job_of, run, sessions, subscription_env
from tests.support.repos import git, make_repo

pytestmark = pytest.mark.e2e

WORKFLOW = """\
name: quota-phases
mode: mapreduce
quota:
  on_limit: {policy}
  jitter: 0s
setup:
  - {setup}
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - shell: 'echo "item ${{item}}" > "out-${{item}}.txt"'
      commit_required: false
    - shell: 'git add "out-${{item}}.txt" && git commit -qm "item ${{item}}"'
reduce:
  - {reduce}
"""
SHELL_SETUP = """shell: 'printf "[1,2]" > items.json'"""
CLAUDE_SETUP = """claude: '@run printf "[1,2]" > items.json'"""
SHELL_REDUCE = """shell: 'echo "${map.successful} landed"'"""
CLAUDE_REDUCE = """claude: "@run echo reduced > reduced.txt\\n@commit reduced\""""


def master_subjects(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s", "master").splitlines()


@pytest.mark.parametrize("window", [(1, 3.0)], indirect=True)
def test_a_setup_step_waits_for_the_reset_and_the_job_goes_on(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    text = WORKFLOW.format(policy="wait", setup=CLAUDE_SETUP, reduce=SHELL_REDUCE)
    (repo / "wf.yml").write_text(text)

    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == 0, done.output
    assert "Usage limit reached: waiting until" in done.stderr
    subjects = master_subjects(repo)
    assert subjects.count("item 1") == subjects.count("item 2") == 1, subjects
    [hit] = events(env, "quota_limit_hit")
    assert hit["limit_type"] == "five_hour" and hit["job_id"]
    assert [e["reason"] for e in events(env, "job_resumed")] == ["quota"]
    assert [s["status"] for s in sessions(env)] == ["completed"]


@pytest.mark.parametrize("window", [(1, 60.0)], indirect=True)
def test_a_reduce_step_pauses_the_job_and_resume_job_runs_it_after_the_reset(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    text = WORKFLOW.format(policy="pause", setup=SHELL_SETUP, reduce=CLAUDE_REDUCE)
    (repo / "wf.yml").write_text(text)

    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == EXIT_PAUSED, done.output
    assert "paused (quota)" in done.stderr
    [session] = sessions(env)
    assert (session["status"], session["pause_reason"]) == ("paused", "quota")
    assert session["resume_at"]
    job = resume_job_of(done.stderr)
    assert [e["reason"] for e in events(env, "job_paused")] == ["quota"]
    assert events(env, "reduce_completed") == []
    early = run(repo, env, "resume-job", job, "-y")
    assert early.returncode == 2 and "--force" in early.stderr, early.output

    window.close_quota_window()
    later = run(repo, env, "resume-job", job, "-y", "--force")

    assert later.returncode == 0, later.output
    subjects = master_subjects(repo)
    assert subjects.count("item 1") == subjects.count("item 2") == 1, subjects
    assert subjects.count("reduced") == 1 and (repo / "reduced.txt").read_text() == "reduced\n"
    assert json.loads(run(repo, env, "dlq", "list", "--json").stdout or "[]") == []
    assert [s["status"] for s in sessions(env)] == ["completed"]


@pytest.mark.parametrize("window", [(1, 60.0)], indirect=True)
def test_fail_fails_the_job_at_the_setup_step(
    tmp_path: Path, claude_cli: Path, window: ModelServer
) -> None:
    env = subscription_env(tmp_path, claude_cli, window)
    repo = make_repo(tmp_path / "repo")
    text = WORKFLOW.format(policy="fail", setup=CLAUDE_SETUP, reduce=SHELL_REDUCE)
    (repo / "wf.yml").write_text(text)

    done = run(repo, env, "run", "wf.yml", "-y")

    assert done.returncode == 1, done.output
    assert "setup step 1 hit the usage limit" in done.stderr
    assert [s["status"] for s in sessions(env)] == ["failed"]
    assert len(events(env, "quota_limit_hit")) == 1
