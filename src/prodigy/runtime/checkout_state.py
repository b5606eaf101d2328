"""Is the user in the middle of something in a checkout? Then prodigy keeps its hands off.

A merge, rebase, cherry-pick, revert or bisect the user started, or an index with unresolved
conflicts, belongs to the user: prodigy never aborts, resets or cleans it. It refuses to
start, and refuses to merge into such a checkout, with one line that says what is going on.
Where git keeps each marker is asked with `rev-parse --git-path` (right in linked worktrees).
"""

from __future__ import annotations

from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.runtime import git

# marker under the worktree's git directory -> what it means, and how the user ends it
_MARKERS = (
    ("MERGE_HEAD", "a merge", "git merge --continue` or `git merge --abort"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue` or `--abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue` or `--abort"),
    ("rebase-merge", "a rebase", "git rebase --continue` or `--abort"),
    ("rebase-apply", "a rebase or `git am`", "git rebase --continue` or `--abort"),
    ("sequencer", "a cherry-pick or revert sequence", "git cherry-pick --continue` or `--quit"),
    ("BISECT_LOG", "a bisect", "git bisect reset"),
)


class CheckoutBusyError(GitError):
    """The checkout holds an operation the user started; prodigy will not touch it."""


async def operation_in_progress(checkout: Path) -> str | None:
    """What the user is in the middle of in `checkout`, or None when nothing is."""
    args: list[str] = []
    for name, _, _ in _MARKERS:
        args += ["--git-path", name]
    out = await git.git(checkout, "rev-parse", "--path-format=absolute", *args)
    for (name, what, finish), path in zip(_MARKERS, out.stdout.splitlines(), strict=True):
        if Path(path).exists():
            return f"{what} is in progress ({name}); finish it (`{finish}`)"
    unmerged = await git.git(checkout, "ls-files", "--unmerged", "-z")
    if unmerged.stdout.strip("\0"):
        return "its index has unresolved conflicts; resolve them (`git add`) or undo them"
    return None


def busy_message(checkout: Path, what: str, doing: str) -> str:
    """The one line that refuses to touch `checkout` while `what` is going on."""
    return (
        f"{checkout}: {what}, then {doing} again; prodigy never aborts or resets work it"
        " did not start"
    )


async def busy_reason(checkout: Path, doing: str) -> str | None:
    """busy_message when the checkout holds an operation of the user's, else None."""
    what = await operation_in_progress(checkout)
    return None if what is None else busy_message(checkout, what, doing)


async def refuse_if_busy(checkout: Path, doing: str) -> None:
    """Raise CheckoutBusyError (one line) when `checkout` holds an operation of the user's."""
    reason = await busy_reason(checkout, doing)
    if reason is not None:
        raise CheckoutBusyError(reason)
