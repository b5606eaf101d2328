"""`prodigy checkpoints ...`: the progress each session saved, and what resume would do."""

from __future__ import annotations

import asyncio
import json

import click

from prodigy.app.ids import resolve_session
from prodigy.app.inspect.sessions import (
    SessionView,
    checkpoint_clean_refusal,
    checkpoint_json,
    view,
    worktree_head,
)
from prodigy.app.session.state import FINAL
from prodigy.cli.common import json_option
from prodigy.cli.inspect_format import table
from prodigy.cli.sessions_cmd import confirm, home
from prodigy.core.mapreduce.resume_plan import REDUCE_PASS, SETUP_PASS
from prodigy.core.records import Checkpoint
from prodigy.store import Store, open_store


@click.group("checkpoints")
def checkpoints() -> None:
    """Inspect the progress saved after every step, and what resume would do next."""


def _views(store: Store, session_id: str | None) -> list[SessionView]:
    where = home()
    if session_id is not None:
        return [view(store, where, resolve_session(store, session_id))]
    views = [view(store, where, s) for s in store.sessions.find()]
    return [v for v in views if v.checkpoint is not None]


def _progress(v: SessionView) -> str:
    cp = v.checkpoint
    job = v.job_progress()
    if job is not None:  # MapReduce: the job's items; its checkpoints mark setup/reduce steps
        phase = {SETUP_PASS: "setup", REDUCE_PASS: "reduce"}.get(cp.iteration) if cp else None
        steps = f"; {phase}: {cp.next_step_index} step(s) done" if phase and cp else ""
        return job + steps
    if cp is None:
        return "nothing saved"
    total = f"/{v.total_steps}" if v.total_steps is not None else ""
    if cp.next_step_index == 0 and cp.iteration > 1:
        # the checkpoint saved after a whole pass points at the start of the next one
        return f"iteration {cp.iteration - 1} done ({v.total_steps or 'all'}{total} steps)"
    return f"iteration {cp.iteration}, {cp.next_step_index}{total} steps done"


@checkpoints.command("list")
@click.argument("session_id", required=False)
@json_option
def list_(session_id: str | None, as_json: bool) -> None:
    """List sessions with saved progress (or one SESSION), newest first."""
    with open_store(home()) as store:
        views = _views(store, session_id)
    if as_json:
        click.echo(json.dumps([_json(v) for v in views], indent=2))
        return
    if not views:
        click.echo("No checkpoints saved: no session has finished a step yet.")
        return
    rows = [
        [v.session.id, v.status, v.checkpoint.saved_at if v.checkpoint else "-", _progress(v)]
        for v in views
    ]
    click.echo(table(["SESSION", "STATUS", "SAVED", "PROGRESS"], rows))
    for v in views:
        click.echo(f"{v.session.id}: {v.next_action}")


checkpoints.add_command(list_, "ls")


def _json(v: SessionView) -> dict[str, object]:
    return {
        "session_id": v.session.id,
        "status": v.status,
        "checkpoint": checkpoint_json(v.checkpoint) if v.checkpoint else None,
        "checkpoints": v.checkpoints,
        "total_steps": v.total_steps,
        "next": v.next_action,
        "resume_command": v.resume,
    }


@checkpoints.command("show")
@click.argument("session_id")
@json_option
def show(session_id: str, as_json: bool) -> None:
    """Show what SESSION recorded as done: steps, variables, git HEAD, and the next step."""
    with open_store(home()) as store:
        v = view(store, home(), resolve_session(store, session_id))
    head = asyncio.run(worktree_head(v.session))
    if as_json:
        click.echo(json.dumps({**_json(v), "worktree_head": head}, indent=2))
        return
    click.echo(f"Session:     {v.session.id} ({v.status})")
    cp = v.checkpoint
    if cp is None:
        click.echo("Checkpoint:  none saved (no step finished)")
    else:
        click.echo(f"Checkpoint:  the latest of {v.checkpoints}, saved {cp.saved_at}")
        click.echo(f"Progress:    {_progress(v)}")
        names = ", ".join(_variable_names(cp)) or "none"
        click.echo(f"Variables:   {names} (values are not shown)")
        saved_head = cp.git_head or v.job_head  # a MapReduce job: the parent after its last merge
        if saved_head:
            click.echo(f"Git HEAD:    {saved_head}{_head_note(saved_head, head)}")
    for step in v.steps:
        mark = "✓" if step.success else "✗"
        click.echo(f"  {mark} {step.iteration}.{step.step_index + 1} {step.step_id}")
    click.echo(f"Next:        {v.next_action}")
    if v.resume:
        click.echo(f"Resume:      {v.resume}")


def _variable_names(cp: Checkpoint) -> list[str]:
    """The names a checkpoint saved; a MapReduce phase checkpoint keeps them in two groups."""
    if cp.iteration in (SETUP_PASS, REDUCE_PASS):
        groups = [g for g in cp.variables.values() if isinstance(g, dict)]
        return sorted({name for group in groups for name in group})
    return sorted(cp.variables)


def _head_note(saved: str | None, now: str | None) -> str:
    if saved is None or now is None:
        return ""
    if saved == now:
        return " (the worktree is still there)"
    return f" (the worktree has moved on since: HEAD is now {now[:12]})"


@checkpoints.command("clean")
@click.argument("session_id", required=False)
@click.option("--force", is_flag=True, help="Also a resumable session's (resume starts over).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clean(session_id: str | None, force: bool, yes: bool) -> int:
    """Delete saved progress: of SESSION, or of every completed and cancelled session.

    A running session's checkpoints are never deleted; a resumable one's only with --force.
    """
    with open_store(home()) as store:
        if session_id is None:
            views = [v for v in _views(store, None) if v.session.status in FINAL]
        else:
            views = _views(store, session_id)
        chosen, refused = [], False
        for v in views:
            refusal = checkpoint_clean_refusal(v, force=force)
            if refusal is not None:
                click.echo(f"Kept the checkpoints of {v.session.id}: {refusal}")
                refused = True
            elif v.checkpoints:
                chosen.append(v)
        if not chosen:
            click.echo("No checkpoints to delete.")
            return 1 if refused and session_id is not None else 0
        for v in chosen:
            click.echo(f"  {v.session.id} ({v.status}): {v.checkpoints} checkpoint(s)")
        if not confirm(f"Delete the checkpoints of {len(chosen)} session(s)?", yes=yes):
            click.echo("Nothing deleted.")
            return 1
        deleted = sum(store.checkpoints.delete(v.session.id) for v in chosen)
    click.echo(f"Deleted {deleted} checkpoint(s) of {len(chosen)} session(s).")
    return 0


COMMANDS = [checkpoints]
