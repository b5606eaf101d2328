"""`prodigy init`."""

from __future__ import annotations

from pathlib import Path

import click

from prodigy.cli.common import path_option


@click.command("init")
@click.option("-f", "--force", is_flag=True, help="Overwrite command files that already exist.")
@click.option(
    "-c", "--commands", default=None, metavar="A,B", help="Only these commands (comma-separated)."
)
@path_option
def init(force: bool, commands: str | None, path: str | None) -> None:
    """Install prodigy's Claude commands into .claude/commands/.

    The default merge uses /prodigy-merge-worktree when `git merge` hits a conflict, so
    run this once in every repository you use prodigy in. Existing files are kept
    unless you pass --force.
    """
    from prodigy.app.init import install_commands

    names = [n.strip() for n in commands.split(",") if n.strip()] if commands else None
    target = Path(path or ".").expanduser().resolve()
    report = install_commands(target, names=names, force=force)
    click.echo(f"Installing prodigy commands into {report.directory}")
    for name in report.installed:
        click.echo(f"  installed   {name}")
    for name in report.overwritten:
        click.echo(f"  overwritten {name}")
    for name in report.skipped:
        click.echo(f"  kept        {name} (exists; use --force to overwrite)")


COMMANDS = [init]
