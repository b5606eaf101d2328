"""A finished job with a dead-lettered item, made by the real CLI with the scripted agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dashboard import items, run_job
from tests.support.mapreduce import MapReduceRepo


def _finished(root: Path) -> tuple[MapReduceRepo, str]:
    mr = MapReduceRepo(root)
    mr.items(items())
    return mr, run_job(mr)


@pytest.fixture(scope="module")
def shared_job(tmp_path_factory: pytest.TempPathFactory) -> tuple[MapReduceRepo, str]:
    """For tests that only read: made once per module."""
    return _finished(tmp_path_factory.mktemp("shared"))


@pytest.fixture
def finished(tmp_path: Path) -> tuple[MapReduceRepo, str]:
    """For tests that change the store (retry, extra rows)."""
    return _finished(tmp_path)
