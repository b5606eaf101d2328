"""Fixtures of the reliability suite: a crash-test root per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.reliability import CrashRepo


@pytest.fixture
def cr(tmp_path: Path) -> CrashRepo:
    """A MapReduce root with crash runs, resume and invocation counts."""
    return CrashRepo(tmp_path)
