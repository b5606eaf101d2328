"""`prodigy worktree merge`: merge a session worktree that was kept unmerged.

Also how `prodigy resume` finishes a session whose merge was stopped (status `merging`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from prodigy.app.ids import resolve_session
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.session.execute import merge_and_clean
from prodigy.app.session.opening import reopen_session, stored_options
from prodigy.app.step_processes import stop_left_steps
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.core.records import RunStatus, SessionRecord
from prodigy.core.variables import Scope, env_values
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.store import Store, open_store

MERGEABLE = frozenset({RunStatus.COMPLETED, RunStatus.MERGING})


async def merge_kept_session(
    name: str, reporter: Reporter, env: Mapping[str, str], *, default_merge: bool = False
) -> int:
    """Merge session `name` (its id, or a prefix) into its target; `default_merge` uses
    prodigy's own merge even when the workflow has a `merge:` block."""
    home = prodigy_home(env)
    with open_store(home) as store:
        record = resolve_session(store, name)
        name = record.id
        if record.status not in MERGEABLE:
            raise UsageError(
                f"{name} is {record.status}, not completed; finish it first with "
                f"`prodigy resume {name}`"
            )
        with acquire_lock(
            lock_path(locks_dir(home), record.id),
            owner=f"prodigy worktree merge {record.id}",
            subject=record.id,
        ):
            return await merge_recorded(store, record, reporter, env, default_merge=default_merge)


async def merge_recorded(
    store: Store,
    record: SessionRecord,
    reporter: Reporter,
    env: Mapping[str, str],
    *,
    default_merge: bool = False,
) -> int:
    """Merge a completed (or stopped while merging) session; the caller holds its lock."""
    worktree = Path(str(record.worktree_path))
    if not worktree.exists():
        raise UsageError(f"the worktree of {record.id} is gone ({worktree}); nothing to merge")
    options = stored_options(store, record, yes=True)
    checkpoint = store.checkpoints.latest(record.id, unmasked=True)
    scope = Scope(checkpoint.variables if checkpoint else {}).with_values(env_values(env))
    # The merge steps see the workflow's environment as the run did (secrets, profile...).
    setup, scope = await reopen_session(
        store, record, options, reporter, env, saved=scope, check_agent=False
    )
    if record.status is RunStatus.MERGING:
        reporter.emit(Note("info", f"Finishing the merge of {record.id} into {setup.target}"))
    await stop_left_steps(store, record.id, reporter, setup.config.grace_period)
    return await merge_and_clean(
        setup, setup.context(reporter), scope, reporter, default_merge=default_merge
    )
