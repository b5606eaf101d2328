"""`prodigy demo`: the README's first command works offline and shows every phase."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from prodigy.cli.main import main


def test_demo_fixes_issues_in_parallel_and_dead_letters_the_hard_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo"
    assert main(["demo", str(target)]) == 0
    out = capsys.readouterr().out
    summary = (target / "SUMMARY.md").read_text()
    assert "fixed: 3 of 4, failed: 1" in summary
    for name in ("greet", "mathx", "text"):
        assert "FIXED:" in (target / "src" / f"{name}.py").read_text()
    assert "ISSUE(hard)" in (target / "src" / "dates.py").read_text()
    log = subprocess.run(
        ["git", "log", "--format=%s", "main"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert log.count("fix: resolve the issue") == 3
    assert "prodigy dlq list" in out
    assert main(["dlq", "list", "--json"]) == 0
    assert "item_0" in capsys.readouterr().out


def test_demo_refuses_a_non_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", str(tmp_path)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"
