"""`prodigy dlq ...`: the dead letter queue of failed work items."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented


@click.group("dlq")
def dlq() -> None:
    """Inspect, analyse and retry work items that failed."""


@dlq.command("list")
@click.option("--job-id", default=None)
@click.option("--eligible", is_flag=True, help="Only items eligible for reprocessing.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
def list_(**_: object) -> None:
    """List failed items, newest failure first."""
    not_implemented("dlq list")


@dlq.command("inspect")
@click.argument("item_id")
@click.option("--job-id", default=None)
@json_option
def inspect(**_: object) -> None:
    """Show one failed item with its whole failure history."""
    not_implemented("dlq inspect")


dlq.add_command(inspect, "show")


@dlq.command("analyze")
@click.option("--job-id", default=None)
@click.option("--export", "export_path", default=None, metavar="PATH")
@json_option
def analyze(**_: object) -> None:
    """Group failures by signature and error type."""
    not_implemented("dlq analyze")


@dlq.command("export")
@click.argument("output")
@click.option("--job-id", default=None)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "jsonl"]), default="json", show_default=True
)
def export(**_: object) -> None:
    """Write failed items to OUTPUT in prodigy's documented shape."""
    not_implemented("dlq export")


@dlq.command("purge")
@click.option("--older-than-days", type=click.IntRange(min=0), required=True)
@click.option("--job-id", default=None)
@click.option("-y", "--yes", is_flag=True)
def purge(**_: object) -> None:
    """Remove items whose last failure is older than N days."""
    not_implemented("dlq purge")


@dlq.command("retry")
@click.argument("job_id")
@click.option("--filter", "filter_", default=None, help="Expression selecting items to retry.")
@click.option("--max-retries", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--parallel", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--force", is_flag=True, help="Also retry items not eligible for reprocessing.")
@click.option("--dry-run", is_flag=True)
def retry(**_: object) -> None:
    """Re-run the eligible failed items of a job."""
    not_implemented("dlq retry")


@dlq.command("stats")
@click.option("--job-id", "--workflow-id", "job_id", default=None)
@json_option
def stats(**_: object) -> None:
    """Counts of failed items per job and signature."""
    not_implemented("dlq stats")


@dlq.command("clear")
@click.argument("job_id")
@click.option("-y", "--yes", is_flag=True)
def clear(**_: object) -> None:
    """Remove every item of a job from the dead letter queue."""
    not_implemented("dlq clear")


COMMANDS = [dlq]
