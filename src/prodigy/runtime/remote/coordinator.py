"""The coordinator's half of remote attempts: base bundles out, agents' bundles in.

What a node sends back is checked before it can reach the merge queue: the bundle must verify
against the coordinator's repository and bring exactly the commits the outcome names, on top
of the base the attempt was given. It lands in `refs/prodigy/incoming/<job>/<item>/<attempt>`;
the merge queue merges that ref with the item's trailer as it merges a local agent's branch.
Nodes never push.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from prodigy.core.errors import ProdigyError
from prodigy.core.mapreduce.results import AgentOutcome
from prodigy.runtime import git
from prodigy.runtime.remote.bundles import create_bundle, fetch_bundle
from prodigy.runtime.remote.task import RemoteResult

INCOMING = "refs/prodigy/incoming"


def incoming_ref(job_id: str, item_id: str, attempt: int) -> str:
    return f"{INCOMING}/{job_id}/{item_id}/{attempt}"


def is_incoming(ref: str | None) -> bool:
    return bool(ref) and str(ref).startswith(INCOMING + "/")


@dataclass(slots=True)
class JobBundles:
    """One job's bundles: the full history of `root` (made once, sent only to nodes that lack
    it) and, per base, the commits on top of root (usually a few merges: small)."""

    repo: Path
    root: str
    _full: bytes | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def full(self) -> bytes:
        async with self._lock:
            if self._full is None:
                self._full = await create_bundle(self.repo, self.root)
            assert self._full is not None
            return self._full

    async def incremental(self, base: str) -> bytes | None:
        return (
            None
            if base == self.root
            else await create_bundle(self.repo, base, exclude=(self.root,))
        )


async def receive(repo: Path, job_id: str, base: str, result: RemoteResult) -> AgentOutcome:
    """The attempt's outcome with its commits fetched into the incoming ref (named as the
    outcome's branch); a bundle that does not match fails the attempt, nothing is fetched."""
    outcome = AgentOutcome.from_json(result.outcome)
    outcome = replace(outcome, worktree_path=None, branch=None)
    if not outcome.ok or not outcome.commits:
        return outcome
    where = f"the bundle from node {result.node}"
    if result.bundle is None:
        return outcome.as_failed("worktree", f"{where} is missing: the agent's commits are lost")
    ref = incoming_ref(job_id, outcome.item_id, outcome.attempt)
    try:
        await fetch_bundle(repo, result.bundle, ref)
        brought = await git.rev_list(repo, base, ref)
    except ProdigyError as exc:
        await drop_incoming(repo, job_id, outcome.item_id)
        return outcome.as_failed("worktree", f"{where} was refused: {exc}")
    if set(brought) != set(outcome.commits):
        await drop_incoming(repo, job_id, outcome.item_id)
        return outcome.as_failed(
            "worktree", f"{where} does not hold the {len(outcome.commits)} commit(s) it reports"
        )
    return replace(outcome, branch=ref)


async def drop_incoming(repo: Path, job_id: str, item_id: str | None = None) -> None:
    """Delete the incoming refs of one item (every attempt) or of the whole job."""
    prefix = f"{INCOMING}/{job_id}/" + (f"{item_id}/" if item_id else "")
    listed = await git.git(repo, "for-each-ref", "--format=%(refname)", prefix, check=False)
    for ref in listed.stdout.split():
        await git.git(repo, "update-ref", "-d", ref, check=False)
