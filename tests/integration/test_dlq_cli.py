"""`prodigy dlq ...` on jobs produced by real runs with the fake `claude` (scenario M07 in full)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from prodigy.app.mapreduce.dead_letters import make_room
from prodigy.app.mapreduce.events import JobEvents
from prodigy.core.progress import Note
from prodigy.store import open_store
from tests.support.cli import InProcessCli
from tests.support.conformance import M07, M07_ITEMS
from tests.support.mapreduce import MapReduceRepo

TWO_WAYS = """
name: two-ways
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 4
  agent_template:
    - claude: "/${item.pre}"
    - claude: "/fake-write-commit out/${item.id}.txt ok"
      commit_required: true
"""
TWO_WAYS_ITEMS = [
    {"id": 1, "pre": "fake-fail 3 disk full on /tmp/a/1"},
    {"id": 2, "pre": "fake-noop"},
    {"id": 3, "pre": "fake-fail 3 disk full on /var/b/22"},
    {"id": 4, "pre": "fake-fail 5 out of memory"},  # (a quota text would wait, not fail)
]


def as_json(cli: InProcessCli, mr: MapReduceRepo, *args: str) -> Any:
    done = cli.in_repo(mr, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def two_ways(tmp_path_factory: pytest.TempPathFactory) -> MapReduceRepo:
    """One finished job with three failed items, two of them failing the same way (read only)."""
    mr = MapReduceRepo(tmp_path_factory.mktemp("two-ways"))
    mr.items(TWO_WAYS_ITEMS)
    done = mr.run(TWO_WAYS)
    assert done.returncode == 0, done.stderr
    return mr


def test_m07_in_full(cli: InProcessCli, tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(M07_ITEMS)
    done = mr.run(M07)
    assert done.returncode == 0, done.stderr
    assert {"out/1.txt", "out/3.txt", "summary.txt"} <= set(mr.tree())
    assert "out/2.txt" not in mr.tree()
    assert mr.cat("summary.txt") == "2/1/3\n"
    assert "/fake-fail 3 boom-2" in mr.prompts()
    assert "/fake-write-commit out/2.txt ok" not in mr.prompts()
    job = mr.job_id()
    listing = cli.in_repo(mr, "dlq", "list")
    assert listing.returncode == 0, listing.stderr
    [row] = [line for line in listing.stdout.splitlines() if line.startswith("item_")]
    assert row.split()[:3] == ["item_1", job, "1"]
    shown = cli.in_repo(mr, "dlq", "inspect", "item_1", "--job-id", job)
    assert shown.returncode == 0, shown.stderr
    assert '"id": 2' in shown.stdout and '"pre": "fake-fail 3 boom-2"' in shown.stdout
    assert "exit code 3" in shown.stdout and "boom-2" in shown.stdout
    assert "Failures:        1 " in shown.stdout
    [entry] = as_json(cli, mr, "dlq", "list")
    assert entry["item_data"] == M07_ITEMS[1]
    assert (entry["failure_count"], entry["reprocess_eligible"]) == (1, True)
    assert entry["failure_history"][0]["error_type"] == {"CommandFailed": {"exit_code": 3}}
    assert entry["error_signature"].startswith("CommandFailed { exit_code: 3 }::step")
    # the failed agent's worktree is kept and referenced from the entry
    assert Path(entry["worktree_artifacts"]["worktree_path"]).is_dir()
    assert as_json(cli, mr, "dlq", "show", "item_1") == entry  # one job holds it: no --job needed


def test_list_filters_and_order(cli: InProcessCli, two_ways: MapReduceRepo) -> None:
    mr = two_ways

    def ids(*args: str) -> list[str]:
        return [e["item_id"] for e in as_json(cli, mr, "dlq", "list", *args)]

    everything = as_json(cli, mr, "dlq", "list")
    lasts = [e["last_attempt"] for e in everything]
    assert lasts == sorted(lasts, reverse=True)
    assert sorted(ids()) == ["item_0", "item_2", "item_3"]
    assert sorted(ids("--error-type", "commandfailed")) == ["item_0", "item_2", "item_3"]
    assert ids("--error-type", "Timeout") == []
    assert ids("--signature", "exit_code: 5") == ["item_3"]
    assert sorted(ids("--signature", "code 3): DISK")) == ["item_0", "item_2"]
    assert len(ids("--eligible")) == 3
    assert ids("--not-eligible") == []
    assert ids("--limit", "1") == ids()[:1]
    assert len(ids("--since", "1h")) == 3
    assert ids("--until", "2000-01-01") == []
    assert len(ids("--job", mr.job_id(), "--since", "2000-01-01T00:00")) == 3
    bad = cli.in_repo(mr, "dlq", "list", "--since", "yesterday-ish")
    assert bad.returncode == 2 and "--since 'yesterday-ish'" in bad.stderr
    unknown = cli.in_repo(mr, "dlq", "list", "--job", "no-such-job")
    assert unknown.returncode == 2 and "no job 'no-such-job'" in unknown.stderr


def test_stats_and_analysis(cli: InProcessCli, two_ways: MapReduceRepo) -> None:
    mr = two_ways
    job = mr.job_id()
    stats = as_json(cli, mr, "dlq", "stats", "--job", job)
    assert (stats["total_items"], stats["eligible_for_reprocess"]) == (3, 3)
    assert stats["requiring_manual_review"] == 0
    assert sorted(stats["error_categories"].values()) == [1, 2]
    analysis = as_json(cli, mr, "dlq", "analyze", "--job", job)
    big, small = analysis["pattern_groups"]
    assert (big["count"], sorted(big["sample_items"])) == (2, ["item_0", "item_2"])
    assert big["signature"].startswith("CommandFailed { exit_code: 3 }::")
    assert "/tmp" not in big["signature"]
    assert (small["count"], small["sample_items"]) == (1, ["item_3"])
    assert analysis["error_distribution"] == {"CommandFailed": 3}
    [[hour, count]] = analysis["temporal_distribution"]
    assert count == 3 and hour.endswith(":00:00Z")
    recorded = [e for e in mr.events() if e["event_type"] == "d_l_q_analysis_generated"]
    assert recorded and recorded[-1]["patterns"][0]["count"] == 2
    text = cli.in_repo(mr, "dlq", "analyze")
    assert "2 x CommandFailed { exit_code: 3 }::" in text.stdout
    assert "Last attempts per hour:" in text.stdout


def test_export_writes_prodigys_shape(
    cli: InProcessCli, two_ways: MapReduceRepo, tmp_path: Path
) -> None:
    out = tmp_path / "dlq.json"
    done = cli.in_repo(two_ways, "dlq", "export", str(out), "--job", two_ways.job_id())
    assert done.returncode == 0, done.stderr
    exported = json.loads(out.read_text())
    assert len(exported) == 3
    assert set(exported[0]) == {
        "item_id", "item_data", "first_attempt", "last_attempt", "failure_count",
        "failure_history", "error_signature", "worktree_artifacts", "reprocess_eligible",
        "manual_review_required", "job_id",
    }  # fmt: skip
    assert {e["item_data"]["id"] for e in exported} == {1, 3, 4}


def test_purge_and_clear_ask_first_and_record_removals(cli: InProcessCli, tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(TWO_WAYS_ITEMS)
    assert mr.run(TWO_WAYS).returncode == 0
    first = mr.job_id()
    assert mr.run(TWO_WAYS).returncode == 0  # item 2 fails too now: out/2.txt is on master
    second = mr.job_id()
    assert len(mr.dlq()) == 7
    ambiguous = cli.in_repo(mr, "dlq", "show", "item_0")
    assert ambiguous.returncode == 2 and "is in the DLQ of 2 jobs" in ambiguous.stderr
    refused = cli.in_repo(mr, "dlq", "purge", "--older-than", "0s")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    recent = cli.in_repo(mr, "dlq", "purge", "--older-than", "1h", "--yes")
    assert recent.returncode == 0 and "No failed items" in recent.stdout
    assert len(mr.dlq()) == 7
    purged = cli.in_repo(mr, "dlq", "purge", "--older-than", "0s", "--job", first, "--yes")
    assert purged.returncode == 0, purged.stderr
    assert "Removed 3 item(s)" in purged.stdout
    assert {e["job_id"] for e in mr.dlq()} == {second}
    removed = [e for e in mr.events() if e["event_type"] == "d_l_q_item_removed"]
    assert sorted(e["item_id"] for e in removed) == ["item_0", "item_2", "item_3"]
    assert {(e["job_id"], e["reason"]) for e in removed} == {(first, "purged")}
    assert cli.in_repo(mr, "dlq", "clear", "--job", second).returncode == 2
    cleared = cli.in_repo(mr, "dlq", "clear", "--job", second, "--yes")
    assert cleared.returncode == 0 and "Removed 4 item(s)" in cleared.stdout
    assert mr.dlq() == []
    assert cli.in_repo(mr, "dlq", "clear").returncode == 2  # --job is required


def test_a_full_dlq_archives_its_oldest_items_and_says_so(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    items = [{"id": n, "pre": f"fake-fail 3 broken {n}"} for n in range(1, 4)]
    mr.items(items)
    workflow = TWO_WAYS.replace("max_parallel: 4", "max_parallel: 1")
    done = mr.run(workflow, env={"PRODIGY_DLQ_CAPACITY": "2"})
    assert done.returncode == 0, done.stderr
    assert "is full (2 items, config dlq.capacity)" in done.stdout + done.stderr
    assert sorted(e["item_id"] for e in mr.dlq()) == ["item_1", "item_2"]
    [archive] = (mr.home / ".prodigy" / "dlq-archive").iterdir()
    [kept] = [json.loads(line) for line in archive.read_text().splitlines()]
    assert (kept["item_id"], kept["item_data"], kept["job_id"]) == ("item_0", items[0], mr.job_id())
    [evicted] = [e for e in mr.events() if e["event_type"] == "d_l_q_items_evicted"]
    assert (evicted["count"], evicted["item_ids"]) == (1, ["item_0"])
    assert evicted["archive"] == str(archive)


def test_hostile_item_ids_are_data(cli: InProcessCli, tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(M07_ITEMS)
    assert mr.run(M07).returncode == 0
    job = mr.job_id()
    hostile = ["../../x", "a/b/../../../y", "line\nbreak", "/abs/z"]
    with open_store(mr.home / ".prodigy") as store:
        for item_id in hostile:
            store.dlq.add_failure(
                job_id=job, item_id=item_id, item_data={"id": item_id},
                failure={"attempt_number": 1, "error_type": "Unknown", "error_message": "x"},
                error_signature="Unknown::x", reprocess_eligible=True,
            )  # fmt: skip
    before = _files(tmp_path)
    listing = cli.in_repo(mr, "dlq", "list", "--job", job)
    assert listing.returncode == 0
    assert "line\\nbreak" in listing.stdout and "line\nbreak" not in listing.stdout
    for item_id in hostile:
        shown = as_json(cli, mr, "dlq", "show", item_id, "--job", job)
        assert shown["item_id"] == item_id
    out = tmp_path / "export.json"
    assert cli.in_repo(mr, "dlq", "export", str(out)).returncode == 0
    assert {e["item_id"] for e in json.loads(out.read_text())} >= set(hostile)
    retried = mr.prodigy("dlq", "retry", job, "--item", "../../x", "-y")
    assert retried.returncode == 0 and "not a work item of the job" in retried.stderr
    assert cli.in_repo(mr, "dlq", "clear", "--job", job, "--yes").returncode == 0
    created = _files(tmp_path) - before - {out}
    home = (mr.home / ".prodigy").resolve()
    assert all(p.resolve().is_relative_to(home) for p in created), created
    assert not (tmp_path.parent / "x").exists() and not (tmp_path / "x").exists()


def _files(root: Path) -> set[Path]:
    return {Path(d) / f for d, _, files in os.walk(root) for f in files}


def test_capacity_counts_items_not_failures(tmp_path: Path) -> None:
    """A repeat failure of an item already in a full DLQ evicts nothing; a new item does."""
    home = tmp_path / "state"
    notes: list[Note] = []
    with open_store(home) as store:
        events = JobEvents(store, "job-a", "session-a")
        for item_id in ("old", "new"):
            make_room(store, events, _Notes(notes), item_id=item_id, capacity=2)
            store.dlq.add_failure(
                job_id="job-a", item_id=item_id, item_data={}, failure={"n": 1},
                error_signature="Unknown::x",
            )  # fmt: skip
        assert make_room(store, events, _Notes(notes), item_id="old", capacity=2) == []
        assert notes == []
        evicted = make_room(store, events, _Notes(notes), item_id="third", capacity=2)
        assert [r.item_id for r in evicted] == ["old"]
        assert [r.item_id for r in store.dlq.find(job_id="job-a")] == ["new"]
        [event] = store.events.query(event_types=["d_l_q_items_evicted"])
    archived = (home / "dlq-archive" / "job-a.jsonl").read_text().splitlines()
    assert [json.loads(line)["item_id"] for line in archived] == ["old"]
    assert event.payload["archive"] == str(home / "dlq-archive" / "job-a.jsonl")
    assert [n.level for n in notes] == ["warn"]


class _Notes:
    def __init__(self, into: list[Note]) -> None:
        self.into = into

    def emit(self, event: object) -> None:
        assert isinstance(event, Note)
        self.into.append(event)
