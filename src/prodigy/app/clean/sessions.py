"""`prodigy sessions clean`: forget finished sessions without losing work.

Removes a session's rows (steps, checkpoints, usage, jobs, items) and its agent logs. A
session whose process still runs is never touched; one whose branch holds commits no other
local branch contains is kept unless forced, because its row is how to find and merge them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prodigy.app.inspect.logs import session_log_dir
from prodigy.app.inspect.worktrees import unmerged_commits
from prodigy.app.session.state import FINAL, is_resumable, live_holder, session_age_ts
from prodigy.core.records import SessionRecord
from prodigy.runtime import git as g
from prodigy.store import Store


@dataclass(frozen=True, slots=True)
class SessionCleanup:
    session: SessionRecord
    kept: str | None  # why it stays; None when it is (or would be) removed
    logs: Path | None  # its agent log directory; None if the id would point elsewhere

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.session.id,
            "status": str(self.session.status),
            "removed": self.kept is None,
            "kept_because": self.kept,
        }


@dataclass(frozen=True, slots=True)
class CleanPlan:
    items: tuple[SessionCleanup, ...]
    resumable_skipped: int  # resumable sessions left out because --all was not given

    @property
    def removable(self) -> list[SessionCleanup]:
        return [i for i in self.items if i.kept is None]


async def plan_clean(
    store: Store,
    home: Path,
    *,
    now: datetime,
    older_than: timedelta | None,
    include_resumable: bool,
    force: bool,
) -> CleanPlan:
    """Which sessions `sessions clean` would remove, and why each other candidate stays."""
    items: list[SessionCleanup] = []
    skipped = 0
    for session in store.sessions.find():
        holder = live_holder(home, session.id)
        resumable = is_resumable(session, holder is not None)
        if holder is None and resumable and not include_resumable:
            skipped += 1
            continue
        if holder is None and session.status not in FINAL and not resumable:
            continue
        age = session_age_ts(session)
        if older_than is not None and (age is None or age > now - older_than):
            continue
        kept = f"it is running ({holder.describe()})" if holder else None
        if kept is None and not force:
            kept = await _unmerged(store, session)
        items.append(SessionCleanup(session, kept, session_log_dir(home, session)))
    return CleanPlan(tuple(items), skipped)


async def _unmerged(store: Store, session: SessionRecord) -> str | None:
    repo_record = store.repos.get(session.repo_key)
    branch = session.branch
    if repo_record is None or branch is None or not Path(repo_record.path).is_dir():
        return None  # no repository left to hold its commits
    repo = Path(repo_record.path)
    if not await g.branch_exists(repo, branch):
        return None
    count = await unmerged_commits(repo, branch, branch)
    if not count:
        return None
    return (
        f"its branch {branch} has {count} commit(s) not merged into any other branch; "
        "merge them (`prodigy worktree merge`) or remove them (`prodigy worktree clean`), "
        "or pass --force"
    )


def apply_clean(store: Store, plan: CleanPlan) -> list[SessionCleanup]:
    """Deletes the removable sessions' rows and log directories; returns what was removed."""
    removed = []
    for item in plan.removable:
        if store.sessions.delete(item.session.id):
            if item.logs is not None:
                shutil.rmtree(item.logs, ignore_errors=True)
            removed.append(item)
    return removed
