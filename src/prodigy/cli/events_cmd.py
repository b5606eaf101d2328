"""`prodigy events ...`: the event log of MapReduce jobs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from prodigy.app.inspect import events as use
from prodigy.app.paths import prodigy_home
from prodigy.cli.common import job_option as shared_job_option
from prodigy.cli.common import json_option
from prodigy.cli.dlq_cmd import shown
from prodigy.cli.sessions_cmd import confirm
from prodigy.core.clock import utc_now
from prodigy.core.dlq_rules import error_type_name
from prodigy.core.records import EventRecord
from prodigy.store import open_store

job_option = shared_job_option()
_SKIP = {"job_id", "agent_id", "timestamp", "usage", "config", "json_log_location", "worktree"}
_WIDTH = 110


def _home() -> Path:
    return prodigy_home(dict(os.environ))


def line(event: EventRecord) -> str:
    """`time  type  job  details`: one readable line per event."""
    # the error last: it is long, and the short facts should survive the truncation
    fields = sorted(
        ((k, v) for k, v in event.payload.items() if k not in _SKIP),
        key=lambda kv: kv[0] == "error",
    )
    details = " ".join(f"{k}={_value(k, v)}" for k, v in fields)
    text = f"{event.ts[:23].replace('T', ' ')}  {event.event_type}  {event.job_id or '-'}"
    text = shown(f"{text}  {details}".rstrip())
    return text if len(text) <= _WIDTH * 2 else text[: _WIDTH * 2 - 3] + "..."


def _value(key: str, value: Any) -> str:
    if key in ("failure_reason", "error_type"):
        return error_type_name(value).replace(" ", "")
    if key == "duration":
        secs = use.seconds_of(value)
        return f"{secs:.1f}s" if secs is not None else str(value)
    if key == "commits" and isinstance(value, list):
        return ",".join(str(c)[:10] for c in value) or "none"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if " " in value else value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@click.group("events")
def events() -> None:
    """Read the event log of MapReduce jobs: what ran, failed, merged and when."""


@events.command("ls")
@job_option
@click.option("--type", "types", multiple=True, metavar="TYPE", help="e.g. agent_failed.")
@click.option("--since", default=None, metavar="DATE", help="A date, or a duration ago (2h).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="The newest N only.")
@json_option
def ls(job_id: str | None, types: tuple[str, ...], since: str | None, **kw: Any) -> None:
    """List events in the order they happened."""
    after = use.moment(since, now=utc_now(), option="--since") if since else None
    with open_store(_home()) as store:
        found = use.list_events(store, job_id=job_id, types=types, since=after, limit=kw["limit"])
    _print(found, as_json=kw["as_json"])


events.add_command(ls, "list")


def _print(found: list[EventRecord], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([e.to_json() for e in found], indent=2, ensure_ascii=False))
    elif not found:
        click.echo("No events match.")
    else:
        for event in found:
            click.echo(line(event))


@events.command("search")
@click.argument("pattern")
@job_option
@json_option
def search(pattern: str, job_id: str | None, as_json: bool) -> None:
    """Events whose record matches PATTERN (a regular expression, any case)."""
    with open_store(_home()) as store:
        found = use.search(store, pattern, job_id=job_id)
    _print(found, as_json=as_json)


@events.command("stats")
@job_option
@json_option
def stats(job_id: str | None, as_json: bool) -> None:
    """Counts per type, agent success rate, average agent duration, tokens and cost."""
    with open_store(_home()) as store:
        found = use.stats(store, job_id=job_id)
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2))
        return
    rate = found.success_rate
    avg = found.average_agent_seconds
    click.echo(f"Events:             {found.total}")
    for kind, count in found.by_type.items():
        click.echo(f"  {kind}: {count}")
    click.echo(
        f"Agents:             {found.agents_completed} completed, {found.agents_failed} failed"
        + (f" ({rate:.1f}% success)" if rate is not None else "")
    )
    click.echo(f"Average agent time: {f'{avg:.1f} s' if avg is not None else '-'}")
    click.echo(f"Tokens:             {found.input_tokens} in / {found.output_tokens} out")
    click.echo(f"Cost:               ${found.cost_usd:.4f}")


@events.command("follow")
@job_option
def follow(job_id: str | None) -> None:
    """Print events as they are written, until Ctrl-C or (with --job) until the job ends."""
    with open_store(_home()) as store:
        use.follow(store, lambda e: click.echo(line(e)), job_id=job_id)


@events.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "json"]), default="json", show_default=True
)
@job_option
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export(fmt: str, job_id: str | None, output: Path | None) -> None:
    """Export events in prodigy's record format, to --output or standard output."""
    # streamed: 100,000 events are never held as records, nor as one text
    with open_store(_home()) as store:
        if output is None:
            use.export(store, sys.stdout.write, fmt, job_id=job_id)
            return
        # written beside the target and renamed into place: no half file on an error
        temp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
        try:
            with temp.open("w", encoding="utf-8") as out:
                count = use.export(store, out.write, fmt, job_id=job_id)
            temp.replace(output)
        finally:
            temp.unlink(missing_ok=True)
    click.echo(f"Exported {count} event(s) to {output}", err=True)


@events.command("clean")
@click.option("--older-than", required=True, metavar="DURATION|DATE", help="e.g. 30d.")
@job_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clean(older_than: str, job_id: str | None, yes: bool) -> int:
    """Delete events older than a duration ago, or before a date."""
    before = use.moment(older_than, now=utc_now(), option="--older-than")
    with open_store(_home()) as store:
        count = use.clean_candidates(store, before, job_id)
        if not count:
            click.echo(f"No events before {before}.")
            return 0
        if not confirm(f"Delete {count} event(s) before {before}?", yes=yes):
            click.echo("Nothing deleted.")
            return 1
        deleted = use.clean(store, before, job_id)
    click.echo(f"Deleted {deleted} event(s) before {before}.")
    return 0


COMMANDS = [events]
