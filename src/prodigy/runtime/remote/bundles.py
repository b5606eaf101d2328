"""Git bundles: how commits travel between the coordinator and worker nodes (no shared disk).

A bundle is created from a named ref (git bundles carry refs, not bare commits), checked with
`git bundle verify` before anything is fetched, and fetched into a ref of the receiving repo.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.runtime import git

BUNDLE_REFS = "refs/prodigy/bundle"  # each bundle carries one ref under here
_MISSING = "lacks these prerequisite commits"


class MissingPrerequisitesError(GitError):
    """The receiving repo lacks commits the (incremental) bundle builds on."""


async def create_bundle(repo: Path, tip: str, *, exclude: tuple[str, ...] = ()) -> bytes | None:
    """The commits reachable from `tip` but not from `exclude`, as bundle bytes; None when
    there are none (git refuses an empty bundle)."""
    if exclude and all([await git.is_ancestor(repo, tip, other) for other in exclude]):
        return None
    with tempfile.TemporaryDirectory(prefix="prodigy-bundle-") as tmp:
        # a private ref per call: concurrent bundles of one repo must not move each other's tip
        ref = f"{BUNDLE_REFS}/{Path(tmp).name}"
        await git.git(repo, "update-ref", ref, tip)
        try:
            out = Path(tmp) / "b.bundle"
            spec = [f"^{e}" for e in exclude]
            await git.git(repo, "bundle", "create", "--quiet", str(out), ref, *spec)
            return out.read_bytes()
        finally:
            await git.git(repo, "update-ref", "-d", ref, check=False)


async def fetch_bundle(repo: Path, data: bytes, into: str) -> str:
    """Verify `data` against `repo`, fetch its tip into the ref `into`; returns the tip commit.

    Raises MissingPrerequisitesError when `repo` lacks the commits it builds on, GitError
    when it is not a valid bundle."""
    with tempfile.TemporaryDirectory(prefix="prodigy-bundle-") as tmp:
        path = Path(tmp) / "in.bundle"
        path.write_bytes(data)
        checked = await git.git(repo, "bundle", "verify", str(path), check=False)
        if not checked.ok:
            if _MISSING in checked.stderr:
                raise MissingPrerequisitesError(f"{repo} lacks commits the bundle builds on")
            raise GitError(f"not a valid git bundle: {checked.tail()}")
        heads = (await git.git(repo, "bundle", "list-heads", str(path))).stdout.split()
        if len(heads) != 2 or not heads[1].startswith(BUNDLE_REFS + "/"):
            raise GitError(f"not a prodigy bundle: it must carry one ref under {BUNDLE_REFS}/")
        await git.git(repo, "fetch", "--quiet", "--no-tags", str(path), f"+{heads[1]}:{into}")
    return (await git.git(repo, "rev-parse", "--verify", f"{into}^{{commit}}")).stdout.strip()


async def has_commit(repo: Path, commit: str) -> bool:
    result = await git.git(repo, "cat-file", "-e", f"{commit}^{{commit}}", check=False)
    return result.ok
