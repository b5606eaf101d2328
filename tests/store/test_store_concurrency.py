"""Several connections and processes on one database: WAL readers, busy timeout, writers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prodigy.core.errors import StoreError
from prodigy.store import Store, open_store

_WRITER = """
import sys
from pathlib import Path
from prodigy.store import open_store
with open_store(Path(sys.argv[1])) as store:
    for n in range(int(sys.argv[3])):
        store.events.append("agent_progress", {"n": n}, job_id=sys.argv[2])
"""


def test_a_reader_sees_committed_data_while_a_writer_holds_a_transaction(
    store: Store, home: Path
) -> None:
    store.events.append("job_started", {}, job_id="j")
    with open_store(home) as reader:
        with store.transaction():
            store.events.append("agent_started", {}, job_id="j")
            # WAL: the reader is not blocked and sees only what was committed
            assert [e.event_type for e in reader.events.query(job_id="j")] == ["job_started"]
        assert len(reader.events.query(job_id="j")) == 2


def test_a_second_writer_waits_then_reports_busy_with_the_fix(store: Store, home: Path) -> None:
    with open_store(home, busy_timeout_s=0.2) as other:
        with store.transaction():
            store.events.append("job_started", {}, job_id="j")
            with pytest.raises(StoreError, match="busy") as caught:
                other.events.append("agent_started", {}, job_id="j")
            assert str(home / "prodigy.db") in str(caught.value)
        # once the first writer committed, the second one gets through
        other.events.append("agent_started", {}, job_id="j")
    assert [e.event_type for e in store.events.query(job_id="j")] == [
        "job_started", "agent_started",
    ]  # fmt: skip


def test_two_processes_append_concurrently_without_losing_events(home: Path) -> None:
    open_store(home).close()
    count = 60
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(home), job, str(count)])
        for job in ("job-a", "job-b")
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    with open_store(home) as store:
        for job in ("job-a", "job-b"):
            assert [e.payload["n"] for e in store.events.query(job_id=job)] == list(range(count))
        assert len({e.seq for e in store.events.query()}) == 2 * count
