"""T25-T27: a full disk, an I/O error, a corrupt database and a SIGKILL mid-write.

Faults come from `PRODIGY_FAULT=ENOSPC|EIO@commit:<n>` (src/prodigy/store/faults.py), which
fails the n-th transaction commit of the process the way SQLite reports a full disk. As in
SQLite's ioerr tests, the loop raises n until a run completes with no fault hit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import sqlite3
from pathlib import Path

import pytest
from tests.support.cli import CliResult
from tests.support.reliability import check_job
from tests.support.scenario import Scenario, open_scenario, wait_for

SEQ = """
- shell: echo one >> "$HOME/steps.txt"
- shell: echo two >> "$HOME/steps.txt"
- shell: echo three >> "$HOME/steps.txt"
"""


def _rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as c:
        return [tuple(r) for r in c.execute(sql, params).fetchall()]


def _integrity(db: Path) -> list[object]:
    return [r[0] for r in _rows(db, "PRAGMA integrity_check")]


def _sessions(db: Path) -> dict[str, tuple[object, ...]]:
    tables = (
        _rows(db, "SELECT name FROM sqlite_master WHERE name = 'sessions'") if db.exists() else []
    )
    if not tables:  # no database yet, or the fault hit its first migration
        return {}
    return {str(r[0]): r for r in _rows(db, "SELECT * FROM sessions")}


def _refused_with_fault(run: CliResult, db: Path, error: str) -> None:
    assert run.code == 1, run
    assert f"Error: {db}: could not write: {error}" in run.stderr, run
    assert "Traceback" not in run.output, run


@pytest.mark.parametrize(
    ("kind", "error", "first", "stride"),
    [
        ("ENOSPC", "database or disk is full", 1, 3),
        ("EIO", "disk I/O error", 2, 3),
        pytest.param("ENOSPC", "database or disk is full", 1, 1, marks=pytest.mark.slow),
        pytest.param("EIO", "disk I/O error", 1, 1, marks=pytest.mark.slow),
    ],
)
def test_t25_a_failed_commit_keeps_earlier_state_and_resume_finishes(
    tmp_path: Path, kind: str, error: str, first: int, stride: int
) -> None:
    """Commit n of a sequential run fails, for n = first, first + stride, ... until none does."""
    with open_scenario(tmp_path) as s:
        wf = s.workflow("seq", SEQ)
        faulted, n = 0, first
        while True:
            before = _sessions(s.db)
            run = _run_with(s, wf, f"{kind}@commit:{n}")
            if run.code == 0:
                break
            faulted += 1
            _refused_with_fault(run, s.db, error)
            assert _integrity(s.db) == ["ok"]
            after = _sessions(s.db)
            # Sessions finished before this run are byte-for-byte the rows they were.
            assert {k: after[k] for k in before} == before, f"n={n}: earlier state changed"
            new = [sid for sid in after if sid not in before]
            for sid in new:
                resumed = s.prodigy("resume", sid, "-y")
                assert resumed.code == 0, f"n={n}: resume after the fault cleared\n{resumed}"
                assert s.session_status(sid) == "completed"
            n += stride
            assert n < 200, "the fault never stopped hitting: is the commit counter broken?"
        assert faulted >= 3, f"only {faulted} commits failed; is the hook reached?"


def _run_with(s: Scenario, wf: Path, fault: str) -> CliResult:
    s.env["PRODIGY_FAULT"] = fault
    try:
        return s.run(wf)
    finally:
        del s.env["PRODIGY_FAULT"]


def test_t25_a_bad_fault_spec_is_a_usage_error(tmp_path: Path) -> None:
    with open_scenario(tmp_path) as s:
        run = _run_with(s, s.workflow("seq", SEQ), "ENOSPC@fsync")
        assert run.code == 2, run
        assert "PRODIGY_FAULT='ENOSPC@fsync' is not a fault" in run.stderr


MAP_WF = """
name: faults
mode: mapreduce
map:
  input: items.json
  max_parallel: 1
  agent_template:
    - shell: test "${item.ok}" = yes && echo ${item.n} > out-${item.n}.txt
    - shell: git add -A && git commit -qm "item ${item.n}"
"""


def _map_scenario(s: Scenario) -> Path:
    items = [{"n": 1, "ok": "yes"}, {"n": 2, "ok": "no"}, {"n": 3, "ok": "yes"}]
    (s.repo / "items.json").write_text(json.dumps(items))
    s.git("add", "items.json")
    s.git("commit", "-qm", "items")
    return s.workflow("map", MAP_WF)


def _item_states(db: Path) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in _rows(db, "SELECT item_id, state FROM items")}


def _dlq_errors(db: Path) -> dict[str, str]:
    rows = _rows(db, "SELECT item_id, failure_history FROM dlq")
    return {str(r[0]): str(r[1]) for r in rows}


@pytest.mark.parametrize("n", [8, 14, 20, 26, 32])
def test_t25_a_failed_item_is_never_dropped_by_a_fault(tmp_path: Path, n: int) -> None:
    """A fault in the map phase fails the run; the failing item is in the DLQ or still open."""
    with open_scenario(tmp_path) as s:
        wf = _map_scenario(s)
        run = _run_with(s, wf, f"ENOSPC@commit:{n}")
        assert _integrity(s.db) == ["ok"]
        states = _item_states(s.db)
        dlq = _dlq_errors(s.db)
        if run.code != 0:
            _refused_with_fault(run, s.db, "database or disk is full")
        else:
            # The fault hit a write made for one item's agent: that item failed with the
            # cause (path and error) and waits in the DLQ for `dlq retry`.
            assert set(states) == {"item_0", "item_1", "item_2"}, run
            assert "item_1" in dlq
            hit = {i: e for i, e in dlq.items() if "database or disk is full" in e}
            assert len(hit) <= 1
            for error in hit.values():
                assert f"{s.db}: could not write: database or disk is full" in error
            assert set(dlq) == {"item_1", *hit}
        # No loss: a dead-lettered item is in the DLQ; the DLQ never holds a landed item.
        assert {i for i, st in states.items() if st == "dead_lettered"} <= set(dlq)
        assert not set(dlq) & {i for i, st in states.items() if st == "merged"}
        if run.code != 0 and s.session_ids():
            # the fault has cleared: resume finishes the job, every item landed once or in the DLQ
            resumed = s.prodigy("resume", s.session_ids()[0], "-y")
            assert resumed.code == 0, resumed
            assert _item_states(s.db) == {
                "item_0": "merged",
                "item_1": "dead_lettered",
                "item_2": "merged",
            }
        if s.session_ids() and _rows(s.db, "SELECT id FROM jobs"):
            job = str(_rows(s.db, "SELECT id FROM jobs")[0][0])
            check_job(s.repo, s.home / ".prodigy", job)


CORRUPTIONS = [
    "truncate-1",
    "truncate-half",
    "truncate-minus-1",
    "flip-page-type",
    "json-object",
    "json-array",
    "invalid-utf8",
    "newer-schema",
    "directory",
    "symlink-outside",
]


@pytest.fixture(scope="module")
def db_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real state database after one completed run (built once for all variants)."""
    with open_scenario(tmp_path_factory.mktemp("db")) as s:
        done = s.run(s.workflow("seq", SEQ))
        assert done.code == 0, done
        assert not s.db.with_name("prodigy.db-wal").exists(), "the WAL outlived the process"
        return s.db.read_bytes()


def _with_db(s: Scenario, data: bytes) -> None:
    s.db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    s.db.write_bytes(data)


def _corrupt(db: Path, data: bytes, how: str, outside: Path) -> None:
    page = int.from_bytes(data[16:18], "big") or 65536
    if how == "truncate-1":
        db.write_bytes(data[:1])
    elif how == "truncate-half":
        db.write_bytes(data[: len(data) // 2])
    elif how == "truncate-minus-1":
        db.write_bytes(data[:-1])
    elif how == "flip-page-type":  # the b-tree type byte of page 2: not a valid page kind
        db.write_bytes(data[:page] + bytes([data[page] ^ 0xFF]) + data[page + 1 :])
    elif how == "json-object":
        db.write_text("{}")
    elif how == "json-array":
        db.write_text("[1, 2]")
    elif how == "invalid-utf8":
        db.write_bytes(b"\xff\xfe\xfa" * 100)
    elif how == "newer-schema":
        with contextlib.closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA user_version = 999")
    elif how == "directory":
        db.unlink()
        db.mkdir()
    elif how == "symlink-outside":
        outside.write_bytes(b"not a database, and not prodigy's\n")
        db.unlink()
        db.symlink_to(outside)


def _merged_count(db: Path) -> int:
    try:
        return int(str(_rows(db, "SELECT count(*) FROM items WHERE state = 'merged'")[0][0]))
    except sqlite3.Error:  # not created or not migrated yet
        return 0


def _snapshot(path: Path) -> str:
    if path.is_dir() and not path.is_symlink():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_t26_a_corrupt_database_is_refused_and_kept(
    tmp_path: Path, db_bytes: bytes, how: str
) -> None:
    with open_scenario(tmp_path) as s:
        _with_db(s, db_bytes)
        outside = tmp_path / "outside.txt"
        _corrupt(s.db, db_bytes, how, outside)
        kept = _snapshot(s.db)
        commands = [("sessions", "ls")]
        if how in ("flip-page-type", "truncate-half"):  # also the command that would write
            commands.append(("run", str(s.workflow("seq", SEQ)), "-y"))
        for args in commands:
            run = s.prodigy(*args)
            assert run.code == 1, f"{how}: prodigy {args[0]}\n{run}"
            assert f"Error: {s.db}" in run.stderr, f"{how}: the message names the file\n{run}"
            assert "Traceback" not in run.output
            hint = "newer than this prodigy" if how == "newer-schema" else "move it aside"
            assert hint in run.stderr, f"{how}: the message gives the fix\n{run}"
            assert _snapshot(s.db) == kept, f"{how}: the refused file was modified"
        assert not s.db.with_name("prodigy.db-wal").exists()
        if how == "symlink-outside":
            assert outside.read_bytes() == b"not a database, and not prodigy's\n"


def test_t26_an_empty_database_file_counts_as_a_new_database(tmp_path: Path) -> None:
    """Documented: a 0-byte prodigy.db holds no state to keep, so it is initialised."""
    with open_scenario(tmp_path) as s:
        _with_db(s, b"")
        run = s.prodigy("sessions", "ls")
        assert run.code == 0, run
        assert s.session_ids() == []


HEAVY = """
name: heavy
mode: mapreduce
map:
  input: items.json
  max_parallel: 4
  agent_template:
    - shell: echo ${item.n} > out-${item.n}.txt && git add -A && git commit -qm "item ${item.n}"
"""


@pytest.mark.parametrize("landed", [2, 6])
def test_t27_sigkill_while_events_stream_leaves_a_consistent_store(
    tmp_path: Path, landed: int
) -> None:
    with open_scenario(tmp_path) as s:
        (s.repo / "items.json").write_text(json.dumps([{"n": i} for i in range(30)]))
        s.git("add", "items.json")
        s.git("commit", "-qm", "items")
        proc = s.start("run", s.workflow("heavy", HEAVY), "-y")
        wait_for(lambda: _merged_count(s.db) >= landed, timeout=60, step=0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        s.kill_leftovers()
        assert _integrity(s.db) == ["ok"]
        listed = s.prodigy("events", "ls", "--json")
        assert listed.code == 0, listed
        events = _rows(s.db, "SELECT event_type, payload FROM events")
        for _, payload in events:
            json.loads(str(payload))  # every stored event is whole JSON
        states = _item_states(s.db)
        completed = {json.loads(str(p)).get("item_id") for t, p in events if t == "agent_completed"}
        merged = {i for i, st in states.items() if st == "merged"}
        assert merged, "the kill came before any item landed; raise the delay"
        assert merged <= completed, "an item landed without its agent_completed event"
        done = {i for i, st in states.items() if st in ("succeeded", "merged")}
        # An item's state is committed just before its event: at most one item, the one the
        # kill interrupted, can be succeeded without its event yet.
        assert completed <= done
        assert len(done - completed) <= 1
