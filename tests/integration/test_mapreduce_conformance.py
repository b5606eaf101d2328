"""MapReduce scenarios of spec/conformance.md §4, run through the real CLI and fake claude."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.mapreduce_harness import MapReduceRepo
from tests.support.repos import commit_file

M01 = """
name: m01-basic
mode: mapreduce
setup:
  - shell: test -f items.json
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - claude: "/fake-write-commit out/${item.id}.txt ${item.name}"
      commit_required: true
reduce:
"""
PEOPLE = [{"id": 1, "name": "alice"}, {"id": 2, "name": "bob"}, {"id": 3, "name": "carol"}]


@pytest.fixture
def mr(tmp_path: Path) -> MapReduceRepo:
    return MapReduceRepo(tmp_path)


def test_m01_fan_out_merge_reduce_and_merge_back(mr: MapReduceRepo) -> None:
    mr.items(PEOPLE)
    done = mr.run(
        M01 + "  - shell: ls out | wc -l | tr -d ' ' > count.txt && git add count.txt"
        " && git commit -qm reduce-count\n"
    )
    assert done.returncode == 0, done.stderr
    assert [mr.cat(f"out/{k}.txt") for k in (1, 2, 3)] == ["alice\n", "bob\n", "carol\n"]
    assert mr.cat("count.txt") == "3\n"
    reduce_sha = mr.git("log", "--format=%H", "--grep=^reduce-count$", "master").split()
    assert len(reduce_sha) == 1
    for k in (1, 2, 3):
        shas = mr.git("log", "--format=%H", f"--grep=^fake: out/{k}.txt$", "master").split()
        assert len(shas) == 1  # landed exactly once
        assert mr.git("merge-base", "--is-ancestor", shas[0], reduce_sha[0]) == ""
    calls = mr.calls()
    cwds = {c["cwd"] for c in calls}
    assert len(calls) == 3 and len(cwds) == 3
    assert all("/.prodigy/worktrees/" in cwd and "/agent-" in cwd for cwd in cwds)
    assert mr.worktrees() == [str(mr.repo)]
    assert mr.branches() == ["master"]
    assert "Processing 3 items with 2 parallel agents" in done.stdout
    assert "Map phase completed: 3 successful, 0 failed (total: 3)" in done.stdout
    job = mr.job_id()
    trailers = mr.git("log", "--format=%(trailers:key=Prodigy-Item,valueonly)", "master").split()
    assert sorted(trailers) == [f"{job}/item_{i}" for i in range(3)]


def test_m02_map_results_shape_and_counters(mr: MapReduceRepo) -> None:
    mr.items(PEOPLE)
    done = mr.run(
        M01
        + """\
  - write_file:
      path: results.json
      content: "${map.results}"
      format: json
  - shell: echo ${map.successful}/${map.failed}/${map.total} > summary.txt
  - shell: git add results.json summary.txt && git commit -qm reduce-results
"""
    )
    assert done.returncode == 0, done.stderr
    assert mr.cat("summary.txt") == "3/0/3\n"
    results = json.loads(mr.cat("results.json"))
    assert [r["item_id"] for r in results] == ["item_0", "item_1", "item_2"]
    for k, record in enumerate(results, start=1):
        assert record["status"] == "Success"
        assert isinstance(record["output"], str)
        landed = mr.git("log", "--format=%H", f"--grep=^fake: out/{k}.txt$", "master").split()
        assert record["commits"] == landed
        assert set(record["duration"]) == {"secs", "nanos"}
        assert {"worktree_path", "branch_name", "worktree_session_id"} <= set(record)


def test_m03_scalar_items_and_nested_fields(mr: MapReduceRepo) -> None:
    mr.items(["alpha", "beta"])
    done = mr.run(
        """
        name: m03a
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 1
          agent_template:
            - claude: "/fake-echo scalar=${item}"
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.prompts() == ["/fake-echo scalar=alpha", "/fake-echo scalar=beta"]

    data = {
        "data": {
            "items": [
                {"id": 1, "meta": {"owner": "ann"}, "tags": ["x", "y"]},
                {"id": 2, "meta": {"owner": "bo"}, "tags": ["z"]},
            ]
        }
    }
    mr.items(data, "nested.json")
    done = mr.run(
        """
        name: m03b-nested
        mode: mapreduce
        map:
          input: nested.json
          json_path: "$.data.items[*]"
          max_parallel: 1
          agent_template:
            - claude: "/fake-echo ${item.id} ${item.meta.owner} ${item.tags[0]} ${item.meta}"
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.prompts()[2:] == [
        '/fake-echo 1 ann x {"owner":"ann"}',
        '/fake-echo 2 bo z {"owner":"bo"}',
    ]


def test_m05_empty_input_completes_and_reduce_sees_zero(mr: MapReduceRepo) -> None:
    # The issue and the lead decided reduce runs with map.total = 0 (conformance M05 skips it).
    mr.items([])
    done = mr.run(
        """
        name: m05-empty
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - claude: /fake-noop
        reduce:
          - shell: echo total=${map.total} > ${HOME}/m05-reduce-ran
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.calls() == []
    assert mr.dlq() == []
    assert mr.head() == mr.seed
    assert (mr.home / "m05-reduce-ran").read_text() == "total=0\n"
    assert "Map phase completed: 0 successful, 0 failed (total: 0)" in done.stdout


def test_m05_missing_input_file_is_an_error_before_any_agent(mr: MapReduceRepo) -> None:
    done = mr.run(
        """
        name: m05-missing
        mode: mapreduce
        map:
          input: missing.json
          agent_template:
            - claude: /fake-noop
        """
    )
    assert done.returncode != 0
    assert "missing.json" in done.stderr
    assert mr.calls() == []
    assert mr.head() == mr.seed


def test_m05_malformed_input_file_names_the_file(mr: MapReduceRepo) -> None:
    commit_file(mr.repo, "items.json", "[{oops")
    done = mr.run(
        """
        name: m05-bad
        mode: mapreduce
        map: {input: items.json, agent_template: [{claude: /fake-noop}]}
        """
    )
    assert done.returncode != 0
    assert "items.json is not valid JSON" in done.stderr
    assert mr.calls() == []


def test_m05_command_input_json_and_lines(mr: MapReduceRepo) -> None:
    commit_file(mr.repo, "seeds/list.json", '[{"id": 7}, {"id": 8}]')
    done = mr.run(
        """
        name: m05-cmd
        mode: mapreduce
        map:
          input: cat seeds/list.json
          max_parallel: 1
          agent_template:
            - claude: "/fake-echo id=${item.id}"
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.prompts() == ["/fake-echo id=7", "/fake-echo id=8"]
    done = mr.run(
        """
        name: m05-lines
        mode: mapreduce
        map:
          input: "printf 'red\\ngreen\\n'"
          max_parallel: 1
          agent_template:
            - claude: "/fake-echo ${item.item}"
        """
    )
    assert done.returncode == 0, done.stderr
    assert mr.prompts()[2:] == ["/fake-echo red", "/fake-echo green"]


M07 = """
name: m07-dlq
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 3
  agent_template:
    - claude: "/${item.pre}"
    - claude: "/fake-write-commit out/${item.id}.txt ok"
      commit_required: true
reduce:
  - shell: echo ${map.successful}/${map.failed}/${map.total} > summary.txt && git add summary.txt && git commit -qm summary
"""
M07_ITEMS = [
    {"id": 1, "pre": "fake-noop"},
    {"id": 2, "pre": "fake-fail 3 boom-2"},
    {"id": 3, "pre": "fake-noop"},
]


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


M11 = """
name: m11-conflict
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - shell: sleep ${item.delay}
    - claude: "/fake-write-commit shared.txt ${item.text}"
      commit_required: true
"""
M11_ITEMS = [{"id": 1, "delay": 0, "text": "A"}, {"id": 2, "delay": 1.5, "text": "B"}]


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
