"""Opening the state database: checks, pragmas, migrations, transactions, masking, clock."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prodigy.core.clock import Clock, format_ts
from prodigy.core.errors import StoreError
from prodigy.core.masking import Masker
from prodigy.store import faults
from prodigy.store.migrations import MIGRATIONS, SCHEMA_VERSION
from prodigy.store.sealing import Sealer, key_path

DB_NAME = "prodigy.db"
DEFAULT_BUSY_TIMEOUT_S = 10.0
_SQLITE_HEADER = b"SQLite format 3\x00"
_HEADER_SIZE = 100


class Db:
    """One connection plus the masker and clock every write goes through.

    Writes happen only inside `transaction()`, which takes the write lock up front
    (BEGIN IMMEDIATE) so two processes never deadlock upgrading a read to a write.
    """

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        masker: Masker,
        clock: Clock,
        *,
        read_only: bool = False,
    ) -> None:
        self.path = path
        self.read_only = read_only  # the home is not writable: reads work, writes refuse
        self._conn = conn
        self._masker = masker
        self._clock = clock
        self._sealer = Sealer(key_path(path.parent))
        self._lock = threading.RLock()
        self._depth = 0

    # --- masking: the only way values reach a write statement -------------------------------
    @property
    def masker(self) -> Masker:
        return self._masker

    def add_secrets(self, secrets: list[str] | tuple[str, ...]) -> None:
        """Masks these values too in every later write."""
        self._masker.add(secrets)  # in place: step contexts share this masker

    def text(self, value: str | None) -> str | None:
        return None if value is None else self._masker.text(value)

    def json(self, value: Any) -> str:
        return json.dumps(self._masker.value(value), ensure_ascii=False)

    def json_sealed(self, value: Any, context: str) -> tuple[str, bytes | None]:
        """The masked JSON text, and a sealed copy of the real JSON when masking changed it
        (None when nothing was masked: most values never need the key)."""
        masked = self.json(value)
        real = json.dumps(value, ensure_ascii=False)
        return masked, None if real == masked else self._sealer.seal(real, context)

    def unsealed_json(self, masked: str, sealed: bytes | None, context: str, what: str) -> Any:
        """The real value for re-execution: the sealed copy if there is one, else the stored
        text (which then held no secret). Never show it: it is not masked."""
        if sealed is None:
            return json.loads(masked)
        return json.loads(self._sealer.unseal(sealed, context, what))

    def now(self) -> str:
        return format_ts(self._clock())

    # --- statements ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit; nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield self._conn
                faults.check("commit", self.path)  # a no-op unless PRODIGY_FAULT is set
                self._conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite may already have rolled back by itself (e.g. on a full disk)
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self.error("write", exc) from exc
                if isinstance(exc, UnicodeEncodeError):  # a lone surrogate in a bound value
                    raise StoreError(
                        f"{self.path}: could not write: a value is not Unicode text "
                        f"({exc.object[exc.start : exc.end]!a}, a lone surrogate)"
                    ) from None
                raise
            finally:
                self._depth = 0

    def _begin(self) -> None:
        if self.read_only:
            raise StoreError(
                f"{self.path}: cannot write: {self.path.parent} is read-only; this command "
                "records state, so make it writable or set PRODIGY_HOME to a writable directory"
            )
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.error("begin a write", exc) from exc

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self.error("read", exc) from exc

    def error(self, what: str, exc: sqlite3.Error) -> StoreError:
        if "locked" in str(exc) or "busy" in str(exc):
            return StoreError(
                f"{self.path}: could not {what}: another prodigy process kept the database busy "
                f"for longer than the timeout; wait for it to finish and retry"
            )
        return StoreError(f"{self.path}: could not {what}: {exc}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def connect(home: Path, masker: Masker, clock: Clock, busy_timeout_s: float) -> Db:
    """Checks, then opens and migrates `<home>/prodigy.db`; never modifies a file it refuses."""
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{home}: cannot create the prodigy home directory: {exc}") from exc
    path = home / DB_NAME
    _check_existing(path, busy_timeout_s)
    if not _writable(home, path):
        return _connect_read_only(path, masker, clock, busy_timeout_s)
    conn = sqlite3.connect(
        path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    if path.stat().st_mode & 0o777 != 0o600:  # a chmod moves ctime: only when needed
        path.chmod(0o600)
    db = Db(path, conn, masker, clock)
    try:
        _configure(conn)
        _migrate(db, conn)
    except sqlite3.Error as exc:
        conn.close()
        raise db.error("open", exc) from exc
    except BaseException:
        conn.close()
        raise
    return db


def _writable(home: Path, path: Path) -> bool:
    # access() reports a read-only file system (EROFS) and missing permissions alike
    return os.access(home, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _connect_read_only(path: Path, masker: Masker, clock: Clock, busy_timeout_s: float) -> Db:
    """A home we cannot write (a read-only mount, say): reading commands still work; the
    first write raises a one-line StoreError. No chmod, no migration, no side files."""
    if not path.exists():  # nothing recorded yet: an empty in-memory store to read from
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        _migrate(Db(path, conn, masker, clock), conn)
        return Db(path, conn, masker, clock, read_only=True)
    wal = path.with_name(path.name + "-wal")
    # Without a -wal file no process is writing, and SQLite could not create its -shm here.
    uri = f"{path.resolve().as_uri()}?{'mode=ro' if wal.exists() else 'immutable=1'}"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the read-only database: {exc}") from exc
    if version != SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: the database needs an upgrade (schema {version} -> {SCHEMA_VERSION}), "
            f"which a read-only {path.parent} does not allow; make it writable once"
        )
    return Db(path, conn, masker, clock, read_only=True)


def _check_existing(path: Path, busy_timeout_s: float) -> None:
    """Refuses a corrupt or newer database, reading it through a read-only connection."""
    fix = f"move it aside (e.g. `mv {path} {path}.broken`) and run again to start a fresh one"
    try:
        with path.open("rb") as handle:
            header = handle.read(_HEADER_SIZE)
            size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        return
    except OSError as exc:  # a directory or an unreadable file where the database should be
        raise StoreError(f"{path}: cannot read the database ({exc.strerror}); {fix}") from exc
    if not header:
        return  # an empty file is a new database
    if not header.startswith(_SQLITE_HEADER):
        raise StoreError(f"{path}: not a SQLite database (corrupt?); {fix}")
    # A database file is whole pages; SQLite itself would read a cut-off tail as zeros.
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if len(header) < _HEADER_SIZE or not page_size or size % page_size:
        raise StoreError(f"{path}: truncated ({size} bytes is not a whole number of pages); {fix}")
    stamp = _file_stamp(path)
    if _checked_stamp(path) == stamp:
        return  # unchanged since its last check (the schema version is checked again below)
    # With no -wal file no process has the database open, so read it as immutable: that
    # creates no -wal/-shm side files next to a file we may be about to refuse.
    wal = path.with_name(path.name + "-wal")
    uri = f"{path.resolve().as_uri()}?{'mode=ro' if wal.exists() else 'immutable=1'}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open: {exc}; {fix}") from exc
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: schema version {version} is newer than this prodigy understands "
                f"({SCHEMA_VERSION}); upgrade prodigy, or set PRODIGY_HOME to another directory"
            )
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise StoreError(f"{path}: integrity check failed: {'; '.join(problems[:3])}; {fix}")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: unreadable database ({exc}); {fix}") from exc
    finally:
        conn.close()
    _remember_check(path, stamp)


# `PRAGMA quick_check` reads every page: 60-240 ms for a store of 100,000 events, on every
# command. The file's identity when it last passed is kept beside it, and a file with the
# same size, inode, mtime and ctime (a change of content or mode moves these) is not read
# again. Writers change the file at WAL checkpoints, so it is checked again after them.
_CHECKED_SUFFIX = ".checked"


def _file_stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size} {st.st_ino} {st.st_mtime_ns} {st.st_ctime_ns}"


def _checked_stamp(path: Path) -> str | None:
    try:
        return path.with_name(path.name + _CHECKED_SUFFIX).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def _remember_check(path: Path, stamp: str) -> None:
    """Best effort (a read-only home just checks every time); written whole, then renamed."""
    if not os.access(path.parent, os.W_OK):
        return
    target = path.with_name(path.name + _CHECKED_SUFFIX)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(stamp)
        temp.replace(target)
    except OSError:
        with contextlib.suppress(OSError):  # EROFS even for a file that is not there
            temp.unlink(missing_ok=True)


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed state transition survives power loss, not only a process crash.
    # Measured 0.24-3 ms per commit (on the development VM under load), against seconds
    # to minutes per agent step, so the cost is not worth trading for durability.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")


def _migrate(db: Db, conn: sqlite3.Connection) -> None:
    """Applies each pending migration in its own transaction, re-reading the version inside."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return  # up to date: no write transaction (a reading command never waits for a writer)
    for version, statements in enumerate(MIGRATIONS, start=1):
        with db.transaction():
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{db.path}: another process upgraded the schema to {current}; upgrade prodigy"
                )
            if current >= version:
                continue
            try:
                for statement in statements:
                    conn.execute(statement)
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{db.path}: migrating the schema from version {current} to {version} "
                    f"failed ({exc}); nothing was changed. Move the file aside to start a fresh "
                    f"database, or report this with the file attached"
                ) from exc
            conn.execute(f"PRAGMA user_version = {version}")
