"""`prodigy logs`."""

from __future__ import annotations

import click

from prodigy.cli.common import not_implemented


@click.command("logs")
@click.argument("session_id", required=False)
@click.option("--latest", is_flag=True, help="The newest log.")
@click.option("--tail", is_flag=True, help="Follow the log as it grows.")
@click.option("--summary", is_flag=True, help="Messages, tool calls, tokens and cost.")
def logs(**_: object) -> None:
    """Show the Claude logs prodigy saved for a session's steps and items."""
    not_implemented("logs")


COMMANDS = [logs]
