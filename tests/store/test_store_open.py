"""Opening the database: creation, migration, and refusing corrupt or newer files untouched."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from prodigy.core.errors import StoreError
from prodigy.store import open_store
from prodigy.store.migrations import SCHEMA_VERSION


def _snapshot(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir())}


def test_a_new_home_gets_a_wal_database_at_the_current_schema(home: Path) -> None:
    with open_store(home) as store:
        assert store.path == home / "prodigy.db"
    conn = sqlite3.connect(home / "prodigy.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "checkpoints", "jobs", "items", "dlq", "events", "worktrees"} <= tables
    conn.close()
    assert stat.S_IMODE((home / "prodigy.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_an_empty_file_is_migrated_to_the_current_schema(home: Path) -> None:
    home.mkdir()
    (home / "prodigy.db").write_bytes(b"")
    with open_store(home) as store:
        store.repos.ensure("/src/app")
    with open_store(home) as store:
        assert [r.path for r in store.repos.all()] == ["/src/app"]


def test_reopening_keeps_the_data_and_the_version(home: Path) -> None:
    with open_store(home) as store:
        store.events.append("job_started", {"n": 1}, job_id="j")
    with open_store(home) as store:
        assert [e.payload for e in store.events.query(job_id="j")] == [{"n": 1}]
    conn = sqlite3.connect(home / "prodigy.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_garbage_bytes_are_refused_and_left_unchanged(home: Path) -> None:
    home.mkdir()
    garbage = bytes(range(256)) * 64
    (home / "prodigy.db").write_bytes(garbage)
    before = _snapshot(home)
    with pytest.raises(StoreError) as caught:
        open_store(home)
    message = str(caught.value)
    assert str(home / "prodigy.db") in message
    assert "not a SQLite database" in message
    assert "mv " in message  # tells the user what to do
    assert _snapshot(home) == before


def test_a_newer_schema_is_refused_and_left_unchanged(home: Path) -> None:
    home.mkdir()
    conn = sqlite3.connect(home / "prodigy.db")
    conn.execute("CREATE TABLE future (x)")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    before = _snapshot(home)
    with pytest.raises(StoreError) as caught:
        open_store(home)
    message = str(caught.value)
    assert "999" in message
    assert "newer" in message
    assert "upgrade prodigy" in message
    assert _snapshot(home) == before


def test_a_damaged_page_is_refused_and_left_unchanged(home: Path) -> None:
    with open_store(home) as store, store.transaction():
        for n in range(300):
            store.events.append("agent_progress", {"n": n, "pad": "x" * 200}, job_id="j")
    db = home / "prodigy.db"
    raw = bytearray(db.read_bytes())
    page = 4096
    assert len(raw) > 4 * page
    raw[2 * page : 4 * page] = b"\xa5" * (2 * page)  # header intact, b-tree pages destroyed
    db.write_bytes(bytes(raw))
    before = _snapshot(home)
    with pytest.raises(StoreError) as caught:
        open_store(home)
    assert str(db) in str(caught.value)
    assert _snapshot(home) == before


def test_a_page_damaged_after_a_passed_check_is_still_refused(home: Path) -> None:
    # the full check is skipped for a file unchanged since it passed; a change of content
    # moves its ctime even when its size and mtime are put back
    with open_store(home) as store, store.transaction():
        for n in range(300):
            store.events.append("agent_progress", {"n": n, "pad": "x" * 200}, job_id="j")
    db = home / "prodigy.db"
    for _ in range(2):  # checked once, then opened as unchanged
        with open_store(home) as store:
            assert len(store.events.query(job_id="j")) == 300
    assert (home / "prodigy.db.checked").exists()
    raw = bytearray(db.read_bytes())
    old = db.stat()
    raw[2 * 4096 : 4 * 4096] = b"\xa5" * (2 * 4096)
    db.write_bytes(bytes(raw))
    os.utime(db, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert db.stat().st_size == old.st_size and db.stat().st_mtime_ns == old.st_mtime_ns
    with pytest.raises(StoreError, match=r"integrity check failed|unreadable"):
        open_store(home)


def test_an_unusable_home_names_the_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="prodigy home directory"):
        open_store(blocker / "home")
