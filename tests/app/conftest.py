"""Fixtures of the app-layer tests: the real store under the test's own PRODIGY_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodigy.store import Store, open_store


@pytest.fixture
def store() -> Iterator[Store]:
    """The store `prodigy` itself would open for this test (tests/conftest.py's home)."""
    with open_store(Path(os.environ["PRODIGY_HOME"])) as opened:
        yield opened
