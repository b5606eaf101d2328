"""Budgets through the CLI, with the real Claude Code CLI against the scripted model server.

The server reports 1000 input / 500 output tokens per answer, so Claude Code computes
$0.0105 per answer (Sonnet prices). A step with N tool calls gets N + 1 answers, and Claude
Code makes 3 more small requests of its own per run: (N + 4) x $0.0105, $0.0525 for one call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodigy.runtime.model_server import ModelServer, ServerOptions
from tests.support.cli import CliResult, run_prodigy
from tests.support.repos import git, make_repo, prodigy_env

pytestmark = pytest.mark.e2e

ANSWER_USD = 0.0105  # 1000 in + 500 out at $3 / $15 per million
ITEMS = 5

JOB = """\
name: budgeted
mode: mapreduce
setup:
  - shell: 'printf "[1,2,3,4,5]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - claude: |
        @run echo item ${item} > out-${item}.txt && git add -A && git commit -qm "item ${item}"
budget:
  max_cost_usd: 0.12
"""

PER_ITEM = """\
name: capped
mode: mapreduce
setup:
  - shell: 'printf "[1,2,3]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 3
  agent_template:
    - claude: |
        @run echo item ${item} > out-${item}.txt && git add -A && git commit -qm "item ${item}"
    - claude: |
        @run echo more >> out-${item}.txt
        @run echo again >> out-${item}.txt && git commit -qam "item ${item} again"
      when: "${item} == 2"
budget:
  per_item:
    max_cost_usd: 0.06
"""


@pytest.fixture
def priced_server() -> Iterator[ModelServer]:
    with ModelServer(ServerOptions(input_tokens=1000, output_tokens=500)) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, claude_cli: Path, priced_server: ModelServer) -> dict[str, str]:
    return {
        **prodigy_env(tmp_path),
        **priced_server.client_env(max_retries=0),
        "PRODIGY_CLAUDE": str(claude_cli),
        "IS_SANDBOX": "1",
    }


def prodigy(repo: Path, env: dict[str, str], *args: str) -> CliResult:
    return run_prodigy(*args, cwd=repo, env=env, timeout=180)


def sessions(repo: Path, env: dict[str, str]) -> list[dict[str, object]]:
    listed = prodigy(repo, env, "sessions", "ls", "--all", "--json")
    return json.loads(listed.stdout)  # type: ignore[no-any-return]


def landed(repo: Path, branch: str) -> list[str]:
    subjects = git(repo, "log", "--format=%s", branch).splitlines()
    return sorted(s for s in subjects if s.startswith("item "))


def job_cost(out: str) -> float:
    """The dollars of the `Agent usage:` line."""
    line = next(x for x in out.splitlines() if "Agent usage:" in x)
    return float(line.split("$", 1)[1].split()[0].rstrip(","))


def test_a_job_budget_pauses_then_resume_with_a_higher_limit_finishes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(JOB)

    paused = prodigy(repo, env, "run", "wf.yml", "-y")

    assert paused.returncode == 75, paused.stdout + paused.stderr
    [session] = sessions(repo, env)
    assert session["status"] == "paused" and session["pause_reason"] == "budget"
    branch = f"prodigy-{session['id']}"
    first = landed(repo, branch)
    assert 0 < len(first) < ITEMS, first  # some items landed, the rest wait
    spent = job_cost(paused.stdout)
    item_usd = 5 * ANSWER_USD  # one tool call
    assert spent <= 0.12 + item_usd + 1e-9  # over the limit by at most one item's cost
    assert "--max-cost-usd <higher>" in paused.stderr
    events = prodigy(repo, env, "events", "ls", "--json")
    assert "budget_exhausted" in events.stdout

    job_id = next(
        line.split("job ", 1)[1].split(")", 1)[0]
        for line in paused.stdout.splitlines()
        if "(job " in line
    )
    done = prodigy(repo, env, "resume-job", job_id, "--max-cost-usd", "1", "-y")

    assert done.returncode == 0, done.stdout + done.stderr
    assert landed(repo, "master") == [f"item {n}" for n in range(1, ITEMS + 1)]
    assert sessions(repo, env)[0]["status"] == "completed"
    options = json.loads(
        prodigy(repo, env, "sessions", "show", str(session["id"]), "--json").stdout
    )
    assert "1" in json.dumps(options)


def test_an_item_over_its_cap_goes_to_the_dlq_and_dlq_retry_with_a_new_cap_lands_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(PER_ITEM)

    run = prodigy(repo, env, "run", "wf.yml", "-y")

    assert run.returncode == 0, run.stdout + run.stderr
    assert landed(repo, "master") == ["item 1", "item 3"]  # item 2's commit did not land
    listed = json.loads(prodigy(repo, env, "dlq", "list", "--json").stdout)
    assert len(listed) == 1, listed
    entry = listed[0]
    assert "BudgetExceeded" in json.dumps(entry)
    assert entry.get("failure_count", 1) == 1  # not retried automatically
    job_id = str(entry.get("job_id"))

    retried = prodigy(repo, env, "dlq", "retry", job_id, "--max-cost-usd", "1", "-y")

    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert landed(repo, "master") == ["item 1", "item 2", "item 2 again", "item 3"]
    assert (repo / "out-2.txt").read_text() == "item 2\nmore\nagain\n"
    assert "item 2 again" in git(repo, "log", "--format=%s", "master")
    assert json.loads(prodigy(repo, env, "dlq", "list", "--json").stdout) == []


WATCHED = """\
name: watched
mode: mapreduce
setup:
  - shell: 'printf "[1]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  agent_template:
    - claude: |
        @write out-${item}.txt item ${item}
        @commit item ${item}
budget:
  per_item:
    max_tokens: 10
"""


@pytest.mark.parametrize("backend", ["codex", pytest.param("gemini", marks=pytest.mark.slow)])
def test_an_agent_without_a_budget_flag_is_stopped_at_its_cap(
    tmp_path: Path, model_server: ModelServer, request: pytest.FixtureRequest, backend: str
) -> None:
    from tests.e2e.test_agent_backends import agent_env, one_cli

    env = agent_env(tmp_path, model_server, one_cli(request, backend))
    repo = make_repo(tmp_path / "repo")
    (repo / "wf.yml").write_text(WATCHED)

    run = prodigy(repo, env, "run", "wf.yml", "-y", "--agent", backend)

    assert run.returncode == 0, run.stdout + run.stderr
    [entry] = json.loads(prodigy(repo, env, "dlq", "list", "--json").stdout)
    assert "BudgetExceeded" in json.dumps(entry), entry
    assert "reached its spending cap and was stopped" in run.stdout + run.stderr
    assert landed(repo, "master") == []
