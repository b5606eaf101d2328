"""`prodigy events ...` on jobs produced by real runs with the fake `claude` (scenario M18)."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import PRODIGY, InProcessCli
from tests.support.conformance import M07, M07_ITEMS
from tests.support.mapreduce import MapReduceRepo

AGENT_EVENTS = {"agent_started", "agent_completed", "agent_failed"}


def records(cli: InProcessCli, mr: MapReduceRepo, *args: str) -> list[dict[str, Any]]:
    done = cli.in_repo(mr, "events", "ls", *args, "--json")
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


@pytest.fixture(scope="module")
def m07(tmp_path_factory: pytest.TempPathFactory) -> MapReduceRepo:
    """M07's job, finished (read only)."""
    mr = MapReduceRepo(tmp_path_factory.mktemp("m07"))
    mr.items(M07_ITEMS)
    done = mr.run(M07)
    assert done.returncode == 0, done.stderr
    return mr


def test_m18_event_records_of_one_job(cli: InProcessCli, m07: MapReduceRepo) -> None:
    job = m07.job_id()
    found = records(cli, m07, "--job-id", job)
    for record in found:
        assert set(record) >= {"id", "timestamp", "correlation_id", "event"}
        assert record["event"]["job_id"] == job
    events = [r["event"] for r in found]
    kinds = [e["event_type"] for e in events]
    [started] = [e for e in events if e["event_type"] == "map_phase_started"]
    assert started["total_items"] == 3
    assert kinds.count("agent_started") == 3
    completed = [e for e in events if e["event_type"] == "agent_completed"]
    assert len(completed) == 2
    assert all(len(e["commits"]) == 1 and len(e["commits"][0]) == 40 for e in completed)
    [failed] = [e for e in events if e["event_type"] == "agent_failed"]
    assert failed["failure_reason"] == {"CommandFailed": {"exit_code": 3}}
    [done] = [e for e in events if e["event_type"] == "map_phase_completed"]
    assert (done["successful"], done["failed"]) == (2, 1)
    map_done = kinds.index("map_phase_completed")
    assert kinds.index("reduce_phase_started") < kinds.index("reduce_phase_completed")
    assert map_done < kinds.index("reduce_phase_started")
    for index, event in enumerate(events):
        if event["event_type"] in AGENT_EVENTS:
            assert index < map_done and event["item_id"].startswith("item_")
        if event["event_type"] in ("agent_completed", "agent_failed"):
            starts = [e for e in events[:index] if e["event_type"] == "agent_started"]
            assert event["item_id"] in {e["item_id"] for e in starts}
    text = cli.in_repo(m07, "events", "ls", "--job", job).stdout.splitlines()
    assert len(text) == len(found)
    assert any("agent_failed" in line and "CommandFailed{exit_code:3}" in line for line in text)


def test_ls_filters(cli: InProcessCli, m07: MapReduceRepo) -> None:
    starts = records(cli, m07, "--type", "agent_started")
    assert [r["event"]["event_type"] for r in starts] == ["agent_started"] * 3
    newest = records(cli, m07, "--limit", "2")
    assert [r["id"] for r in newest] == [r["id"] for r in records(cli, m07)[-2:]]
    assert len(records(cli, m07, "--since", "1h")) == len(records(cli, m07))
    assert records(cli, m07, "--since", "2999-01-01") == []
    unknown = cli.in_repo(m07, "events", "ls", "--job", "nope")
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr


def test_search_and_stats(cli: InProcessCli, m07: MapReduceRepo) -> None:
    found = cli.in_repo(m07, "events", "search", "BOOM-2", "--json")
    kinds = {r["event"]["event_type"] for r in json.loads(found.stdout)}
    assert kinds == {"agent_failed", "d_l_q_item_added"}
    bad = cli.in_repo(m07, "events", "search", "(")
    assert bad.returncode == 2 and "not a regular expression" in bad.stderr
    stats = json.loads(cli.in_repo(m07, "events", "stats", "--job", m07.job_id(), "--json").stdout)
    assert (stats["agents_completed"], stats["agents_failed"]) == (2, 1)
    assert stats["success_rate"] == pytest.approx(200 / 3)
    # five claude calls by agents, 10 in / 5 out tokens and $0.0012 each (the fake's usage)
    assert (stats["input_tokens"], stats["output_tokens"]) == (50, 25)
    assert stats["cost_usd"] == pytest.approx(0.006)
    assert stats["average_agent_duration_secs"] > 0
    assert stats["by_type"]["agent_started"] == 3
    text = cli.in_repo(m07, "events", "stats").stdout
    assert "2 completed, 1 failed (66.7% success)" in text


def test_export_jsonl_and_json(cli: InProcessCli, m07: MapReduceRepo, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    done = cli.in_repo(m07, "events", "export", "--format", "jsonl", "--output", str(out))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == records(cli, m07)
    as_array = json.loads(cli.in_repo(m07, "events", "export", "--format", "json").stdout)
    assert as_array == lines


def test_clean_asks_then_deletes_old_events(cli: InProcessCli, tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(M07_ITEMS)
    assert mr.run(M07).returncode == 0
    total = len(records(cli, mr))
    refused = cli.in_repo(mr, "events", "clean", "--older-than", "0s")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    kept = cli.in_repo(mr, "events", "clean", "--older-than", "1d", "--yes")
    assert kept.returncode == 0 and len(records(cli, mr)) == total
    bad = cli.in_repo(mr, "events", "clean", "--older-than", "soon")
    assert bad.returncode == 2 and "--older-than 'soon'" in bad.stderr
    done = cli.in_repo(mr, "events", "clean", "--older-than", "0s", "--yes")
    assert done.returncode == 0 and f"Deleted {total} event(s)" in done.stdout
    assert records(cli, mr) == []


# Item 1 waits until the test has seen `follow` print an event of the running job.
FOLLOWED = """
name: followed
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - shell: '[ "${item.id}" != 1 ] || until [ -e "$HOME/release" ]; do sleep 0.05; done'
    - claude: "/fake-write-commit out/${item.id}.txt ok"
      commit_required: true
"""


def test_follow_prints_events_of_a_running_job_until_it_ends(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"id": 1}, {"id": 2}])
    (mr.root / "wf" / "wf.yml").write_text(FOLLOWED.lstrip("\n"))
    release = mr.home / "release"
    run = subprocess.Popen(
        [str(PRODIGY), "run", str(mr.root / "wf" / "wf.yml"), "-y"],
        cwd=mr.repo, env=mr.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        job = _wait_for_job(mr)
        follow = subprocess.Popen(
            [str(PRODIGY), "events", "follow", "--job", job],
            cwd=mr.repo, env=mr.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        lines: list[tuple[float, str]] = []
        reader = threading.Thread(target=_collect, args=(follow, lines), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60  # item 2's agent completes while item 1 waits
        while not any("agent_completed" in line for _, line in lines):
            assert time.monotonic() < deadline and follow.poll() is None, lines
            time.sleep(0.05)
        release.touch()
        assert run.wait(timeout=60) == 0
        run_ended = time.monotonic()
        assert follow.wait(timeout=60) == 0  # it stops by itself when the job ends
        reader.join(timeout=30)
    finally:
        release.touch()
        run.kill()
    kinds = [line.split()[2] for _, line in lines]
    assert kinds[-1] == "job_completed" and "agent_started" in kinds
    assert any(at < run_ended for at, line in lines if "agent_completed" in line)


def test_follow_without_a_job_runs_until_interrupted(m07: MapReduceRepo) -> None:
    follow = subprocess.Popen(
        [str(PRODIGY), "events", "follow"],
        cwd=m07.repo, env=m07.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert follow.stdout is not None
    first = follow.stdout.readline()  # the history is printed first: it is running now
    time.sleep(0.5)
    assert follow.poll() is None
    follow.send_signal(signal.SIGINT)
    assert follow.wait(timeout=60) == 130
    out = follow.stdout.read()  # not communicate(): it would skip what readline buffered
    assert "job_started" in first and "job_completed" in out


def _wait_for_job(mr: MapReduceRepo) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db = mr.home / ".prodigy" / "prodigy.db"
        with contextlib.suppress(sqlite3.OperationalError):  # not created yet
            rows = mr.query("SELECT id FROM jobs") if db.exists() else []
            if rows:
                return str(rows[0]["id"])
        time.sleep(0.05)
    raise AssertionError("the run never started its job")


def _collect(proc: subprocess.Popen[str], into: list[tuple[float, str]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        into.append((time.monotonic(), line.rstrip("\n")))
