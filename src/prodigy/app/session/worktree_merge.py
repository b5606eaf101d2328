"""`prodigy worktree merge`: merge a session worktree that was kept unmerged."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from prodigy.app.ids import resolve_session
from prodigy.app.paths import locks_dir, prodigy_home
from prodigy.app.session.execute import merge_and_clean
from prodigy.app.session.opening import reopen_session, stored_options
from prodigy.core.errors import UsageError
from prodigy.core.progress import Reporter
from prodigy.core.records import RunStatus
from prodigy.core.variables import Scope, env_values
from prodigy.runtime.locks import acquire_lock, lock_path
from prodigy.store import open_store


async def merge_kept_session(name: str, reporter: Reporter, env: Mapping[str, str]) -> int:
    """Merge session `name` (its id, which is also its worktree's name) into its target."""
    home = prodigy_home(env)
    with open_store(home) as store:
        record = resolve_session(store, name)
        name = record.id
        if record.status is not RunStatus.COMPLETED:
            raise UsageError(
                f"{name} is {record.status}, not completed; finish it first with "
                f"`prodigy resume {name}`"
            )
        worktree = Path(str(record.worktree_path))
        if not worktree.exists():
            raise UsageError(f"the worktree of {name} is gone ({worktree}); nothing to merge")
        options = stored_options(store, record, yes=True)
        checkpoint = store.checkpoints.latest(record.id, unmasked=True)
        scope = Scope(checkpoint.variables if checkpoint else {}).with_values(env_values(env))
        with acquire_lock(
            lock_path(locks_dir(home), record.id),
            owner=f"prodigy worktree merge {record.id}",
            subject=record.id,
        ):
            # The merge steps see the workflow's environment as the run did (secrets, profile...).
            setup, scope = await reopen_session(
                store, record, options, reporter, env, saved=scope, check_agent=False
            )
            return await merge_and_clean(setup, setup.context(reporter), scope, reporter)
