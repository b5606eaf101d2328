"""The command tree: every command explains itself, and unbuilt ones fail loudly."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest

import prodigy
import prodigy.cli
from prodigy.cli.main import main
from prodigy.cli.tree import COMMAND_MODULES, load_command


def _defined_commands() -> dict[str, str]:
    """Every top-level command any prodigy.cli module defines -> that module's name."""
    found = {}
    for info in pkgutil.iter_modules(prodigy.cli.__path__):
        module = importlib.import_module(f"prodigy.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = info.name
    return found


TOP = list(_defined_commands())


def test_the_lazy_table_names_every_defined_command_and_its_module() -> None:
    assert _defined_commands() == COMMAND_MODULES


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in TOP:
        assert f"  {name} " in out or f"  {name}\n" in out, name


def test_the_installed_command_lists_every_command_with_its_summary() -> None:
    # A separate process: nothing imported by other tests, as a user starts it.
    proc = subprocess.run(
        [sys.executable, "-m", "prodigy", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    listed = {
        line.split()[0]: line.split(maxsplit=1)[1:]
        for line in proc.stdout.split("Commands:")[1].splitlines()
        if line.startswith("  ") and line.strip()
    }
    assert set(TOP) <= set(listed)
    assert all(summary for summary in listed.values())


def _subcommand_paths() -> list[tuple[str, ...]]:
    paths = []
    for name in TOP:
        command = load_command(name)
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in command.list_commands(click.Context(command))]
    return paths


@pytest.mark.parametrize("path", _subcommand_paths(), ids=" ".join)
def test_each_subcommand_has_help(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*path, "--help"]) == 0
    assert f"Usage: prodigy {' '.join(path)}" in capsys.readouterr().out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nonesuch"]) == 2
    assert "No such command 'nonesuch'" in capsys.readouterr().err


@pytest.mark.parametrize("name", TOP)
def test_each_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    assert "Usage: prodigy" in capsys.readouterr().out


def test_python_dash_m_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prodigy", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout == f"prodigy, version {prodigy.__version__}\n"


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flags_print_the_version(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([flag]) == 0
    assert capsys.readouterr().out == f"prodigy, version {prodigy.__version__}\n"


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "Missing argument" in capsys.readouterr().err
