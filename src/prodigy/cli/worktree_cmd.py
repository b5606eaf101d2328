"""`prodigy worktree ...`: list, merge and clean session worktrees."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented, path_option


@click.group("worktree")
def worktree() -> None:
    """Manage the git worktrees prodigy created for sessions and agents."""


@worktree.command("ls")
@json_option
@click.option("-d", "--detailed", is_flag=True, help="Show path, HEAD and status too.")
@path_option
def ls(**_: object) -> None:
    """List prodigy worktrees of this repository."""
    not_implemented("worktree ls")


worktree.add_command(ls, "list")


@worktree.command("merge")
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True, help="Merge every session worktree.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask.")
@path_option
def merge(**_: object) -> None:
    """Merge a kept session worktree into the branch it started from."""
    not_implemented("worktree merge")


@worktree.command("clean")
@click.argument("name", required=False)
@click.option("-a", "--all", "all_", is_flag=True, help="Remove every session worktree.")
@click.option("-f", "--force", is_flag=True, help="Remove even with uncommitted changes.")
@click.option("--merged-only", is_flag=True, help="Only worktrees whose branch is merged.")
@click.option("--mapreduce", is_flag=True, help="Only MapReduce agent worktrees.")
@click.option(
    "--older-than", default=None, metavar="DURATION", help="Only those older than e.g. 2h, 7d."
)
@click.option("--orphans", is_flag=True, help="Find and remove leftovers of crashed runs.")
@click.option("--job-id", default=None, help="Only the worktrees of this job.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed.")
@path_option
def clean(**_: object) -> None:
    """Remove worktrees and branches prodigy created."""
    not_implemented("worktree clean")


@worktree.command("clean-orphaned")
@click.argument("job_id", required=False)
@click.option("--dry-run", is_flag=True, help="Say what would be removed.")
@click.option("-f", "--force", is_flag=True, help="Do not ask.")
@path_option
def clean_orphaned(**_: object) -> None:
    """Remove agent worktrees and branches left behind by crashed jobs."""
    not_implemented("worktree clean-orphaned")


COMMANDS = [worktree]
