"""MapReduce conformance scenarios M11-M18 (docs/testing.md), run through the real CLI and the
fake claude: merge conflicts, max_parallel, setup and reduce, the job's events.
"""

from __future__ import annotations

import json

from tests.support.conformance import M01, M07, M07_ITEMS, M11, M11_ITEMS, PEOPLE
from tests.support.mapreduce import MapReduceRepo
from tests.support.repos import commit_file


def test_m11_a_conflict_resolved_by_the_merge_command(mr: MapReduceRepo) -> None:
    commit_file(mr.repo, "shared.txt", "base\n")
    mr.items(M11_ITEMS)
    done = mr.run(M11)
    assert done.returncode == 0, done.stderr
    assert mr.cat("shared.txt") == "A\nB\n"
    assert len(mr.git("log", "--format=%H", "--grep=^fake: shared.txt$", "master").split()) == 2
    merges = [c for c in mr.calls() if c["prompt"].startswith("/prodigy-merge-worktree")]
    assert len(merges) == 1
    [branch] = merges[0]["prompt"].split()[1:]
    assert branch.startswith("prodigy-agent-mapreduce-") and branch.endswith("-1")
    parent = merges[0]["cwd"]
    assert "/session-" in parent
    assert mr.dlq() == []
    # the trailer was added to Claude's merge commit: git says which items landed
    trailers = mr.git("log", "--format=%(trailers:key=Prodigy-Item,valueonly)", "master").split()
    assert sorted(trailers) == [f"{mr.job_id()}/item_0", f"{mr.job_id()}/item_1"]
    assert "<<<<<<<" not in mr.cat("shared.txt")


def test_m11_b_unresolved_conflict_dead_letters_the_item_and_keeps_parent_clean(
    mr: MapReduceRepo,
) -> None:
    commit_file(mr.repo, "shared.txt", "base\n")
    mr.items(M11_ITEMS)
    mr.rules([{"match": r"^/prodigy-merge-worktree \S+$", "exit": 1, "stderr": "cannot resolve"}])
    done = mr.run(M11)
    assert done.returncode == 0, done.stderr
    assert mr.cat("shared.txt") == "A\n"
    [entry] = mr.dlq()
    assert entry["item_id"] == "item_1"
    assert entry["failure_history"][0]["error_type"] == "MergeConflict"
    assert "shared.txt" in entry["failure_history"][0]["error_message"]
    # the branch with the agent's commit is kept for the DLQ
    branch = entry["worktree_artifacts"]["branch_name"]
    assert branch in mr.branches()
    assert "B" in mr.git("show", f"{branch}:shared.txt")
    for path in mr.root.rglob("shared.txt"):
        assert "<<<<<<<" not in path.read_text()


def _max_overlap(calls: list[dict[str, float]]) -> int:
    edges = sorted([(c["start"], 1) for c in calls] + [(c["end"], -1) for c in calls])
    live = peak = 0
    for _, delta in edges:
        live += delta
        peak = max(peak, live)
    return peak


def test_m12_concurrency_never_exceeds_max_parallel(mr: MapReduceRepo) -> None:
    mr.items([{"id": k} for k in range(1, 6)])
    done = mr.run(
        """
        name: m12
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 2
          agent_template:
            - claude: "/fake-sleep 1"
        """
    )
    assert done.returncode == 0, done.stderr
    calls = mr.calls()
    assert len(calls) == 5
    assert _max_overlap(calls) == 2  # never above the bound (MUST), and reaches it (SHOULD)
    assert max(c["end"] for c in calls) - min(c["start"] for c in calls) >= 3


def test_m12_max_parallel_from_env_variable(mr: MapReduceRepo) -> None:
    mr.items([{"id": k} for k in range(1, 4)])
    done = mr.run(
        """
        name: m12-env
        mode: mapreduce
        env:
          WORKERS: "1"
        map:
          input: items.json
          max_parallel: "${WORKERS}"
          agent_template:
            - claude: "/fake-sleep 0.3"
        """
    )
    assert done.returncode == 0, done.stderr
    assert _max_overlap(mr.calls()) == 1


def test_m14_setup_captures_and_env_reach_agents_and_reduce(mr: MapReduceRepo) -> None:
    mr.items([{"id": 1}, {"id": 2}])
    done = mr.run(
        """
        name: m14-vars
        mode: mapreduce
        env:
          TAG: v1
        setup:
          commands:
            - shell: printf pre
            - shell: printf step
              capture: STEPCAP
          capture_outputs:
            PREFIX: 0
        map:
          input: items.json
          json_path: "$[*]"
          agent_template:
            - claude: "/fake-write-commit out/${item.id}.txt ${PREFIX}-${TAG}-${item.id}-${STEPCAP}"
              commit_required: true
            - shell: test "$PREFIX" = pre && test "$PRODIGY_ITEM_ID" = item_$((${item.id} - 1))
        reduce:
          - shell: echo reduce-${TAG}-${PREFIX}-${map.total} > r.txt && git add r.txt && git commit -qm r
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.cat("out/1.txt") == "pre-v1-1-step\n"
    assert mr.cat("out/2.txt") == "pre-v1-2-step\n"
    assert mr.cat("r.txt") == "reduce-v1-pre-2\n"
    [call] = [c for c in mr.calls() if "out/1.txt" in c["prompt"]]
    assert call["env"]["PRODIGY_JOB_ID"] == mr.job_id()
    assert call["env"]["PRODIGY_ITEM_ID"] == "item_0"
    assert call["env"]["PRODIGY_AGENT_ID"] == f"{mr.job_id()}_agent_0"


def test_m15_a_failing_setup_stops_everything(mr: MapReduceRepo) -> None:
    mr.items(PEOPLE)
    done = mr.run(M01.replace("test -f items.json", '"exit 4"'))
    assert done.returncode != 0
    assert "setup phase" in done.stderr.lower()
    assert mr.calls() == []
    assert mr.dlq() == []
    assert mr.head() == mr.seed


def test_m15_b_failing_reduce_fails_the_run_and_merges_nothing(mr: MapReduceRepo) -> None:
    mr.items(PEOPLE)
    done = mr.run(M01 + '  - shell: "exit 4"\n  - shell: touch ${HOME}/m15-after\n')
    assert done.returncode != 0
    assert "reduce" in done.stderr.lower()
    assert not (mr.home / "m15-after").exists()
    assert mr.head() == mr.seed
    [parent] = [w for w in mr.worktrees() if "/session-" in w]
    landed = mr.git(
        "log",
        "--format=%s",
        "--grep=^fake: out/",
        "-E",
        mr.git("-C", parent, "rev-parse", "HEAD").strip(),
    ).splitlines()
    assert len(landed) == 3  # merged agent results stay in the parent worktree


def test_m18_events_for_one_job(mr: MapReduceRepo) -> None:
    mr.items(M07_ITEMS)
    assert mr.run(M07).returncode == 0
    events = mr.events()
    types = [e["event_type"] for e in events]
    job = mr.job_id()
    assert all(e["job_id"] == job for e in events)
    start = types.index("map_phase_started")
    done = types.index("map_phase_completed")
    assert events[start]["total_items"] == 3
    agent = [e for e in events[start:done] if e["event_type"].startswith("agent_")]
    assert len([e for e in agent if e["event_type"] == "agent_started"]) == 3
    completed = [e for e in agent if e["event_type"] == "agent_completed"]
    failed = [e for e in agent if e["event_type"] == "agent_failed"]
    assert len(completed) == 2 and all(len(e["commits"]) == 1 for e in completed)
    [failure] = failed
    assert failure["failure_reason"] == {"CommandFailed": {"exit_code": 3}}
    assert failure["item_id"] == "item_1"
    for e in completed + failed:
        started = types.index("agent_started", start)
        assert any(
            x["event_type"] == "agent_started" and x["item_id"] == e["item_id"]
            for x in events[started : events.index(e)]
        )
    assert events[done]["successful"] == 2 and events[done]["failed"] == 1
    assert types.index("reduce_phase_started") < types.index("reduce_phase_completed")
    assert done < types.index("reduce_phase_started")
    assert types[0] == "job_started" and types[-1] == "job_completed"
    assert "d_l_q_item_added" in types
    exported = mr.prodigy("events", "export", "--job-id", job, "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["event"]["event_type"] for r in records] == types
    assert all({"id", "timestamp", "correlation_id", "event"} <= set(r) for r in records)
