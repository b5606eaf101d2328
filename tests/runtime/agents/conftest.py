"""Fixtures for agent tests: a real git repository and a child env with the fake claude."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.support.agent_replay import Replay
from tests.support.repos import install_fake_claude


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    install_fake_claude(path)
    return path


@pytest.fixture
def env(bin_dir: Path) -> dict[str, str]:
    """The complete child environment: ours (isolated HOME) with the fake claude first on PATH."""
    child = dict(os.environ)
    child["PATH"] = f"{bin_dir}{os.pathsep}{child.get('PATH', '')}"
    return child


@pytest.fixture
def replay(tmp_path: Path, env: dict[str, str]) -> Replay:
    return Replay(tmp_path, env)
