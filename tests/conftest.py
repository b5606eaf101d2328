"""Shared fixtures: every test gets its own PRODIGY_HOME and HOME, never the real ones."""

from __future__ import annotations

from pathlib import Path

import pytest


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
