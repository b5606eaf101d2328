"""Each store test gets a real database file under its own tmp_path and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prodigy.store import Store, open_store


class StepClock:
    """A clock that moves one second forward each time it is read, from a fixed start."""

    def __init__(self, start: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "prodigy-home"


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(home: Path, clock: StepClock) -> Iterator[Store]:
    with open_store(home, clock=clock) as opened:
        yield opened


@pytest.fixture
def session_id(store: Store) -> str:
    repo = store.repos.ensure("/work/demo")
    store.sessions.create(
        session_id="session-1", repo_key=repo.key, workflow_path="/work/demo/wf.yml",
        workflow_hash="sha256:abc",
    )  # fmt: skip
    return "session-1"


@pytest.fixture
def job_id(store: Store, session_id: str) -> str:
    store.jobs.create(job_id="job-1", session_id=session_id)
    return "job-1"
