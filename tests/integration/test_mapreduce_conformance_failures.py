"""MapReduce conformance scenarios M07-M09 (docs/testing.md), run through the real CLI and the
fake claude: failing agents, the DLQ, on_failure handlers.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.conformance import M07, M07_ITEMS
from tests.support.mapreduce import MapReduceRepo


def test_m07_failing_claude_step_dead_letters_the_item(mr: MapReduceRepo) -> None:
    mr.items(M07_ITEMS)
    done = mr.run(M07)
    assert done.returncode == 0, done.stderr
    assert {"out/1.txt", "out/3.txt", "summary.txt"} <= set(mr.tree())
    assert "out/2.txt" not in mr.tree()
    assert mr.cat("summary.txt") == "2/1/3\n"
    prompts = mr.prompts()
    assert "/fake-fail 3 boom-2" in prompts
    assert "/fake-write-commit out/2.txt ok" not in prompts
    [entry] = mr.dlq()
    assert entry["item_data"] == M07_ITEMS[1]
    assert entry["item_id"] == "item_1"
    assert entry["failure_count"] == 1
    assert entry["reprocess_eligible"] == 1
    failure = entry["failure_history"][0]
    assert failure["error_type"] == {"CommandFailed": {"exit_code": 3}}
    assert "exit code 3" in failure["error_message"]
    assert "boom-2" in failure["error_message"]
    # the failed agent's worktree is kept and referenced, never left unreferenced
    artifacts = entry["worktree_artifacts"]
    assert Path(artifacts["worktree_path"]).is_dir()
    assert artifacts["worktree_path"] in mr.worktrees()
    assert artifacts["branch_name"] in mr.branches()
    assert mr.items_state() == {
        "item_0": "merged",
        "item_1": "dead_lettered",
        "item_2": "merged",
    }
    shown = mr.prodigy("dlq", "inspect", "item_1", "--job-id", mr.job_id())
    assert shown.returncode == 0, shown.stderr
    assert '"pre": "fake-fail 3 boom-2"' in shown.stdout
    assert "exit code 3" in shown.stdout and "boom-2" in shown.stdout
    assert "Failures:        1" in shown.stdout
    # `prodigy worktree ls` can tell whose it is: only the kept one is still recorded
    rows = mr.query("SELECT path, state, job_id, item_id FROM worktrees WHERE job_id IS NOT NULL")
    assert [(r["path"], r["state"], r["item_id"]) for r in rows] == [
        (artifacts["worktree_path"], "failed", "item_1")
    ]


def test_m08_failing_shell_step_fails_the_agent(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1}, {"id": 2}, {"id": 3}])
    done = mr.run(
        """
        name: m08-shell-fail
        mode: mapreduce
        map:
          input: items.json
          json_path: "$[*]"
          agent_template:
            - shell: test ${item.id} -ne 2
            - claude: "/fake-write-commit out/${item.id}.txt ok"
              commit_required: true
        """
    )
    assert done.returncode == 0, done.stderr
    assert [p for p in mr.tree() if p.startswith("out/")] == ["out/1.txt", "out/3.txt"]
    assert "/fake-write-commit out/2.txt ok" not in mr.prompts()
    [entry] = mr.dlq()
    assert entry["item_data"] == {"id": 2}
    assert entry["failure_history"][0]["error_type"] == {"CommandFailed": {"exit_code": 1}}


M09 = """
name: m09-on-failure
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  agent_template:
    - shell: test -f ok-${{item.id}}
      on_failure:
        {handler}
    - shell: test -f ok-${{item.id}} && git add ok-${{item.id}} && git commit -qm "ok ${{item.id}}"
      commit_required: true
"""


def test_m09_a_handler_recovers_the_agent(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1}, {"id": 2}])
    done = mr.run(M09.format(handler="shell: touch ok-${item.id}"))
    assert done.returncode == 0, done.stderr
    assert {"ok-1", "ok-2"} <= set(mr.tree())
    assert mr.dlq() == []


def test_m09_b_failing_handler_fails_the_agent(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1}, {"id": 2}])
    done = mr.run(M09.format(handler='shell: "exit 9"'))
    assert done.returncode == 0, done.stderr
    assert [e["item_id"] for e in mr.dlq()] == ["item_0", "item_1"]
    assert not {"ok-1", "ok-2"} & set(mr.tree())


def test_m09_c_handler_sees_the_failed_output(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1}])
    done = mr.run(
        """
        name: m09c
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: echo oops-${item.id}; exit 1
              on_failure:
                claude: "/fake-echo saw=${shell.output}"
        """
    )
    assert done.returncode == 0, done.stderr
    [prompt] = mr.prompts()
    assert "saw=oops-1" in prompt
