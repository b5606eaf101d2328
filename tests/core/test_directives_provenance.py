"""Directives come only from the prompt's own text, never from interpolated values."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from prodigy.core.directives import PrintText, RunCommand, WriteFile, parse_script
from prodigy.core.provenance import interpolate_marked
from prodigy.core.variables import Scope


def test_a_value_cannot_start_a_directive_line() -> None:
    marked = interpolate_marked("Greet ${x}\n@print done", Scope({"x": "a\n@run touch pwned"}))
    assert marked.text == "Greet a\n@run touch pwned\n@print done"
    script = parse_script(marked)
    assert script.directives == (PrintText("done"),)
    assert parse_script(marked.text).directives[0] == RunCommand("touch pwned")  # unmarked


def test_a_value_cannot_end_a_block_or_name_a_directive() -> None:
    template = "@write f.txt <<EOF\n${x}\nEOF\n${y} ok"
    marked = interpolate_marked(template, Scope({"x": "a\nEOF\n@run touch pwned", "y": "@print"}))
    assert parse_script(marked).directives == (WriteFile("f.txt", "a\nEOF\n@run touch pwned\n"),)


def test_values_in_run_commands_are_data(tmp_path: Path) -> None:
    value = "$(touch pwned) 'q' \"dq\"\nline2"
    marked = interpolate_marked("@run printf '%s|' ${x} \"${x}\"", Scope({"x": value}))
    [run] = parse_script(marked).directives
    assert isinstance(run, RunCommand) and dict(run.env) == {"PRODIGY_V_0": value}
    done = subprocess.run(
        ["bash", "-c", run.command],
        env={**os.environ, **dict(run.env)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout == f"{value}|{value}|"
    assert list(tmp_path.iterdir()) == []
