"""`prodigy checkpoints ...`."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented, path_option


@click.group("checkpoints")
def checkpoints() -> None:
    """Inspect the progress saved after every step."""


@checkpoints.command("list")
@click.option("--workflow-id", "--session-id", "session_id", default=None)
@json_option
@path_option
def list_(**_: object) -> None:
    """List sessions with saved progress."""
    not_implemented("checkpoints list")


checkpoints.add_command(list_, "ls")


@checkpoints.command("show")
@click.argument("session_id")
@json_option
@path_option
def show(**_: object) -> None:
    """Show the saved progress of one session."""
    not_implemented("checkpoints show")


@checkpoints.command("clean")
@click.option("--workflow-id", "--session-id", "session_id", default=None)
@click.option("--all", "all_", is_flag=True, help="All completed sessions.")
@click.option("-f", "--force", is_flag=True)
@path_option
def clean(**_: object) -> None:
    """Delete saved progress of completed sessions."""
    not_implemented("checkpoints clean")


@checkpoints.command("validate")
@click.argument("checkpoint_id")
@click.option("--repair", is_flag=True)
@path_option
def validate(**_: object) -> None:
    """Check that saved progress matches the worktree."""
    not_implemented("checkpoints validate")


@checkpoints.command("mapreduce")
@click.argument("job_id")
@click.option("--detailed", is_flag=True)
@path_option
def mapreduce(**_: object) -> None:
    """Show the saved state of a MapReduce job."""
    not_implemented("checkpoints mapreduce")


@checkpoints.command("delete")
@click.argument("checkpoint_id")
@click.option("-f", "--force", is_flag=True)
@path_option
def delete(**_: object) -> None:
    """Delete the saved progress of one session."""
    not_implemented("checkpoints delete")


COMMANDS = [checkpoints]
