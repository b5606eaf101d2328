"""Agent timeouts kill stubborn children; hostile item values stay data; conflicts stay clean."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.support.cli import start_prodigy
from tests.support.mapreduce import MapReduceRepo
from tests.support.repos import commit_file


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_agent_timeout_kills_a_child_that_ignores_sigterm(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1}, {"id": 2}])
    began = time.monotonic()
    done = mr.run(
        """
        name: timeout
        mode: mapreduce
        map:
          input: items.json
          agent_timeout_secs: 1
          agent_template:
            - shell: |
                if [ ${item.id} = 1 ]; then
                  trap '' TERM
                  sleep 60 &
                  echo $! > "$HOME/stubborn.pid"
                  wait
                fi
            - claude: "/fake-write-commit out/${item.id}.txt ok"
              commit_required: true
        """,
        env={"PRODIGY_GRACE_PERIOD": "0.5"},
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - began < 30
    pid = int((mr.home / "stubborn.pid").read_text())
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the SIGTERM-ignoring child outlived its agent"
    [entry] = mr.dlq()
    assert entry["item_id"] == "item_0"
    assert entry["failure_history"][0]["error_type"] == "Timeout"
    assert mr.cat("out/2.txt") == "ok\n"
    types = [e["event_type"] for e in mr.events() if e.get("item_id") == "item_0"]
    assert "agent_timed_out" in types and "agent_failed" in types


HOSTILE = "a'b\"c $(touch PWNED1) `touch PWNED2` ${HOME} $HOME;touch PWNED3\nline2 \\"


def test_hostile_item_values_reach_shell_steps_and_prompts_as_data(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1, "v": HOSTILE}])
    done = mr.run(
        """
        name: hostile
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: printf '%s' "${item.v}" > quoted.txt
            - shell: printf '%s' ${item.v} > unquoted.txt
            - shell: printf '%s' '${item.v}' > single.txt
            - claude: "/fake-write p.txt ${item.v}"
            - shell: git add -A && git commit -qm hostile
              commit_required: true
        reduce:
          - write_file:
              path: results.json
              content: "${map.results}"
          - shell: echo "${map.results}" | grep -c PWNED > count.txt; git add -A && git commit -qm r
        """
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert mr.cat("quoted.txt") == HOSTILE
    assert mr.cat("unquoted.txt") == HOSTILE
    assert mr.cat("single.txt") == HOSTILE
    assert mr.cat("p.txt") == HOSTILE + "\n"
    [call] = mr.calls()
    assert call["prompt"] == "/fake-write p.txt " + HOSTILE
    assert not list(mr.root.rglob("PWNED*"))


def test_two_agents_on_the_same_line_one_lands_the_other_is_a_merge_conflict(
    mr: MapReduceRepo,
) -> None:
    commit_file(mr.repo, "shared.txt", "one\ntwo\nthree\n")
    mr.items([{"id": 1, "delay": 0, "text": "FIRST"}, {"id": 2, "delay": 1.5, "text": "SECOND"}])
    mr.rules([{"match": r"^/prodigy-merge-worktree ", "exit": 1, "stderr": "no luck"}])
    done = mr.run(
        """
        name: same-line
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 2
          agent_template:
            - shell: sleep ${item.delay} && sed -i "s/two/${item.text}/" shared.txt
            - shell: git commit -qam "edit ${item.id}"
              commit_required: true
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.cat("shared.txt") == "one\nFIRST\nthree\n"
    [entry] = mr.dlq()
    assert entry["item_id"] == "item_1"
    assert entry["failure_history"][0]["error_type"] == "MergeConflict"
    assert entry["worktree_artifacts"]["branch_name"] in mr.branches()
    conflict = [e for e in mr.events() if e["event_type"] == "merge_conflict"]
    assert [e["conflicted_paths"] for e in conflict] == [["shared.txt"]]
    # the parent worktree is clean: no half merge, no markers; the final merge went through
    [row] = mr.query("SELECT parent_worktree, parent_head FROM jobs")
    parent = row["parent_worktree"]
    if os.path.isdir(parent):  # removed after the merge back unless auto_cleanup is off
        assert mr.git("-C", parent, "status", "--porcelain") == ""
    assert mr.git("log", "-1", "--format=%H", "master").strip() != mr.seed
    assert mr.is_ancestor(row["parent_head"], "master")


def test_ctrl_c_cancels_agents_and_keeps_the_job_resumable(mr: MapReduceRepo) -> None:
    mr.items([{"id": k} for k in range(4)])
    workflow = mr.root / "wf" / "intr.yml"
    workflow.write_text(
        "name: intr\nmode: mapreduce\nmap:\n  input: items.json\n  max_parallel: 2\n"
        '  agent_template:\n    - shell: echo $$ >> "$HOME/agents.pid"; sleep 30\n'
    )
    proc = start_prodigy("run", workflow, "-y", cwd=mr.repo, env=mr.env)
    pids = mr.home / "agents.pid"
    deadline = time.monotonic() + 20
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "prodigy resume session-" in err
    [job] = mr.query("SELECT status FROM jobs")
    assert job["status"] == "interrupted"
    assert set(mr.items_state().values()) == {"pending"}
    assert not [w for w in mr.worktrees() if "/agent-" in w]
    deadline = time.monotonic() + 30  # killed ones disappear once the kernel ran their exit
    while any(_alive(int(p)) for p in pids.read_text().split()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids.read_text().split() if _alive(int(p))]


def test_very_verbose_runs_show_agent_output_tagged_with_the_item(mr: MapReduceRepo) -> None:
    mr.items(["x", "y"])
    done = mr.run(
        """
        name: chatty
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: echo "hello from ${item}"
        """,
        "-vv",
    )
    assert done.returncode == 0, done.stderr
    assert "[item_0] hello from x" in done.stdout
    assert "[item_1] hello from y" in done.stdout
