"""`prodigy init` writes command files and never clobbers without --force."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodigy.cli.main import main


def test_init_installs_merge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-p", str(tmp_path)]) == 0
    merge = tmp_path / ".claude" / "commands" / "prodigy-merge-worktree.md"
    assert "$ARGUMENTS" in merge.read_text()
    assert "installed   prodigy-merge-worktree" in capsys.readouterr().out


def test_init_keeps_existing_without_force(tmp_path: Path) -> None:
    target = tmp_path / ".claude" / "commands" / "prodigy-merge-worktree.md"
    target.parent.mkdir(parents=True)
    target.write_text("mine")
    assert main(["init", "-p", str(tmp_path)]) == 0
    assert target.read_text() == "mine"
    assert main(["init", "-p", str(tmp_path), "--force"]) == 0
    assert target.read_text() != "mine"


def test_init_selects_commands(tmp_path: Path) -> None:
    assert main(["init", "-p", str(tmp_path), "-c", "prodigy-lint"]) == 0
    assert [p.name for p in (tmp_path / ".claude" / "commands").iterdir()] == ["prodigy-lint.md"]


def test_init_unknown_command_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "-p", str(tmp_path), "-c", "nope"]) == 2
    assert "unknown command(s): nope" in capsys.readouterr().err
