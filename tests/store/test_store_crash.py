"""Crashes: a committed transition survives SIGKILL; a failed migration leaves no half schema."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from prodigy.core.errors import StoreError
from prodigy.core.records import ItemState
from prodigy.store import open_store

_TRANSITIONS = """
import sys
from pathlib import Path
from prodigy.core.records import ItemState
from prodigy.store import open_store
store = open_store(Path(sys.argv[1]))
n = 0
while True:
    item = f"item-{n}"
    store.items.add("job", [(item, {"n": n})])
    store.items.transition("job", item, ItemState.RUNNING)
    print(item, flush=True)  # reported only after the transition committed
    n += 1
"""

_OPEN = "import sys; from pathlib import Path; from prodigy.store import open_store;" \
    " open_store(Path(sys.argv[1])).close()"  # fmt: skip


def test_every_reported_transition_survives_sigkill(home: Path) -> None:
    with open_store(home) as store:
        repo = store.repos.ensure("/r")
        store.sessions.create(session_id="s", repo_key=repo.key, workflow_path="w",
                              workflow_hash="h")  # fmt: skip
        store.jobs.create(job_id="job", session_id="s")
    child = subprocess.Popen(
        [sys.executable, "-c", _TRANSITIONS, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    reported = [child.stdout.readline().strip() for _ in range(25)]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with open_store(home) as store:
        running = {i.item_id for i in store.items.find("job", states=[ItemState.RUNNING])}
        pending = {i.item_id for i in store.items.find("job", states=[ItemState.PENDING])}
    assert set(reported) <= running
    # the item being worked on at the kill is either fully added or absent, never torn
    assert len(pending) <= 1
    conn = sqlite3.connect(home / "prodigy.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()


def test_a_failing_migration_rolls_back_completely(home: Path) -> None:
    home.mkdir()
    conn = sqlite3.connect(home / "prodigy.db")
    # a table in the way makes migration 1 fail part-way through
    conn.execute("CREATE TABLE jobs (unrelated TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="from version 0 to 1 failed") as caught:
        open_store(home)
    assert str(home / "prodigy.db") in str(caught.value)
    conn = sqlite3.connect(home / "prodigy.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    conn.close()
    assert tables == {"jobs"}


def test_processes_opening_a_new_home_at_once_all_succeed(home: Path) -> None:
    openers = [
        subprocess.Popen([sys.executable, "-c", _OPEN, str(home)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else b"") for p in openers]
    assert results == [(0, b"")] * 4
    with open_store(home) as store:
        assert store.events.query() == []
