"""`prodigy sessions ...`: list, show, cancel and clean up sessions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from prodigy.app.inspect.sessions import SessionView, list_views, view
from prodigy.app.paths import prodigy_home
from prodigy.app.session.state import CRASHED, UNMERGED, parse_age, parse_ts
from prodigy.cli.common import json_option
from prodigy.cli.inspect_format import short_time, table
from prodigy.core.clock import utc_now
from prodigy.core.errors import UsageError
from prodigy.core.records import RunStatus
from prodigy.core.usage import Usage, cost_text
from prodigy.store import open_store

STATUSES = [*(str(s) for s in RunStatus), CRASHED, UNMERGED]


def home() -> Path:
    return prodigy_home(dict(os.environ))


def confirm(question: str, *, yes: bool) -> bool:
    """True with --yes; otherwise ask on a terminal, and refuse outright without one."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            f"{question} Refusing to delete without confirmation: stdin is not a terminal; "
            "pass --yes to confirm"
        )
    return click.confirm(question, default=False)


@click.group("sessions")
def sessions() -> None:
    """Inspect and clean up sessions (one per `prodigy run`)."""


@sessions.command("ls")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default=None,
    help="Only sessions in this status (crashed: recorded as running, process gone).",
)
@click.option("--all", "all_", is_flag=True, help="Include completed and cancelled sessions.")
@json_option
def ls(status: str | None, all_: bool, as_json: bool) -> None:
    """List sessions, newest first: by default those running or resumable."""
    where = home()
    with open_store(where) as store:
        views = list_views(store, where, status=status, include_all=all_)
    if as_json:
        click.echo(json.dumps([v.to_json() for v in views], indent=2))
        return
    if not views:
        which = f"in status {status}" if status else ("at all" if all_ else "running or resumable")
        hint = "" if all_ or status else "; `--all` also shows completed and cancelled ones"
        click.echo(f"No sessions {which}{hint}.")
        return
    rows = [[v.session.id, _status(v), _started(v), _steps(v), _workflow(v)] for v in views]
    click.echo(table(["ID", "STATUS", "STARTED", "PROGRESS", "WORKFLOW"], rows))
    if any(v.resumable for v in views):
        click.echo(
            "\nResume one with `prodigy resume <ID>`; details: `prodigy sessions show <ID>`."
        )


sessions.add_command(ls, "list")


def _status(v: SessionView) -> str:
    """`paused (quota, resumes 19:41)` for a paused session; its stored status otherwise."""
    s = v.session
    if v.status != "paused" or not s.pause_reason:
        return v.status
    when = f", resumes {short_time(parse_ts(s.resume_at))}" if s.resume_at else ""
    return f"paused ({s.pause_reason}{when})"


def _started(v: SessionView) -> str:
    return short_time(parse_ts(v.session.started_at))


def _steps(v: SessionView) -> str:
    job = v.job_progress()
    if job is not None:  # a MapReduce session: its items, not steps of a pass
        return job
    ok = sum(s.success for s in v.steps)
    failed = len(v.steps) - ok
    text = f"{ok} ok" + (f", {failed} failed" if failed else "")
    return text if v.total_steps is None else f"{text} (of {v.total_steps})"


def _workflow(v: SessionView) -> str:
    return Path(v.session.workflow_path).name


@sessions.command("show")
@click.argument("session_id")
@json_option
def show(session_id: str, as_json: bool) -> None:
    """Show one session: workflow, status, steps, worktree, tokens, cost, resume command.

    SESSION_ID may be shortened to any unique prefix.
    """
    from prodigy.app.ids import resolve_session  # each command imports what only it needs

    where = home()
    with open_store(where) as store:
        v = view(store, where, resolve_session(store, session_id))
    if as_json:
        click.echo(json.dumps(v.to_json(), indent=2))
        return
    for line in describe(v):
        click.echo(line)


def describe(v: SessionView) -> list[str]:
    s = v.session
    status = v.status + (" (resumable)" if v.resumable else "")
    changed = " (changed since the run started)" if v.workflow_changed else ""
    fields = {
        "Session": s.id,
        "Status": status,
        "Workflow": f"{s.workflow_path}{changed}",
        "Mode": s.mode,
        "Started": s.started_at,
        "Finished": s.finished_at,
        "Error": s.error,
        "Worktree": s.worktree_path,
        "Branch": f"{s.branch} (merges into {s.target_branch})" if s.branch else None,
        "Job": s.job_id,
    }
    lines = [f"{k + ':':<10} {value}" for k, value in fields.items() if value]
    lines.append(f"{'Items:' if v.map_progress is not None else 'Steps:':<10} {_steps(v)}")
    for step in v.steps:
        mark = "✓" if step.success else "✗"
        error = f": {step.error.splitlines()[0]}" if step.error else ""
        lines.append(f"  {mark} {step.iteration}.{step.step_index + 1} {step.step_id}{error}")
    if v.map_progress is not None:
        counts = ", ".join(f"{n} {state}" for state, n in v.map_progress.items() if n)
        lines.append(f"  by state: {counts or 'none yet'}")
    lines.append(f"Usage:     {usage_line(v.usage, v.agent_steps)}")
    lines.append(f"Next:      {v.next_action}")
    if v.resume:
        lines.append(f"Resume:    {v.resume}")
    return lines


def usage_line(usage: Usage, agent_steps: int) -> str:
    if not agent_steps:
        return "no agent steps recorded"
    tokens = (
        f"{usage.total_tokens:,} tokens (in {usage.input_tokens:,}, out {usage.output_tokens:,}, "
        f"cache read {usage.cache_read_input_tokens:,}, "
        f"cache write {usage.cache_creation_input_tokens:,})"
    )
    model = f", {usage.model}" if usage.model else ""
    return f"{agent_steps} agent step(s), {tokens}, {cost_text(usage)}{model}"


@sessions.command("cancel")
@click.argument("session_id")
def cancel(session_id: str) -> None:
    """Stop a running session or MapReduce job from another terminal.

    SESSION_ID is a session id, its job id, or a unique prefix of either. The run's process
    gets SIGTERM, like Ctrl-C: running steps are stopped, what landed stays, and the session
    is recorded as interrupted; continue it with `prodigy resume-job JOB` or `prodigy resume
    SESSION`.
    """
    from prodigy.app.ids import resolve_session
    from prodigy.app.session.cancel import cancel_session

    where = home()
    with open_store(where) as store:
        session = resolve_session(store, session_id)
    holder = cancel_session(where, session.id)
    click.echo(f"sent SIGTERM to {session.id} (pid {holder.pid}); it stops its steps and exits")


@sessions.command("clean")
@click.option(
    "--older-than", default=None, metavar="DURATION", help="Only sessions idle for e.g. 2h, 7d."
)
@click.option(
    "--all", "all_", is_flag=True, help="Also failed, interrupted and crashed (resumable) ones."
)
@click.option("--force", is_flag=True, help="Even sessions whose branch has unmerged commits.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clean(older_than: str | None, all_: bool, force: bool, yes: bool) -> int:
    """Forget finished sessions: their steps, checkpoints, usage and agent logs.

    By default only completed and cancelled sessions; a running session is never removed,
    and neither is one whose branch still holds commits no other branch has (unless --force).
    Worktrees are not touched: `prodigy worktree clean` removes those.
    """
    # Imported here: cleaning pulls in git, asyncio and the worktree code, which
    # `sessions ls` (run far more often) does not need.
    import asyncio

    from prodigy.app.clean.sessions import apply_clean, plan_clean
    from prodigy.app.scratch import sweep_scratch

    age = parse_age(older_than) if older_than is not None else None
    where = home()
    with open_store(where) as store:
        plan = asyncio.run(
            plan_clean(
                store,
                where,
                now=utc_now(),
                older_than=age,
                include_resumable=all_,
                force=force,
            )
        )
        # scratch files a SIGKILLed run left (large values, maybe secrets): never needed again
        sweep_scratch(where)
        for item in plan.items:
            if item.kept:
                click.echo(f"Kept {item.session.id}: {item.kept}")
        if plan.resumable_skipped:
            click.echo(
                f"{plan.resumable_skipped} resumable session(s) kept; `--all` removes them too."
            )
        if not plan.removable:
            click.echo("No sessions to remove.")
            return 0
        click.echo(f"Sessions to remove ({len(plan.removable)}):")
        for item in plan.removable:
            click.echo(f"  {item.session.id} ({item.session.status})")
        if not confirm(f"Remove {len(plan.removable)} session(s)?", yes=yes):
            click.echo("Nothing removed.")
            return 1
        removed = apply_clean(store, plan)
    click.echo(f"Removed {len(removed)} session(s).")
    return 0


COMMANDS = [sessions]
