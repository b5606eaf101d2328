"""The command tree: every command explains itself, and unbuilt ones fail loudly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from prodigy.cli.main import main

TOP = [
    "run",
    "cook",
    "exec",
    "batch",
    "resume",
    "resume-job",
    "worktree",
    "sessions",
    "events",
    "dlq",
    "checkpoints",
    "logs",
    "init",
    "validate",
    "config",
]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in TOP:
        assert f"  {name} " in out or f"  {name}\n" in out, name


@pytest.mark.parametrize("name", TOP)
def test_each_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    assert "Usage: prodigy" in capsys.readouterr().out


def test_python_dash_m_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prodigy", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "prodigy" in proc.stdout


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "Missing argument" in capsys.readouterr().err
