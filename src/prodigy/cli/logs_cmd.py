"""`prodigy logs`: list a session's Claude logs, or show one readably."""

from __future__ import annotations

import json
from pathlib import Path

import click

from prodigy.app.ids import resolve_session
from prodigy.app.inspect.logs import (
    LOG_SUFFIXES,
    LogFile,
    follow,
    pick_log,
    render_lines,
    session_logs,
    summarize,
    wait_for_logs,
)
from prodigy.app.session.state import live_holder
from prodigy.cli.common import json_option
from prodigy.cli.inspect_format import human_bytes, short_time, table
from prodigy.cli.sessions_cmd import home
from prodigy.core.errors import UsageError
from prodigy.core.records import SessionRecord
from prodigy.core.usage import cost_text
from prodigy.store import Store, open_store


@click.command("logs")
@click.argument("session_id", required=False)
@click.argument("log", required=False)
@click.option("--latest", is_flag=True, help="Show the newest log instead of listing them.")
@click.option("--tail", is_flag=True, help="Follow the log as it grows, until its result.")
@click.option("--item", "item_id", default=None, metavar="ID", help="Only this work item's logs.")
@click.option("--summary", is_flag=True, help="Only counts, tokens and cost of the log.")
@json_option
def logs(
    *,
    session_id: str | None,
    log: str | None,
    latest: bool,
    tail: bool,
    item_id: str | None,
    summary: bool,
    as_json: bool,
) -> None:
    """List the logs of a session (agent and shell steps, MapReduce setup, agents, reduce),
    or show one: for an agent, its assistant text, tool calls and result.

    \b
    prodigy logs                      logs of the newest session that has any
    prodigy logs SESSION              list them (SESSION may be a unique prefix)
    prodigy logs SESSION 2            show log 2 (002-...) of the session
    prodigy logs SESSION item_3/2     show log 2 of MapReduce item item_3
    prodigy logs SESSION --latest     show its newest log
    prodigy logs SESSION --tail       follow its newest agent log until the agent's result
    prodigy logs SESSION --item ID    a MapReduce work item's logs
    prodigy logs PATH                 show any log file prodigy named (.jsonl or .log)
    """
    where = home()
    if session_id is not None and Path(session_id).suffix in LOG_SUFFIXES:
        if not Path(session_id).is_file():
            raise UsageError(f"no log file {session_id}")
        _show(Path(session_id), tail=tail, summary=summary, as_json=as_json)
        return
    with open_store(where) as store:
        session = _session(store, where, session_id)
        found = session_logs(store, where, session, item=item_id)
        if tail and not found and live_holder(where, session.id) is not None:
            click.echo(f"Waiting for the first agent log of {session.id} (Ctrl-C to stop)...")
            found = wait_for_logs(
                store,
                where,
                session,
                item=item_id,
                is_live=lambda: live_holder(where, session.id) is not None,
            )
    show_one = latest or tail or log is not None or (item_id is not None and len(found) == 1)
    if show_one:
        _show(pick_log(found, log).path, tail=tail, summary=summary, as_json=as_json)
    elif as_json:
        click.echo(json.dumps([f.to_json() for f in found], indent=2))
    elif not found:
        what = f"work item {item_id!r} of " if item_id else ""
        click.echo(f"No logs for {what}session {session.id}.")
    else:
        _list(session, found)


def _session(store: Store, where: Path, session_id: str | None) -> SessionRecord:
    if session_id is not None:
        return resolve_session(store, session_id)
    for session in store.sessions.find():
        if session_logs(store, where, session):
            return session
    raise UsageError("no session has logs yet; they appear once a step has run")


def _list(session: SessionRecord, found: list[LogFile]) -> None:
    click.echo(f"Logs of {session.id}:")
    rows = []
    for f in found:
        u = f.usage
        step = u.step_id if u else f.path.stem.split("-", 1)[-1]
        rows.append(
            [
                f.ref,
                "agent" if f.is_agent_log else "shell",
                human_bytes(f.size),
                short_time(f.modified),
                cost_text(u.usage) if u else "-",
                step,
            ]
        )
    click.echo(table(["REF", "KIND", "SIZE", "MODIFIED", "COST", "STEP"], rows))
    example = found[-1].ref
    click.echo(f"\nShow one with `prodigy logs {session.id} <REF>` (e.g. {example}) or `--latest`.")


def _show(path: Path, *, tail: bool, summary: bool, as_json: bool) -> None:
    if path.suffix != ".jsonl":  # a shell step's log: the command, exit code and output
        if summary or as_json:
            raise UsageError(
                f"{path.name} is a shell step's log; --summary and --json are for agent logs"
            )
        click.echo(f"== {path}")
        click.echo(path.read_text(encoding="utf-8", errors="replace").rstrip("\n"))
        return
    if summary or as_json:
        if tail:
            for _ in follow(path):
                pass
        facts = summarize(path)
        if as_json:
            click.echo(json.dumps({"path": str(path), **facts.to_json()}, indent=2))
            return
        s, usage = facts.summary, facts.usage
        state = "running" if s.result is None else ("error" if s.is_error else "success")
        click.echo(f"{path}\n  outcome: {state}, model {s.model or '?'}")
        click.echo(
            f"  {facts.assistant_messages} assistant message(s), {facts.tool_calls} tool call(s)"
        )
        click.echo(
            f"  {usage.total_tokens:,} tokens (in {usage.input_tokens:,}, "
            f"out {usage.output_tokens:,}), {cost_text(usage)}"
        )
        return
    click.echo(f"== {path}")
    if tail:
        for line in render_lines(follow(path)):
            click.echo(line)
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in render_lines(handle):
            click.echo(line)


COMMANDS = [logs]
