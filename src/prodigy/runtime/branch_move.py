"""Moving a user's branch to a finished merge in one step, and the checkout with it.

The merge is computed elsewhere (a scratch worktree); the user's branch moves with one
`git update-ref NEW OLD`, which fails if the branch moved meanwhile, and a checkout that has
the branch checked out then follows with `git read-tree -m -u OLD NEW`: a two-tree merge that
updates only the paths the merge changed and refuses, like `git merge --ff-only`, when a local
change or an untracked file is in the way. Nothing here resets or discards anything.
"""

from __future__ import annotations

from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.runtime import git


async def branch_tip(repo: Path, branch: str) -> str | None:
    result = await git.git(
        repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False
    )
    return result.stdout.strip() if result.ok else None


async def checkout_blocker(checkout: Path, old: str, new: str) -> str | None:
    """Why `checkout` could not follow its branch from `old` to `new`, or None if it can."""
    await git.git(checkout, "update-index", "-q", "--refresh", check=False)  # stat-only changes
    result = await git.git(checkout, "read-tree", "-m", "-u", "-n", old, new, check=False)
    return None if result.ok else result.tail(8)


async def move_branch(repo: Path, branch: str, new: str, old: str, reason: str) -> None:
    """`refs/heads/<branch>` from `old` to `new` in one atomic ref update (with a reflog line)."""
    result = await git.git(
        repo, "update-ref", "-m", reason, f"refs/heads/{branch}", new, old, check=False
    )
    if not result.ok:
        raise GitError(
            f"{branch} moved while prodigy merged into it; nothing was changed. Run the merge"
            f" again.\n{result.tail(4)}"
        )


async def follow_branch(checkout: Path, old: str, new: str) -> None:
    """Bring `checkout`'s index and files from `old` to `new` (the branch already moved).

    Idempotent: paths already at `new` are kept, so a repair after a crash can run it again.
    """
    await git.git(checkout, "update-index", "-q", "--refresh", check=False)
    await git.git(checkout, "read-tree", "-m", "-u", old, new)
