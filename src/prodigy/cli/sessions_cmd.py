"""`prodigy sessions ...`."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented


@click.group("sessions")
def sessions() -> None:
    """Inspect and clean up sessions."""


@sessions.command("ls")
@json_option
@click.option("--all", "all_", is_flag=True, help="Include completed sessions.")
def ls(**_: object) -> None:
    """List sessions, resumable ones first."""
    not_implemented("sessions ls")


sessions.add_command(ls, "list")


@sessions.command("show")
@click.argument("session_id")
@json_option
def show(**_: object) -> None:
    """Show one session: steps, status, tokens and cost."""
    not_implemented("sessions show")


@sessions.command("clean")
@click.option("--all", "all_", is_flag=True, help="Also remove sessions that could be resumed.")
@click.option("-f", "--force", is_flag=True, help="Do not ask.")
def clean(**_: object) -> None:
    """Remove finished sessions from the store."""
    not_implemented("sessions clean")


COMMANDS = [sessions]
