"""Programs named without a directory are found on the child's PATH once, and behave as if
exec had searched for them: the same program, the same argv[0], the same errors."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from prodigy.runtime.process import ExecutableNotFoundError, ProcessRequest, run_process
from prodigy.runtime.program_path import resolve


def _tool(directory: Path, name: str, says: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(f"#!/bin/sh\necho {says}\n")
    script.chmod(0o755)
    return script


def _run(argv: tuple[str, ...], cwd: Path, path: str) -> str:
    request = ProcessRequest(argv, cwd, {"PATH": path})
    return asyncio.run(run_process(request)).stdout.strip()


def test_the_first_match_on_the_childs_path_runs_and_keeps_its_argv0(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _tool(second, "greet", "second")
    path = f"{first}:{second}:{os.environ['PATH']}"
    assert _run(("greet",), tmp_path, path) == "second"
    _tool(first, "greet", "first")  # found later, earlier on PATH: the cached one still runs
    assert _run(("greet",), tmp_path, path) == "second"
    (second / "greet").unlink()  # the cached program went away: looked up again
    assert _run(("greet",), tmp_path, path) == "first"
    # argv[0] is the name as given, not the path it was found at (multi-call binaries care)
    cmdline = _run(("sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline"), tmp_path, path)
    assert cmdline.split()[0] == "sh"


def test_a_relative_path_entry_is_searched_from_the_childs_directory(tmp_path: Path) -> None:
    _tool(tmp_path / "work" / "bin", "local-tool", "from-the-child-bin")
    path = f"bin:{os.environ['PATH']}"
    assert resolve("local-tool", {"PATH": path}) is None  # left to exec's own search
    assert _run(("local-tool",), tmp_path / "work", path) == "from-the-child-bin"


def test_a_missing_program_is_still_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExecutableNotFoundError, match="no-such-program-xyz"):
        _run(("no-such-program-xyz",), tmp_path, os.environ["PATH"])
    assert resolve("no-such-program-xyz", os.environ) is None
    assert resolve("./x", os.environ) is None  # a name with a directory is not searched
    assert resolve("git", os.environ) == shutil.which("git")
