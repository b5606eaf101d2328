"""The Store: one open database and a typed accessor per table group."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prodigy.core.clock import Clock, utc_now
from prodigy.core.masking import Masker
from prodigy.store.checkpoints import Checkpoints
from prodigy.store.db import DEFAULT_BUSY_TIMEOUT_S, Db, connect
from prodigy.store.dlq import Dlq
from prodigy.store.events import Events
from prodigy.store.items import Items
from prodigy.store.jobs import Jobs
from prodigy.store.repos import Repos
from prodigy.store.sessions import Sessions
from prodigy.store.step_processes import StepProcesses
from prodigy.store.usage import UsageLog
from prodigy.store.worktrees import Worktrees


class Store:
    """State of every session, job, item, DLQ entry, event and worktree.

    Every accessor writes through the store's one Masker, so a caller cannot forget to mask.
    """

    def __init__(self, db: Db) -> None:
        self._db = db
        self.repos = Repos(db)
        self.sessions = Sessions(db)
        self.checkpoints = Checkpoints(db)
        self.usage = UsageLog(db)
        self.jobs = Jobs(db)
        self.items = Items(db)
        self.dlq = Dlq(db)
        self.events = Events(db)
        self.worktrees = Worktrees(db)
        self.step_processes = StepProcesses(db)

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def masker(self) -> Masker:
        """The masker every write goes through; use it for logs and terminal output too."""
        return self._db.masker

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Masks these values in every later write (e.g. once the workflow's secrets are known)."""
        self._db.add_secrets(tuple(secrets))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Groups several writes into one atomic transition (e.g. an item change and its event)."""
        with self._db.transaction():
            yield

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_store(
    home: Path,
    *,
    masker: Masker | None = None,
    clock: Clock = utc_now,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
) -> Store:
    """Opens (creating or migrating) `<home>/prodigy.db`.

    Raises StoreError, leaving the file untouched, if it is corrupt or newer than this code.
    """
    return Store(connect(home, masker or Masker(), clock, busy_timeout_s))
