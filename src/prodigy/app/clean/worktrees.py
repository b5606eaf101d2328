"""`prodigy worktree clean`: remove worktrees and branches prodigy made, never losing work.

A worktree of a running session is never touched. Without force, one is also kept when it
has uncommitted changes, commits that no other local branch contains, or a session that
can still be resumed; the outcome says which and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from prodigy.app.ids import resolve_session, sessions_matching
from prodigy.app.inspect.worktrees import (
    WorktreeDetails,
    WorktreeEntry,
    details,
    resumable_session,
)
from prodigy.app.session.state import resume_command
from prodigy.core.errors import UsageError
from prodigy.core.records import RunStatus
from prodigy.runtime import git as g
from prodigy.runtime.worktrees import remove_worktree
from prodigy.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Which entries `worktree clean` is asked about."""

    name: str | None = None
    all: bool = False
    orphans: bool = False
    older_than: timedelta | None = None
    mapreduce: bool = False
    job_id: str | None = None


@dataclass(frozen=True, slots=True)
class CleanOutcome:
    entry: WorktreeEntry
    removed: bool  # removed, or would be with --dry-run
    note: str  # why it was kept, or what removing it did

    def to_json(self) -> dict[str, object]:
        return {**self.entry.to_json(), "removed": self.removed, "note": self.note}


def select(entries: list[WorktreeEntry], sel: Selection, now: datetime) -> list[WorktreeEntry]:
    """The entries the selection names; raises UsageError for a contradictory or empty one."""
    if sel.name is not None and (sel.all or sel.orphans):
        raise UsageError("give either a worktree NAME or --all/--orphans, not both")
    narrowed = sel.older_than is not None or sel.mapreduce or sel.job_id is not None
    if sel.name is None and not (sel.all or sel.orphans or narrowed):
        raise UsageError(
            "say what to clean: a worktree NAME (see `prodigy worktree ls`), --all, "
            "--orphans or --older-than DURATION"
        )
    if sel.name is not None:
        chosen = [e for e in entries if _matches(e, sel.name)]
        if not chosen:
            raise UsageError(
                f"no prodigy worktree or branch named {sel.name!r} in this repository; "
                "`prodigy worktree ls` lists them"
            )
    else:
        chosen = [e for e in entries if e.orphan] if sel.orphans else list(entries)
    if sel.older_than is not None:
        cutoff = now - sel.older_than
        chosen = [e for e in chosen if e.created is not None and e.created < cutoff]
    if sel.mapreduce or sel.job_id:
        chosen = [e for e in chosen if e.job_id and (sel.job_id in (None, e.job_id))]
    return chosen


def named_session(store: Store, entries: list[WorktreeEntry], sel: Selection) -> Selection:
    """`sel` with a NAME that is no worktree's name, branch or path read as a session id
    (a unique prefix, or its job's id), as every command takes one."""
    if sel.name is None or any(_matches(e, sel.name) for e in entries):
        return sel
    matching = sessions_matching(store, sel.name)
    if not matching:
        return sel  # `select` says that nothing has this name
    return replace(sel, name=resolve_session(store, sel.name).id)


def _matches(entry: WorktreeEntry, name: str) -> bool:
    session_id = entry.session.id if entry.session else None
    path = str(entry.path) if entry.path else None
    return name in (entry.name, entry.branch, path) or (session_id == name and entry.job_id is None)


async def clean(
    store: Store,
    repo: Path,
    entries: list[WorktreeEntry],
    *,
    force: bool,
    dry_run: bool,
) -> list[CleanOutcome]:
    """Removes each entry (worktree and branch) unless that would lose work; one outcome each."""
    outcomes = []
    for entry in entries:
        info = await details(repo, entry)
        refusal = _refusal(entry, info, force)
        if refusal is not None:
            outcomes.append(CleanOutcome(entry, removed=False, note=refusal))
        elif dry_run:
            outcomes.append(CleanOutcome(entry, removed=True, note=_what(entry, info)))
        else:
            outcomes.append(await _remove(store, repo, entry, info, force))
    return outcomes


def _refusal(entry: WorktreeEntry, info: WorktreeDetails, force: bool) -> str | None:
    if entry.holder is not None:
        return f"in use by a running prodigy ({entry.holder.describe()})"
    if entry.kind == "directory" and not _leftover(entry.path):
        return "not a worktree prodigy left behind (no .git file); remove it by hand if unused"
    if force:
        return None
    if info.dirty:
        return "has uncommitted changes; commit or discard them, or pass -f to discard them"
    if info.unmerged_commits:
        return (
            f"{info.unmerged_commits} commit(s) on {entry.branch or entry.head} are not merged "
            f"into any other branch; merge them (`prodigy worktree merge {entry.name}`) "
            "or pass -f to delete them"
        )
    session = resumable_session(entry)
    if session is not None:
        return (
            f"session {session.id} can still be resumed (`{resume_command(session)}`); "
            "pass -f to remove it anyway"
        )
    return None


def _leftover(path: Path | None) -> bool:
    # Only a directory git abandoned (a `.git` file) or an empty one, never user data.
    return path is not None and ((path / ".git").is_file() or not any(path.iterdir()))


def _what(entry: WorktreeEntry, info: WorktreeDetails) -> str:
    parts = []
    if entry.path is not None and entry.kind != "branch":
        parts.append(f"directory {entry.path}")
    if entry.branch:
        n = info.unmerged_commits
        lost = f", losing {n} unmerged commit(s)" if n else ""
        parts.append(f"branch {entry.branch}{lost}")
    if info.dirty:
        parts.append("discarding uncommitted changes")
    return ", ".join(parts)


async def _remove(
    store: Store, repo: Path, entry: WorktreeEntry, info: WorktreeDetails, force: bool
) -> CleanOutcome:
    resumable = resumable_session(entry)
    if entry.kind == "branch":
        await g.delete_branch(repo, entry.branch or "", force=True)
    elif entry.path is not None:
        await remove_worktree(
            repo,
            entry.path,
            delete_branch=entry.kind == "worktree",
            force=force or entry.kind == "directory",
            branch=entry.branch,
        )
        for record in store.worktrees.find(repo_key=None):
            if Path(record.path).resolve() == entry.path:
                store.worktrees.forget(record.path)
    note = f"removed {_what(entry, info)}"
    if resumable is not None:
        # Resume needs the worktree; a session that can no longer continue is cancelled.
        store.sessions.set_status(
            resumable.id, RunStatus.CANCELLED, error="worktree removed by `prodigy worktree clean`"
        )
        note += f"; session {resumable.id} marked cancelled"
    return CleanOutcome(entry, removed=True, note=note)
