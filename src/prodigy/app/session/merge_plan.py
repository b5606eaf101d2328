"""What a merge back is about (which branch goes where) and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class MergePlan:
    """Which branch goes where."""

    repo: Path  # the user's repository (main checkout)
    worktree: Path  # the session worktree
    branch: str  # the session branch
    target: str  # the branch the session started from
    session_id: str
    lock_dir: Path  # where the per-repository merge lock lives

    def merge_command(self, *, default: bool = False) -> str:
        flag = " --default" if default else ""
        return f"prodigy worktree merge {self.session_id}{flag}"


@dataclass(frozen=True, slots=True)
class SessionMergeResult:
    merged: bool
    message: str
    nothing_to_merge: bool = False
    custom_unmerged: bool = False  # the workflow's merge: block ran but merged nothing
