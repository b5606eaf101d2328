"""`prodigy resume` and `prodigy resume-job` run in this process (most resume tests run
prodigy as a subprocess): a failed sequential session and a stopped MapReduce job continue
where they stopped, the steps that finished do not run again, and `dlq retry` lands the
item that stopped the job."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import InProcessCli
from tests.support.repos import git
from tests.support.scenario import Scenario

SEQUENTIAL = """\
commands:
  - shell: 'echo one >> "$HOME/trail"'
  - shell: 'test -e "$HOME/ready" && echo two >> "$HOME/trail"'
  - shell: 'echo three > three.txt && git add three.txt && git commit -qm three'
"""

MAPREDUCE = """\
name: stops
mode: mapreduce
setup:
  - shell: 'printf "[1,2,3]" > items.json'
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 1
  agent_template:
    - shell: 'test "${item}" != 2 || test -e "$HOME/ready"'
    - shell: 'echo "${item}" > "out-${item}.txt" && git add . && git commit -qm "item ${item}"'
error_policy:
  on_item_failure: stop
"""


def test_resume_runs_a_failed_session_from_the_failed_step(sc: Scenario, cli: InProcessCli) -> None:
    home = Path(sc.env["HOME"])
    failed = cli.in_repo(sc, "run", sc.workflow("seq", SEQUENTIAL), "-y")
    assert failed.code == 1, failed
    session = failed.session_id()
    (home / "ready").touch()

    resumed = cli.in_repo(sc, "resume", session, "-y")

    assert resumed.code == 0, resumed
    assert (home / "trail").read_text() == "one\ntwo\n"  # step one ran once
    assert "three" in git(sc.repo, "log", "--format=%s", "master").splitlines()
    again = cli.in_repo(sc, "resume", session, "-y")
    assert again.code == 0 and "already completed: nothing to resume" in again.stdout, again


def test_resume_job_continues_a_stopped_job(sc: Scenario, cli: InProcessCli) -> None:
    home = Path(sc.env["HOME"])
    stopped = cli.in_repo(sc, "run", sc.workflow("mr", MAPREDUCE), "-y")
    assert stopped.code == 1, stopped
    job = stopped.output.split("Job ", 1)[1].split()[0]
    (home / "ready").touch()

    resumed = cli.in_repo(sc, "resume-job", job, "-y")

    assert resumed.code == 0, resumed
    # the item that stopped the job is in the DLQ
    assert items_on_master(sc) == ["item 1", "item 3"]
    [entry] = cli.in_repo(sc, "dlq", "list", "--job-id", job, "--json").json()
    retried = cli.in_repo(sc, "dlq", "retry", job, "-y")
    assert retried.code == 0, retried
    assert items_on_master(sc) == ["item 1", "item 2", "item 3"], entry


def items_on_master(sc: Scenario) -> list[str]:
    subjects = git(sc.repo, "log", "--format=%s", "master").splitlines()
    return sorted(s for s in subjects if s.startswith("item"))
