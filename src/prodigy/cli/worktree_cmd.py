"""`prodigy worktree ...`: list, merge and clean session worktrees."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import click

from prodigy.app.clean.worktrees import CleanOutcome, Selection, clean, named_session, select
from prodigy.app.inspect.worktrees import (
    WorktreeDetails,
    WorktreeEntry,
    details,
    list_entries,
    main_repository,
    worktree_root,
)
from prodigy.app.paths import prodigy_home
from prodigy.app.session.state import parse_age
from prodigy.cli.common import job_option, json_option, path_option, verbosity
from prodigy.cli.inspect_format import human_bytes, short_time, table
from prodigy.core.clock import utc_now
from prodigy.store import Store, open_store


@click.group("worktree")
def worktree() -> None:
    """Manage the git worktrees prodigy created for sessions and agents."""


@worktree.command("ls")
@json_option
@click.option(
    "-d", "--detailed", is_flag=True, help="Also path, HEAD, unmerged commits, changes, disk use."
)
@path_option
def ls(as_json: bool, detailed: bool, path: str | None) -> None:
    """List prodigy's worktrees and branches of this repository, and the orphans among them.

    An orphan is a worktree, directory or `prodigy-*` branch that no live or resumable
    session needs: its session is completed or cancelled, or none is recorded.
    """
    home = prodigy_home(_environ())
    with open_store(home) as store:
        repo, entries, infos = asyncio.run(_listing(store, home, path, detailed or as_json))
    if as_json:
        rows = [{**e.to_json(), **i.to_json()} for e, i in zip(entries, infos, strict=True)]
        click.echo(json.dumps({"repository": str(repo), "worktrees": rows}, indent=2))
        return
    if not entries:
        click.echo(f"No prodigy worktrees or branches for {repo}.")
        return
    click.echo(f"Prodigy worktrees of {repo} (in {worktree_root(home, repo)}):")
    if detailed:
        for entry, info in zip(entries, infos, strict=True):
            _echo_detailed(entry, info)
    else:
        click.echo(table(["NAME", "STATUS", "CREATED", "BRANCH"], [_row(e) for e in entries]))
    orphans = [e for e in entries if e.orphan]
    if orphans:
        click.echo(f"\nOrphans ({len(orphans)}; `prodigy worktree clean --orphans` removes them):")
        for entry in orphans:
            click.echo(f"  {entry.name}: {entry.orphan}")


async def _listing(
    store: Store, home: Path, path: str | None, with_details: bool
) -> tuple[Path, list[WorktreeEntry], list[WorktreeDetails]]:
    repo = await main_repository(Path(path or ".").expanduser())
    entries = await list_entries(store, home, repo)
    infos = [await details(repo, e) for e in entries] if with_details else []
    return repo, entries, infos


def _row(entry: WorktreeEntry) -> list[str]:
    status = entry.status if entry.kind == "worktree" else f"{entry.status} ({entry.kind} only)"
    if entry.missing:
        status += " (directory gone)"
    return [entry.name, status, short_time(entry.created), entry.branch or "-"]


def _echo_detailed(entry: WorktreeEntry, info: WorktreeDetails) -> None:
    click.echo(f"\n{entry.name}")
    fields = {
        "kind": entry.kind,
        "status": entry.status + (f" (pid {entry.holder.pid})" if entry.holder else ""),
        "session": entry.session.id if entry.session else "-",
        "job": entry.job_id,
        "branch": entry.branch,
        "path": str(entry.path) if entry.path else None,
        "head": entry.head,
        "created": short_time(entry.created),
        "unmerged": f"{info.unmerged_commits} commit(s) on no other branch",
        "changes": "uncommitted changes" if info.dirty else "clean",
        "disk": human_bytes(info.disk_bytes),
        "orphan": entry.orphan,
    }
    for key, value in fields.items():
        if value is not None:
            click.echo(f"  {key + ':':<10} {value}")


worktree.add_command(ls, "list")


@worktree.command("merge")
@click.argument("name")
@click.option(
    "--default",
    "default_merge",
    is_flag=True,
    help="Use prodigy's own merge, not the workflow's merge: steps (when those do not merge).",
)
@click.pass_context
def merge(ctx: click.Context, /, name: str, default_merge: bool) -> int:
    """Merge a completed session's kept worktree into the branch it started from.

    NAME is the session id or a unique prefix (also the worktree's directory name), as
    printed when you answered `n` at the merge prompt. The workflow's own `merge:` steps
    are used if it has them, unless --default; afterwards the worktree and its branch are
    removed.
    """
    import os

    from prodigy.app.session.worktree_merge import merge_kept_session
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.display import make_display

    display = make_display(verbosity(ctx))
    try:
        return run_async(
            merge_kept_session(name, display, dict(os.environ), default_merge=default_merge)
        )
    finally:
        display.close()


@worktree.command("clean")
@click.argument("name", required=False)
@click.option("-a", "--all", "all_", is_flag=True, help="Every worktree of this repository.")
@click.option("--orphans", is_flag=True, help="Only orphans (see `prodigy worktree ls`).")
@click.option(
    "--older-than",
    default=None,
    metavar="DURATION",
    help="Only those created over e.g. 30m, 2h, 7d ago.",
)
@click.option("--mapreduce", is_flag=True, help="Only MapReduce agent worktrees.")
@job_option("--job-id", "--job", help="Only this job's agent worktrees.")
@click.option(
    "-f", "--force", is_flag=True, help="Also delete unmerged commits and uncommitted changes."
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@json_option
@path_option
def clean_cmd(
    *,
    name: str | None,
    all_: bool,
    orphans: bool,
    older_than: str | None,
    mapreduce: bool,
    job_id: str | None,
    force: bool,
    dry_run: bool,
    as_json: bool,
    path: str | None,
) -> int:
    """Remove worktrees and their branches (NAME, --all, --orphans or --older-than).

    A worktree of a running session is never touched. Without -f, one that has uncommitted
    changes, commits no other local branch contains, or a session that can still be resumed
    is kept, and the output says why. Exit 1 when a worktree named by NAME was kept.
    """
    selection = Selection(
        name=name,
        all=all_,
        orphans=orphans,
        older_than=parse_age(older_than) if older_than is not None else None,
        mapreduce=mapreduce,
        job_id=job_id,
    )
    home = prodigy_home(_environ())
    with open_store(home) as store:
        outcomes = asyncio.run(_clean(store, home, path, selection, force=force, dry_run=dry_run))
    if as_json:
        click.echo(json.dumps([o.to_json() for o in outcomes], indent=2))
    else:
        _echo_outcomes(outcomes, dry_run)
    kept_named = name is not None and any(not o.removed for o in outcomes)
    return 1 if kept_named else 0


async def _clean(
    store: Store, home: Path, path: str | None, selection: Selection, *, force: bool, dry_run: bool
) -> list[CleanOutcome]:
    repo = await main_repository(Path(path or ".").expanduser())
    entries = await list_entries(store, home, repo)
    chosen = select(entries, named_session(store, entries, selection), utc_now())
    return await clean(store, repo, chosen, force=force, dry_run=dry_run)


def _echo_outcomes(outcomes: list[CleanOutcome], dry_run: bool) -> None:
    if not outcomes:
        click.echo("Nothing to clean: no worktree or branch matches.")
        return
    for outcome in outcomes:
        if outcome.removed:
            verb = "Would remove" if dry_run else "Removed"
            note = outcome.note.removeprefix("removed ")
            click.echo(f"{verb} {outcome.entry.name}: {note}")
        else:
            click.echo(f"Kept {outcome.entry.name}: {outcome.note}")
    removed = sum(o.removed for o in outcomes)
    kept = len(outcomes) - removed
    what = "would be removed" if dry_run else "removed"
    click.echo(f"{removed} {what}, {kept} kept.")


def _environ() -> dict[str, str]:
    return dict(os.environ)


COMMANDS = [worktree]
