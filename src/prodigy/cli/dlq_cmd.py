"""`prodigy dlq ...`: the dead letter queue of failed work items."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from prodigy.app.dlq import queue as use
from prodigy.app.inspect.events import moment
from prodigy.app.paths import prodigy_home
from prodigy.cli.common import (
    executor_options,
    item_cap_options,
    job_argument,
    json_option,
    verbosity,
)
from prodigy.cli.common import job_option as shared_job_option
from prodigy.cli.inspect_format import short_reason, strip_step, table
from prodigy.cli.sessions_cmd import confirm
from prodigy.core.clock import utc_now
from prodigy.core.dlq_rules import DlqFilter, error_type_key, error_type_name
from prodigy.core.records import DlqRecord
from prodigy.store import open_store

job_option = shared_job_option()


def shown(text: str) -> str:
    """Ids and messages are data: control characters are shown escaped, never obeyed."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]


def _home() -> Path:
    return prodigy_home(dict(os.environ))


@click.group("dlq")
def dlq() -> None:
    """Inspect, analyse and retry work items that failed (the dead letter queue)."""


@dlq.command("list")
@job_option
@click.option("--error-type", default=None, metavar="TYPE", help="e.g. Timeout, CommandFailed.")
@click.option(
    "--eligible/--not-eligible", default=None, help="Only items that can (cannot) be retried."
)
@click.option("--since", default=None, metavar="DATE", help="Last attempt at or after DATE.")
@click.option("--until", default=None, metavar="DATE", help="Last attempt before DATE.")
@click.option("--signature", default=None, metavar="TEXT", help="Error signature contains TEXT.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N items.")
@json_option
def list_(as_json: bool, **kw: Any) -> None:
    """List failed items, newest last attempt first.

    DATE is a date or time (2026-11-25, 2026-11-25T14:00) or a duration ago (30m, 2h, 7d).
    """
    now = utc_now()
    wanted = DlqFilter(
        job_id=kw["job_id"],
        error_type=kw["error_type"],
        eligible=kw["eligible"],
        since=moment(kw["since"], now=now, option="--since") if kw["since"] else None,
        until=moment(kw["until"], now=now, option="--until") if kw["until"] else None,
        signature=kw["signature"],
        limit=kw["limit"],
    )
    with open_store(_home()) as store:
        records = use.list_items(store, wanted, with_data=as_json)
    if as_json:
        click.echo(json.dumps([use.item_json(r) for r in records], indent=2, ensure_ascii=False))
        return
    if not records:
        filtered = any(value is not None for value in kw.values())
        click.echo("No failed items match." if filtered else "DLQ empty.")
        return
    rows = [
        [shown(r.item_id), shown(r.job_id), str(r.failure_count), r.last_attempt[:19],
         "yes" if r.reprocess_eligible else "no", _last_error(r)]
        for r in records
    ]  # fmt: skip
    click.echo(table(["ITEM", "JOB", "FAILURES", "LAST ATTEMPT", "ELIGIBLE", "ERROR"], rows))
    click.echo(
        "\nDetails: `prodigy dlq show <ITEM> --job <JOB>`; retry: `prodigy dlq retry <JOB>`."
    )


def _last_error(record: DlqRecord, width: int = 60) -> str:
    """The latest error's type and its reason, on one line, cut at the end."""
    last = record.failure_history[-1] if record.failure_history else {}
    message = short_reason(str(last.get("error_message", "")), width)
    return f"{error_type_key(last.get('error_type'))}: {message}"


@dlq.command("show")
@click.argument("item_id")
@job_option
@json_option
def show(item_id: str, job_id: str | None, as_json: bool) -> None:
    """Show one failed item: its data, every failed attempt, its kept worktree."""
    with open_store(_home()) as store:
        record = use.find_item(store, item_id, job_id)
    if as_json:
        click.echo(json.dumps(use.item_json(record), indent=2, ensure_ascii=False))
        return
    for line in describe(record):
        click.echo(line)


dlq.add_command(show, "inspect")


def describe(r: DlqRecord) -> list[str]:
    lines = [
        f"Item:            {shown(r.item_id)}",
        f"Job:             {shown(r.job_id)}",
        f"Failures:        {r.failure_count} (first {r.first_attempt}, last {r.last_attempt})",
        f"Signature:       {shown(r.error_signature)}",
        f"Eligible:        {'yes' if r.reprocess_eligible else 'no'}"
        f"{'   manual review required' if r.manual_review_required else ''}",
        "Item data:",
        *("  " + line for line in json.dumps(r.item_data, indent=2).splitlines()),
        "Failure history:",
    ]
    for entry in r.failure_history:
        lines.append(
            f"  #{entry.get('attempt_number')} {entry.get('timestamp')}"
            f"  {error_type_name(entry.get('error_type'))}"
            f"  ({entry.get('step_failed')}, {entry.get('duration_ms')} ms)"
        )
        message = str(entry.get("error_message", ""))
        if entry.get("step_failed"):  # the line above names the step already
            message = strip_step(message)
        lines.append(f"     {shown(message)}")
        if entry.get("json_log_location"):
            lines.append(f"     log: {entry['json_log_location']}")
    artifacts = r.worktree_artifacts or {}
    if artifacts.get("worktree_path") or artifacts.get("branch_name"):
        path, branch = artifacts.get("worktree_path"), artifacts.get("branch_name")
        lines.append(f"Kept worktree:   {path} (branch {branch})")
    return lines


@dlq.command("stats")
@job_option
@json_option
def stats(job_id: str | None, as_json: bool) -> None:
    """Totals: items, eligible, needing review, oldest and newest, count per signature."""
    with open_store(_home()) as store:
        found = use.stats(store, job_id)
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"Items:                    {found.total}")
    click.echo(f"Eligible for reprocess:   {found.eligible}")
    click.echo(f"Requiring manual review:  {found.manual_review}")
    click.echo(f"Oldest first attempt:     {found.oldest_first_attempt or '-'}")
    click.echo(f"Newest last attempt:      {found.newest_last_attempt or '-'}")
    if found.by_signature:
        click.echo("")
        rows = [[str(n), shown(sig)] for sig, n in found.by_signature.items()]
        click.echo(table(["COUNT", "SIGNATURE"], rows))


@dlq.command("analyze")
@job_option
@json_option
def analyze(job_id: str | None, as_json: bool) -> None:
    """Failure patterns: groups by signature, error types over all attempts, hourly counts."""
    with open_store(_home()) as store:
        found = use.analyze(store, job_id)
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{found.total} item(s), {len(found.patterns)} pattern(s)")
    for group in found.patterns:
        click.echo(f"\n{group.count} x {shown(group.signature)}")
        click.echo(f"  first {group.first_occurrence}, last {group.last_occurrence}")
        click.echo(f"  e.g. {', '.join(shown(i) for i in group.sample_item_ids)}")
    if found.error_distribution:
        click.echo("\nError types (all attempts):")
        for name, count in found.error_distribution.items():
            click.echo(f"  {name}: {count}")
    if found.hourly:
        click.echo("\nLast attempts per hour:")
        for hour, count in found.hourly:
            click.echo(f"  {hour}  {count}")


@dlq.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@job_option
def export(file: Path, job_id: str | None) -> None:
    """Write the failed items to FILE as a JSON array (prodigy's DeadLetteredItem shape)."""
    with open_store(_home()) as store:
        count = use.export(store, file, job_id)
    click.echo(f"Exported {count} item(s) to {file}")


@dlq.command("purge")
@click.option(
    "--older-than", required=True, metavar="DURATION|DATE", help="e.g. 7d, or 2026-11-01."
)
@job_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(older_than: str, job_id: str | None, yes: bool) -> int:
    """Remove items whose last attempt is older than a duration ago, or before a date."""
    before = moment(older_than, now=utc_now(), option="--older-than")
    with open_store(_home()) as store:
        found = use.purge_candidates(store, before, job_id)
        if not found:
            click.echo(f"No failed items with a last attempt before {before}.")
            return 0
        if not confirm(f"Remove {len(found)} item(s) from the DLQ?", yes=yes):
            click.echo("Nothing removed.")
            return 1
        removed = use.remove(store, found, "purged")
    click.echo(f"Removed {removed} item(s) last attempted before {before}.")
    return 0


@dlq.command("clear")
@shared_job_option(required=True, help="The job.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(job_id: str, yes: bool) -> int:
    """Remove every item of one job from the DLQ."""
    with open_store(_home()) as store:
        found = use.clear_candidates(store, job_id)
        if not found:
            click.echo(f"The DLQ of {job_id} is empty.")
            return 0
        if not confirm(f"Remove all {len(found)} item(s) of {job_id} from the DLQ?", yes=yes):
            click.echo("Nothing removed.")
            return 1
        removed = use.remove(store, found, "cleared")
    click.echo(f"Removed {removed} item(s) of {job_id}.")
    return 0


@dlq.command("retry")
@job_argument
@click.option("--item", "items", multiple=True, metavar="ID", help="Only this item (repeatable).")
@click.option("--max-parallel", type=click.IntRange(min=1), default=None, help="Agents at once.")
@click.option("--dry-run", is_flag=True, help="Show what would be retried; run nothing.")
@click.option("-y", "--yes", is_flag=True, help="Merge into your branch without asking.")
@item_cap_options
@executor_options
@click.pass_context
def retry(ctx: click.Context, /, job_id: str, items: tuple[str, ...], **kw: Any) -> int:
    """Re-run the eligible failed items of JOB in new agent worktrees.

    Successes are merged into the job's branch, then into your branch as a run does
    (-y, or the prompt). An item leaves the DLQ only once its retry succeeded and landed;
    an item that fails again stays, with the new attempt in its history.
    """
    from prodigy.app.dlq.retry import RetryRequest, retry_items
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.map_display import make_run_display
    from prodigy.cli.run_cmd import read_line
    from prodigy.core.budget import Limits

    request = RetryRequest(
        job_id=job_id,
        item_ids=items,
        max_parallel=kw["max_parallel"],
        dry_run=kw["dry_run"],
        yes=kw["yes"],
        verbosity=verbosity(ctx),
        executor=kw["executor"],
        ray_address=kw["ray_address"],
        item_cap=Limits(kw["max_cost_usd"], kw["max_tokens"]),
    )
    display = make_run_display(request.verbosity)
    try:
        return run_async(retry_items(request, display, dict(os.environ), read_line))
    finally:
        display.close()


COMMANDS = [dlq]
