"""`prodigy events ...`."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented


@click.group("events")
def events() -> None:
    """Read the event log of MapReduce jobs and sessions."""


@events.command("ls")
@click.option("--job-id", default=None)
@click.option("--event-type", default=None)
@click.option("--agent-id", default=None)
@click.option("--since", type=int, default=None, metavar="MINUTES")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@json_option
def ls(**_: object) -> None:
    """List events, newest last."""
    not_implemented("events ls")


events.add_command(ls, "list")


@events.command("stats")
@click.option("--job-id", default=None)
@click.option("--group-by", default="event_type", show_default=True)
@json_option
def stats(**_: object) -> None:
    """Count events by type, job or agent."""
    not_implemented("events stats")


@events.command("search")
@click.argument("pattern")
@click.option("--job-id", default=None)
@click.option("--fields", default=None, help="Comma-separated fields to search.")
def search(**_: object) -> None:
    """Find events whose fields match PATTERN."""
    not_implemented("events search")


@events.command("follow")
@click.option("--job-id", default=None)
@click.option("--event-type", default=None)
def follow(**_: object) -> None:
    """Print events as they are written, until Ctrl-C."""
    not_implemented("events follow")


@events.command("clean")
@click.option("--older-than", default=None, metavar="DURATION")
@click.option("--max-events", type=int, default=None)
@click.option("--job-id", default=None)
@click.option("--all-jobs", is_flag=True)
@click.option("--archive", is_flag=True)
@click.option("--archive-path", default=None)
@click.option("--dry-run", is_flag=True)
def clean(**_: object) -> None:
    """Remove old events, optionally archiving them first."""
    not_implemented("events clean")


@events.command("export")
@click.option("--job-id", default=None)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "jsonl"]), default="json", show_default=True
)
@click.option("--output", default=None, help="File to write (default: standard output).")
def export(**_: object) -> None:
    """Export events in prodigy's documented record format."""
    not_implemented("events export")


COMMANDS = [events]
