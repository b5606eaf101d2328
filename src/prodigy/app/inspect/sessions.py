"""`prodigy sessions ls/show` and `prodigy checkpoints`: what each session recorded as done,
and what resume would do next."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodigy.app.session.state import (
    display_status,
    is_resumable,
    is_unmerged,
    live_holder,
    resume_command,
)
from prodigy.core.errors import GitError, ProdigyError
from prodigy.core.records import Checkpoint, RunStatus, SessionRecord, StepRecord
from prodigy.core.usage import Usage
from prodigy.runtime.locks import HolderInfo
from prodigy.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionView:
    """A session with everything the inspection commands show about it."""

    session: SessionRecord
    holder: HolderInfo | None
    steps: tuple[StepRecord, ...]
    checkpoint: Checkpoint | None
    checkpoints: int
    total_steps: int | None  # None when the workflow file cannot be read any more
    workflow_changed: bool
    usage: Usage
    agent_steps: int
    map_progress: Mapping[str, int] | None
    job_phase: str | None = None  # setup, map, reduce or done, for a MapReduce session
    job_head: str | None = None  # the parent worktree's HEAD after the latest merge

    def job_progress(self) -> str | None:
        """`2 merged, 1 failed, 3 pending (map phase)` for a MapReduce session, else None."""
        if self.map_progress is None:
            return None
        counts = self.map_progress
        merged = counts.get("merged", 0)
        failed = counts.get("failed", 0) + counts.get("dead_lettered", 0)
        waiting = sum(counts.get(k, 0) for k in ("pending", "running", "succeeded"))
        parts = [f"{merged} merged"]
        if failed:
            parts.append(f"{failed} failed")
        if waiting:
            parts.append(f"{waiting} pending")
        phase = "job done" if self.job_phase == "done" else f"{self.job_phase} phase"
        total = sum(counts.values())
        return f"{', '.join(parts)} of {total} items ({phase})"

    @property
    def status(self) -> str:
        return display_status(self.session, self.holder is not None)

    @property
    def resumable(self) -> bool:
        return is_resumable(self.session, self.holder is not None)

    @property
    def resume(self) -> str | None:
        return resume_command(self.session) if self.resumable else None

    @property
    def next_action(self) -> str:
        """What `prodigy resume` would do, in words."""
        return next_action(self)

    def to_json(self) -> dict[str, Any]:
        s, cp = self.session, self.checkpoint
        return {
            "id": s.id,
            "status": self.status,
            "stored_status": str(s.status),
            "pause_reason": s.pause_reason,
            "resume_at": s.resume_at,
            "pid": self.holder.pid if self.holder else None,
            "workflow": s.workflow_path,
            "workflow_changed": self.workflow_changed,
            "mode": s.mode,
            "repo_key": s.repo_key,
            "worktree": s.worktree_path,
            "branch": s.branch,
            "target_branch": s.target_branch,
            "started_at": s.started_at,
            "finished_at": s.finished_at,
            "error": s.error,
            "job_id": s.job_id,
            "steps": [_step_json(step) for step in self.steps],
            "total_steps": self.total_steps,
            "checkpoint": None if cp is None else checkpoint_json(cp),
            "checkpoints": self.checkpoints,
            "map_progress": dict(self.map_progress) if self.map_progress is not None else None,
            "job_phase": self.job_phase,
            "job_progress": self.job_progress(),
            "usage": {**self.usage.to_dict(), "agent_steps": self.agent_steps},
            "resumable": self.resumable,
            "resume_command": self.resume,
            "next": self.next_action,
        }


def view(store: Store, home: Path, session: SessionRecord) -> SessionView:
    steps = store.checkpoints.steps(session.id)
    history = store.checkpoints.history(session.id)
    total, changed = _workflow_facts(session)
    progress = None
    job = store.jobs.get(session.job_id) if session.job_id else None
    if job is not None:
        progress = {str(k): v for k, v in store.jobs.item_counts(job.id).items()}
    return SessionView(
        session=session,
        holder=live_holder(home, session.id),
        steps=tuple(steps),
        checkpoint=history[-1] if history else None,
        checkpoints=len(history),
        total_steps=total,
        workflow_changed=changed,
        usage=store.usage.for_session(session.id),
        agent_steps=len(store.usage.entries(session.id)),
        map_progress=progress,
        job_phase=str(job.phase) if job is not None else None,
        job_head=job.parent_head if job is not None else None,
    )


def list_views(
    store: Store, home: Path, *, status: str | None = None, include_all: bool = False
) -> list[SessionView]:
    """Newest first. By default only live and resumable sessions; `status` filters on the
    shown status (`crashed` included), `include_all` adds completed and cancelled ones."""
    shown = []
    for session in store.sessions.find():
        # Decide from the record and its lock first: a view reads the workflow file and the
        # session's checkpoints, which hidden (completed, cancelled) sessions never need.
        live = live_holder(home, session.id) is not None
        if status is not None:
            keep = display_status(session, live) == status
        else:
            keep = include_all or live or is_resumable(session, live) or is_unmerged(session)
        if keep:
            shown.append(view(store, home, session))
    return shown


def _workflow_facts(session: SessionRecord) -> tuple[int | None, bool]:
    """(steps per pass, whether the file changed since the run started), from the file now."""
    path = Path(session.workflow_path)
    try:
        data = path.read_bytes()
    except OSError:
        return None, False
    changed = hashlib.sha256(data).hexdigest() != session.workflow_hash
    # Imported here, not at the top: the workflow model costs several interpreter starts
    # and is needed only for the sessions a listing actually shows.
    from prodigy.core.workflow import load_workflow

    params = session.options.get("params")
    try:
        workflow = load_workflow(path, params=params if isinstance(params, dict) else None)
    except (ProdigyError, OSError, ValueError):
        return None, changed
    return len(workflow.workflow.steps), changed


def next_action(v: SessionView) -> str:
    """What `prodigy resume` would do: "resume would continue at step 3/5 of iteration 1"."""
    s = v.session
    if v.holder is not None:
        return f"nothing to resume: the session is running ({v.holder.describe()})"
    if is_unmerged(s):
        return (
            "nothing to resume; its work is not merged: "
            f"`prodigy worktree merge {s.id}` (or `--default` for prodigy's own merge)"
        )
    if s.status is RunStatus.COMPLETED:
        return "nothing to resume: the session completed"
    if s.status is RunStatus.CANCELLED:
        return "nothing to resume: the session was cancelled"
    if s.status is RunStatus.PAUSED:
        return _paused_action(s)
    if s.mode == "mapreduce":
        where = {
            "setup": "in its setup phase",
            "map": "in its map phase: items not merged yet run again",
            "reduce": "in its reduce phase (every item is settled)",
            "done": "at the merge back",
        }.get(str(v.job_phase), "where it stopped")
        return f"resume would continue the MapReduce job {where}"
    iteration, index = (1, 0)
    if v.checkpoint is not None:
        iteration, index = v.checkpoint.iteration, v.checkpoint.next_step_index
    passes = _passes(s)
    total = v.total_steps
    if total is not None and index >= total:
        iteration, index = iteration + 1, 0  # a pass finished just before its pass checkpoint
    if passes is not None and iteration > passes:
        return "every step is done; resume would only finish the session (merge back)"
    of_pass = f"{iteration}/{passes}" if passes is not None and passes > 1 else str(iteration)
    step = f"{index + 1}/{total}" if total is not None else str(index + 1)
    verb = "continue" if v.checkpoint else "start"
    return f"resume would {verb} at step {step} of iteration {of_pass}"


def _paused_action(s: SessionRecord) -> str:
    if s.pause_reason == "quota":
        when = f" at {s.resume_at}" if s.resume_at else ""
        return f"paused by a usage limit that resets{when}; resume continues after the reset"
    return (
        "paused: the budget is spent; resume with a higher --max-cost-usd or --max-tokens to go on"
    )


def _passes(session: SessionRecord) -> int | None:
    """How many passes the run makes; None when it depends on files (`--map`) or `--args`."""
    opts = session.options
    if opts.get("map_globs") or session.mode == "iterative":
        return None
    value = opts.get("max_iterations", 1)
    return value if isinstance(value, int) and value > 0 else 1


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {
        "seq": cp.seq,
        "iteration": cp.iteration,
        "next_step_index": cp.next_step_index,
        "completed_step_ids": list(cp.completed_step_ids),
        "variables": sorted(cp.variables),  # names only: values may be sensitive or large
        "git_head": cp.git_head,
        "workflow_hash": cp.workflow_hash,
        "saved_at": cp.saved_at,
    }


def _step_json(step: StepRecord) -> dict[str, Any]:
    return {
        "iteration": step.iteration,
        "index": step.step_index,
        "step": step.step_id,
        "success": step.success,
        "finished_at": step.finished_at,
        "error": step.error,
    }


async def worktree_head(session: SessionRecord) -> str | None:
    """The session worktree's HEAD now, to compare with the checkpoint's; None if it is gone."""
    if not session.worktree_path or not Path(session.worktree_path).is_dir():
        return None
    from prodigy.runtime import git  # asyncio and the git runner: only for `sessions show`

    try:
        return await git.head_sha(Path(session.worktree_path))
    except GitError:
        return None


def checkpoint_clean_refusal(v: SessionView, *, force: bool) -> str | None:
    """Why the session's checkpoints must stay, or None when deleting them loses nothing."""
    if v.holder is not None:
        return f"it is running ({v.holder.describe()})"
    if v.resumable and not force:
        return (
            "it can still be resumed, and without checkpoints resume would start over "
            "from step 1; pass --force to delete them anyway"
        )
    return None
