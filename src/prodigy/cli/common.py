"""Shared pieces of the click commands."""

from __future__ import annotations

from typing import NoReturn

import click

from prodigy.core.errors import NotImplementedYetError


def not_implemented(command: str) -> NoReturn:
    """Fail loudly for a command a later release builds (exit 2), never exit 0 doing nothing."""
    raise NotImplementedYetError(f"prodigy {command}")


def verbosity(ctx: click.Context) -> int:
    """The -v count given before or after the subcommand."""
    root = ctx.find_root()
    return int((root.obj or {}).get("verbose", 0)) + int(ctx.params.get("verbose", 0) or 0)


path_option = click.option(
    "-p",
    "--path",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Repository directory to work in (default: the current directory).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def answer_ctrl_c() -> None:
    """Make Ctrl-C (SIGINT) interrupt this command even if our parent ignored SIGINT.

    A process started with SIGINT ignored (background jobs of some shells, test runners)
    would otherwise never stop `events follow`, `logs --tail` or the model server.
    """
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
