"""`prodigy init`."""

from __future__ import annotations

import click

from prodigy.cli.common import not_implemented, path_option


@click.command("init")
@click.option("-f", "--force", is_flag=True, help="Overwrite existing command files.")
@click.option("-c", "--commands", default=None, metavar="A,B", help="Only these commands.")
@path_option
def init(**_: object) -> None:
    """Install prodigy's Claude commands into .claude/commands/."""
    not_implemented("init")


COMMANDS = [init]
