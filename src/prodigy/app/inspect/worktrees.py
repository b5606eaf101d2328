"""`prodigy worktree ls/clean`: the worktrees and branches prodigy made for one repository.

Git is the truth for what exists (worktrees under `$PRODIGY_HOME/worktrees/<repo-key>/`,
`prodigy-*` branches); the store says which session owns each and what became of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prodigy.app.paths import worktrees_dir
from prodigy.app.session.default_merge import SCRATCH_PREFIX
from prodigy.app.session.state import (
    FINAL,
    display_status,
    is_resumable,
    is_unmerged,
    live_holder,
    parse_ts,
)
from prodigy.core.records import SessionRecord, repo_key
from prodigy.runtime import git as g
from prodigy.runtime.locks import HolderInfo
from prodigy.runtime.worktrees import WorktreeInfo, find_orphans, list_worktrees
from prodigy.store import Store

BRANCH_PREFIX = "prodigy-"
AGENT_PREFIX = "prodigy-agent-"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorktreeEntry:
    """One worktree (or leftover branch or directory) prodigy made for the repository."""

    name: str  # path below the repository's worktree directory, or the branch name
    kind: str  # "worktree", "branch" (no worktree) or "directory" (unknown to git)
    path: Path | None
    branch: str | None
    head: str | None
    missing: bool  # git lists it but its directory is gone
    session: SessionRecord | None
    job_id: str | None
    holder: HolderInfo | None  # the live process running its session
    created: datetime | None
    orphan: str | None  # why nothing needs it any more; None while its session may

    @property
    def status(self) -> str:
        if self.session is None:
            return "-"
        return display_status(self.session, self.holder is not None)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path) if self.path else None,
            "branch": self.branch,
            "head": self.head,
            "missing": self.missing,
            "session_id": self.session.id if self.session else None,
            "job_id": self.job_id,
            "status": self.status,
            "pid": self.holder.pid if self.holder else None,
            "created": self.created.isoformat() if self.created else None,
            "orphan": self.orphan is not None,
            "orphan_reason": self.orphan,
        }


@dataclass(frozen=True, slots=True)
class WorktreeDetails:
    unmerged_commits: int  # on its branch and on no other local branch
    dirty: bool
    disk_bytes: int

    def to_json(self) -> dict[str, object]:
        return {
            "unmerged_commits": self.unmerged_commits,
            "dirty": self.dirty,
            "disk_bytes": self.disk_bytes,
        }


async def main_repository(start: Path) -> Path:
    """The main checkout of the repository containing `start`, even from a linked worktree."""
    top = await g.repo_root(start)
    common = await g.common_dir(top)
    return common.parent if common.name == ".git" else top


def worktree_root(home: Path, repo: Path) -> Path:
    return (worktrees_dir(home) / repo_key(str(repo))).resolve()


async def list_entries(store: Store, home: Path, repo: Path) -> list[WorktreeEntry]:
    """Every worktree, leftover directory and unused `prodigy-*` branch of this repository."""
    root = worktree_root(home, repo)
    owners = _Owners(store, home, repo_key(str(repo)))
    ours = [w for w in await list_worktrees(repo) if w.path.resolve().is_relative_to(root)]
    orphans = await find_orphans(repo, root, BRANCH_PREFIX)
    dates = await _branch_dates(repo)
    entries = [owners.worktree(w, root) for w in ours]
    entries += [owners.directory(d, root) for d in orphans.unknown_dirs]
    entries += [owners.branch(b, dates.get(b)) for b in orphans.branches]
    return entries


class _Owners:
    """Finds the session (and job) behind a path or branch."""

    def __init__(self, store: Store, home: Path, key: str) -> None:
        self.home = home
        self.sessions = store.sessions.find(repo_key=key)
        self.by_path = {_resolved(s.worktree_path): s for s in self.sessions if s.worktree_path}
        self.by_branch = {s.branch: s for s in self.sessions if s.branch}
        self.by_id = {s.id: s for s in self.sessions}
        self.records = {_resolved(r.path): r for r in store.worktrees.find(repo_key=key)}
        self.jobs = {
            j.id: self.by_id.get(j.session_id)
            for s in self.sessions
            for j in store.jobs.find(session_id=s.id)
        }

    def owner(
        self, path: Path | None, branch: str | None
    ) -> tuple[SessionRecord | None, str | None]:
        record = self.records.get(path) if path else None
        if record is not None and (record.session_id or record.job_id):
            job_session = self.jobs.get(record.job_id) if record.job_id else None
            return self.by_id.get(record.session_id or "") or job_session, record.job_id
        if path in self.by_path:
            return self.by_path[path], None
        if branch in self.by_branch:
            return self.by_branch[branch], None
        if branch and branch.startswith(SCRATCH_PREFIX):  # a merge's scratch (default_merge)
            return self.by_id.get(branch.removeprefix(SCRATCH_PREFIX)), None
        for job_id, session in self.jobs.items():
            if branch and branch.startswith(f"{AGENT_PREFIX}{job_id}-"):
                return session, job_id
        return None, None

    def entry(
        self,
        *,
        name: str,
        kind: str,
        path: Path | None,
        branch: str | None,
        head: str | None = None,
        missing: bool = False,
        created: datetime | None = None,
    ) -> WorktreeEntry:
        session, job_id = self.owner(path, branch)
        holder = live_holder(self.home, session.id) if session else None
        if session is not None:
            created = parse_ts(session.started_at)
        elif path is not None and path in self.records:
            created = parse_ts(self.records[path].created_at)
        return WorktreeEntry(
            name=name,
            kind=kind,
            path=path,
            branch=branch,
            head=head,
            missing=missing,
            session=session,
            job_id=job_id,
            holder=holder,
            created=created,
            orphan=_orphan_reason(kind, missing, session, holder),
        )

    def worktree(self, info: WorktreeInfo, root: Path) -> WorktreeEntry:
        path = info.path.resolve()
        return self.entry(
            name=str(path.relative_to(root)),
            kind="worktree",
            path=path,
            branch=info.branch,
            head=info.head,
            missing=info.prunable is not None,
            created=_mtime(path),
        )

    def directory(self, path: Path, root: Path) -> WorktreeEntry:
        path = path.resolve()
        return self.entry(
            name=str(path.relative_to(root)),
            kind="directory",
            path=path,
            branch=None,
            created=_mtime(path),
        )

    def branch(self, name: str, created: datetime | None) -> WorktreeEntry:
        return self.entry(name=name, kind="branch", path=None, branch=name, created=created)


def _orphan_reason(
    kind: str, missing: bool, session: SessionRecord | None, holder: HolderInfo | None
) -> str | None:
    if holder is not None:
        return None
    if missing:
        return "its directory is gone"
    if kind == "directory":
        return "git does not know this directory"
    if session is None:
        return "no session recorded for it"
    if session.status in FINAL and not is_unmerged(session):
        # A completed session kept unmerged is listed here too; `worktree clean` still keeps
        # it while it holds commits merged nowhere, and `worktree merge` merges it.
        return f"its session is {session.status}"
    return None


def _resolved(path: str) -> Path:
    return Path(path).resolve()


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


async def _branch_dates(repo: Path) -> dict[str, datetime]:
    out = await g.git(
        repo,
        "for-each-ref",
        "--format=%(refname:short)%00%(committerdate:iso-strict)",
        f"refs/heads/{BRANCH_PREFIX}*",
    )
    dates: dict[str, datetime] = {}
    for line in out.stdout.splitlines():
        name, _, when = line.partition("\0")
        moment = parse_ts(when)
        if moment is not None:
            dates[name] = moment
    return dates


async def unmerged_commits(repo: Path, tip: str, branch: str | None) -> int:
    """Commits reachable from `tip` and from no local branch other than `branch`."""
    # Ref names cannot hold glob characters, so the branch name is a literal exclude pattern.
    exclude = [f"--exclude={branch}"] if branch else []
    out = await g.git(repo, "rev-list", "--count", tip, "--not", *exclude, "--branches", "--")
    return int(out.stdout.strip() or 0)


async def details(repo: Path, entry: WorktreeEntry) -> WorktreeDetails:
    """What removing the entry would lose: unmerged commits, local changes, disk space."""
    tip = entry.branch or entry.head
    unmerged = await unmerged_commits(repo, tip, entry.branch) if tip else 0
    path = entry.path
    if path is None or entry.missing or not path.is_dir():
        return WorktreeDetails(unmerged, dirty=False, disk_bytes=0)
    dirty = entry.kind == "worktree" and await g.is_dirty(path)
    return WorktreeDetails(unmerged, dirty=dirty, disk_bytes=disk_usage(path))


def disk_usage(path: Path) -> int:
    """Bytes used by the files under `path` (symbolic links not followed)."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += (Path(directory) / name).lstat().st_size
            except OSError:
                continue  # removed while we walked
    return total


def resumable_session(entry: WorktreeEntry) -> SessionRecord | None:
    """The session that still needs this worktree or branch to be resumed, if any."""
    session = entry.session
    if session is None or entry.job_id is not None:
        return None
    if not is_resumable(session, entry.holder is not None):
        return None
    own_path = entry.path is not None and session.worktree_path is not None
    if own_path and _resolved(session.worktree_path or "") == entry.path:
        return session
    return session if entry.kind == "branch" and entry.branch == session.branch else None
