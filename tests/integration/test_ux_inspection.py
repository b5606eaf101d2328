"""Issue 19: inspecting MapReduce sessions shows real progress, every log prodigy names
opens with `prodigy logs`, and job events carry meaningful facts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.conformance import M11, M11_ITEMS
from tests.support.mapreduce import MapReduceRepo
from tests.support.repos import commit_file

FAILING = """
name: shell-only
steps:
  - shell: echo "first step"
  - name: Fail loudly
    shell: echo "the reason it failed" >&2 && exit 4
"""
MAP = """
name: logged-map
mode: mapreduce
setup:
  - shell: echo "setting up"
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 1
  agent_template:
    - shell: echo "agent for ${item.name}"
    - shell: echo "second step of ${item.name}"
reduce:
  - shell: 'echo "Total: 150"'
  - shell: echo "reduce broke" >&2 && exit 5
"""


def _session(mr: MapReduceRepo) -> str:
    return str(mr.query("SELECT id FROM sessions ORDER BY started_at DESC")[0]["id"])


def test_logs_opens_a_shell_steps_log_by_the_path_prodigy_printed(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    done = mr.run(FAILING)
    assert done.returncode == 1
    match = re.search(r"Log: (\S+\.log)", done.stderr)
    assert match, done.stderr
    shown = mr.prodigy("logs", match.group(1))
    assert shown.returncode == 0, shown.stderr
    assert "the reason it failed" in shown.stdout and "exit code 4" in shown.stdout
    latest = mr.prodigy("logs", _session(mr)[8:16], "--latest")
    assert latest.returncode == 0, latest.stderr
    assert "the reason it failed" in latest.stdout
    listed = mr.prodigy("logs", _session(mr)[8:16])
    assert "Fail-loudly" in listed.stdout and "shell" in listed.stdout


def test_mapreduce_logs_have_unambiguous_references(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "alpha"}, {"name": "beta"}])
    assert mr.run(MAP).returncode == 1
    session = _session(mr)
    listed = mr.prodigy("logs", session)
    assert listed.returncode == 0, listed.stderr
    refs = [line.split()[0] for line in listed.stdout.splitlines()[2:] if line.strip()][:-1]
    assert "item_0/1" in refs and "item_1/2" in refs
    assert len(refs) == len(set(refs)), refs  # no number listed twice
    setup = mr.prodigy("logs", session, "1")
    assert "setting up" in setup.stdout  # a plain number: the session's own logs
    second = mr.prodigy("logs", session, "item_1/1")
    assert "agent for beta" in second.stdout and "alpha" not in second.stdout
    padded = mr.prodigy("logs", session, "item_1/002")
    assert "second step of beta" in padded.stdout
    reduce_log = [r for r in refs if "/" not in r][-1]
    assert "reduce broke" in mr.prodigy("logs", session, reduce_log).stdout
    item = mr.prodigy("logs", session, "--item", "item_0")
    assert "item_0/1" in item.stdout and "item_1" not in item.stdout


def test_reduce_output_and_failure_tail_are_shown_without_verbose(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "alpha"}])
    done = mr.run(MAP)
    assert done.returncode == 1
    assert "Total: 150" in done.stdout  # what the user wrote the reduce for
    assert "Last output" in done.stderr and "reduce broke" in done.stderr


def test_mapreduce_sessions_show_their_job_progress_not_placeholders(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "alpha"}, {"name": "beta"}])
    assert mr.run(MAP).returncode == 1
    session = _session(mr)
    listed = mr.prodigy("sessions", "ls")
    row = next(line for line in listed.stdout.splitlines() if session in line)
    assert "2 merged of 2 items (reduce phase)" in row
    assert "0 ok" not in row
    checkpoints = mr.prodigy("checkpoints", "list")
    assert "iteration -" not in checkpoints.stdout and "/0 steps" not in checkpoints.stdout
    assert "2 merged of 2 items" in checkpoints.stdout
    shown = mr.prodigy("checkpoints", "show", session)
    assert "Git HEAD:    -" not in shown.stdout
    head = next(line for line in shown.stdout.splitlines() if line.startswith("Git HEAD:"))
    assert re.search(r"[0-9a-f]{40}", head)
    assert "reduce phase" in shown.stdout
    assert "prodigy resume " + session in shown.stdout


def test_checkpoint_created_counts_merges_over_the_whole_job(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "a"}, {"name": "b"}, {"name": "c"}])
    workflow = MAP.replace('  - shell: echo "reduce broke" >&2 && exit 5\n', "")
    workflow = workflow.replace(
        '    - shell: echo "agent for ${item.name}"',
        '    - shell: echo "${item.name}" > "${item.name}.txt" && git add -A && git commit -qm "${item.name}"',
    )
    assert mr.run(workflow).returncode == 0
    created = [e for e in mr.events() if e["event_type"] == "checkpoint_created"]
    assert [e["version"] for e in created] == [1, 2, 3]
    assert [e["agents_completed"] for e in created] == [1, 2, 3]


def test_a_conflict_claude_resolved_is_recorded_as_merge_conflict(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    commit_file(mr.repo, "shared.txt", "base\n")
    mr.items(M11_ITEMS)
    assert mr.run(M11).returncode == 0
    events = mr.events()
    conflicts = [e for e in events if e["event_type"] == "merge_conflict"]
    assert len(conflicts) == 1
    assert conflicts[0]["conflicted_paths"] == ["shared.txt"]
    assert conflicts[0]["resolved_by"] == "claude"
    completed = [e for e in events if e["event_type"] == "merge_completed"]
    assert [e["used_claude"] for e in completed].count(True) == 1
