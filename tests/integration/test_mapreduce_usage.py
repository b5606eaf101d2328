"""Usage is recorded for every agent step of a job: setup and reduce as well as the map
agents (issue 13 item 4), so the job's and the session's totals count them."""

from __future__ import annotations

from pathlib import Path

from tests.support.mapreduce import MapReduceRepo

WORKFLOW = """
name: usage
mode: mapreduce
setup:
  - claude: "/fake-echo setup"
map:
  input: items.json
  json_path: "$[*]"
  agent_template:
    - claude: "/fake-echo ${item}"
reduce:
  - claude: "/fake-echo reduce"
"""


def test_setup_and_reduce_steps_record_their_usage(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(["a", "b"])
    done = mr.run(WORKFLOW)
    assert done.returncode == 0, done.stderr
    rows = mr.query("SELECT step_id, job_id, item_id, input_tokens FROM usage ORDER BY id")
    job = mr.job_id()
    assert all(r["job_id"] == job for r in rows)
    by_item = sorted((r["item_id"] or "-") for r in rows)
    assert by_item == ["-", "-", "item_0", "item_1"]  # setup, reduce, then each agent
    # four claude calls at the fake's 10 in / 5 out tokens each
    assert "Agent usage: 40 in / 20 out tokens" in done.stdout + done.stderr
