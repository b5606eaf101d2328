"""Shared fixtures: every test gets its own PRODIGY_HOME and HOME, never the real ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import InProcessCli
from tests.support.mapreduce import MapReduceRepo
from tests.support.repos import make_repo
from tests.support.scenario import Scenario, open_scenario


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PRODIGY_HOME", str(home / ".prodigy"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "prodigy test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@prodigy.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "prodigy test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@prodigy.invalid")
    for var in ("PRODIGY_CLAUDE", "PRODIGY_AGENT", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return home


# The shared fixtures of tests/support/ (one definition each; a test module that needs another
# meaning for one of these names defines its own under that name).


@pytest.fixture
def sc(tmp_path: Path) -> Iterator[Scenario]:
    """A conformance scenario root (tests/support/scenario.py); kills its leftovers afterwards."""
    with open_scenario(tmp_path) as scenario:
        yield scenario


@pytest.fixture
def mr(tmp_path: Path) -> MapReduceRepo:
    """A MapReduce root: seeded repo, fake claude, workflows (tests/support/mapreduce.py)."""
    return MapReduceRepo(tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository on master with one commit adding README.md."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcessCli:
    """`prodigy` in this process (tests/support/cli.py)."""
    return InProcessCli(monkeypatch, capsys)
