"""Budgets through the CLI with the fake `claude` (15 tokens and $0.0012 per call): a token
budget pauses a job or a session (exit 75, paused and listed), what ran is kept, and a
resume with a higher limit finishes. The real Claude CLI's side (--max-budget-usd, the
per-item cap, dlq retry) is in tests/e2e/test_budgets.py."""

from __future__ import annotations

import json

from tests.support.repos import git
from tests.support.scenario import Scenario

CALL_TOKENS = 15  # the fake claude reports 10 in + 5 out per call

JOB = """\
name: budgeted
mode: mapreduce
setup:
  - shell: 'printf "[1,2,3,4,5,6]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 3
  agent_template:
    - claude: "/fake-write-commit out/${item}.txt ok"
budget:
  max_tokens: 40
"""


def listed(sc: Scenario) -> dict[str, object]:
    [session] = json.loads(sc.prodigy("sessions", "ls", "--all", "--json").stdout)
    return session  # type: ignore[no-any-return]


def landed(sc: Scenario, branch: str) -> list[str]:
    return sorted(s for s in git(sc.repo, "log", "--format=%s", branch).splitlines() if "out/" in s)


def test_a_token_budget_pauses_the_job_and_resume_job_with_a_higher_limit_finishes(
    sc: Scenario,
) -> None:
    paused = sc.run(sc.workflow("job", JOB))

    assert paused.code == 75, paused
    session = listed(sc)
    assert session["status"] == "paused" and session["pause_reason"] == "budget", session
    # the first item runs alone (its cost is unknown), then one more fits: 15 + 15 + 15 > 40
    first = landed(sc, f"prodigy-{session['id']}")
    assert first == ["fake: out/1.txt", "fake: out/2.txt"], first
    assert "30 of 40 tokens" in paused.stderr, paused
    job_id = paused.stdout.split("(job ", 1)[1].split(")", 1)[0]
    assert f"prodigy resume-job {job_id} --max-tokens <higher>" in paused.stderr
    assert "budget_exhausted" in sc.prodigy("events", "ls", "--json").stdout

    done = sc.prodigy("resume-job", job_id, "--max-tokens", "1000", "-y")

    assert done.code == 0, done
    assert landed(sc, "master") == [f"fake: out/{n}.txt" for n in range(1, 7)]
    assert listed(sc)["status"] == "completed"


def test_a_spent_session_budget_stops_before_the_next_claude_step(sc: Scenario) -> None:
    workflow = sc.workflow(
        "steps",
        f"""\
        budget:
          max_tokens: {CALL_TOKENS + 1}
        commands:
          - claude: "/fake-write-commit a.txt one"
          - claude: "/fake-write-commit b.txt two"
          - claude: "/fake-write-commit c.txt three"
        """,
    )

    paused = sc.run(workflow)

    # step 2 may start (1 token left, Claude has no token flag); step 3 may not
    assert paused.code == 75, paused
    assert listed(sc)["status"] == "paused"
    assert "30 of 16 tokens" in paused.stderr
    session_id = paused.session_id()
    assert f"prodigy resume {session_id} --max-tokens <higher>" in paused.stderr
    assert not (sc.repo / "a.txt").exists()  # nothing merged while paused

    done = sc.prodigy("resume", session_id, "--max-tokens", "100", "-y")

    assert done.code == 0, done
    assert (sc.repo / "c.txt").read_text().strip() == "three"
    assert listed(sc)["status"] == "completed"


def test_on_exhausted_fail_ends_the_job_failed(sc: Scenario) -> None:
    failing = JOB.replace("  max_tokens: 40\n", "  max_tokens: 40\n  on_exhausted: fail\n")

    run = sc.run(sc.workflow("job", failing))

    assert run.code == 1, run
    assert listed(sc)["status"] == "failed"
    assert "budget exhausted" in run.stderr


def test_every_agent_call_counts_validators_and_follow_ups_too(sc: Scenario) -> None:
    workflow = sc.workflow(
        "all",
        """\
        commands:
          - claude: "/fake-write-commit a.txt one"
            validate:
              claude: '/fake-echo {"completion_percentage": 100, "status": "complete"}'
          - shell: "true"
            on_success:
              claude: "/fake-noop"
        """,
    )

    run = sc.run(workflow)

    assert run.code == 0, run
    # three agent calls of 10 in / 5 out: the step, its validator, the follow-up
    assert "Agent usage: 30 in / 15 out tokens" in run.stdout, run


def test_claude_resolving_the_merge_conflict_counts_as_usage(sc: Scenario) -> None:
    workflow = sc.workflow(
        "conflict",
        f"""
        commands:
          - shell: printf '# demo\\nsession\\n' > README.md && git commit -qam session-side
            commit_required: true
          - shell: printf '# demo\\nuser\\n' > {sc.repo}/README.md && git -C {sc.repo} commit -qam user-side
        """,
    )

    run = sc.run(workflow)

    assert run.code == 0, run
    assert [c["prompt"].split()[0] for c in sc.calls()] == ["/prodigy-merge-worktree"]
    shown = json.loads(sc.prodigy("sessions", "show", run.session_id(), "--json").stdout)
    assert shown["usage"]["input_tokens"] == 10 and shown["usage"]["output_tokens"] == 5


def test_a_budget_with_the_ray_executor_is_refused_before_anything_starts(sc: Scenario) -> None:
    refused = sc.run(sc.workflow("job", JOB), "--executor", "ray")

    assert refused.code == 2, refused
    assert "a budget (budget:, --max-cost-usd, --max-tokens) with --executor ray" in refused.stderr
    assert "Nothing was started" in refused.stderr
    assert json.loads(sc.prodigy("sessions", "ls", "--all", "--json").stdout or "[]") == []
    assert not (sc.repo / "items.json").exists()  # setup never ran
