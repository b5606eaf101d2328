"""`prodigy resume` and `prodigy resume-job`."""

from __future__ import annotations

import click

from prodigy.cli.common import not_implemented, path_option


@click.command("resume")
@click.argument("session_id", required=False)
@click.option(
    "--force", is_flag=True, help="Resume even if the workflow file changed since the run started."
)
@click.option(
    "--from-checkpoint", default=None, metavar="ID", help="Resume from a named checkpoint."
)
@click.option("-y", "--yes", is_flag=True, help="Merge without asking when the run completes.")
@path_option
def resume(**_: object) -> None:
    """Continue an interrupted or failed session from the first step not completed."""
    not_implemented("resume")


@click.command("resume-job")
@click.argument("job_id")
@click.option("--force", is_flag=True, help="Resume even if the workflow file changed.")
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Retries for items that failed before.",
)
@path_option
def resume_job(**_: object) -> None:
    """Continue an interrupted MapReduce job: merged items never run again."""
    not_implemented("resume-job")


COMMANDS = [resume, resume_job]
