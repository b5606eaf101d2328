"""Git context variables: `${step.*}` for the last step and `${workflow.*}` for the run so far.

Both describe commits: `step.*` the commits the step made (HEAD before it .. HEAD after),
`workflow.*` everything since the run's first step (`${workflow.start_commit}`, kept in the
variables so a resumed run measures from the same point). Uncommitted changes are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prodigy.core.variables import JsonValue, Scope, git_change_values
from prodigy.runtime import git

START = "workflow.start_commit"


@dataclass(frozen=True, slots=True)
class Changes:
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()
    insertions: int = 0
    deletions: int = 0

    def values(self, prefix: str) -> dict[str, JsonValue]:
        return git_change_values(
            prefix,
            files_added=self.added,
            files_modified=self.modified,
            files_deleted=self.deleted,
            commits=self.commits,
            insertions=self.insertions,
            deletions=self.deletions,
        )


async def changes_between(worktree: Path, base: str, head: str) -> Changes:
    """What the commits base..head did, file lists sorted, commits oldest first."""
    if base == head:
        return Changes()
    listed = await git.git(worktree, "rev-list", "--reverse", f"{base}..{head}")
    status = await git.git(worktree, "diff", "--name-status", "--no-renames", "-z", base, head)
    numstat = await git.git(worktree, "diff", "--numstat", "--no-renames", "-z", base, head)
    kinds: dict[str, list[str]] = {"A": [], "M": [], "D": []}
    fields = status.stdout.split("\0")
    for code, path in zip(fields[0::2], fields[1::2], strict=False):
        kinds.get(code[:1], kinds["M"]).append(path)
    insertions = deletions = 0
    for record in numstat.stdout.split("\0"):
        parts = record.split("\t")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():  # "-" for binaries
            insertions += int(parts[0])
            deletions += int(parts[1])
    return Changes(
        added=tuple(sorted(kinds["A"])),
        modified=tuple(sorted(kinds["M"])),
        deleted=tuple(sorted(kinds["D"])),
        commits=tuple(listed.stdout.split()),
        insertions=insertions,
        deletions=deletions,
    )


async def with_git_changes(scope: Scope, worktree: Path, before: str) -> Scope:
    """`scope` with `step.*` (before..HEAD) and `workflow.*` (run start..HEAD) set."""
    head = await git.head_sha(worktree)
    start = scope.get(START)
    start = start if isinstance(start, str) else before
    step = await changes_between(worktree, before, head)
    run = step if start == before else await changes_between(worktree, start, head)
    return scope.with_values({**step.values("step"), **run.values("workflow"), START: start})
