"""Injected storage faults for the reliability suite: `PRODIGY_FAULT=ENOSPC|EIO@<op>:<n>`.

`PRODIGY_FAULT=ENOSPC@commit:3` makes the third transaction commit of the process fail as a
full disk would; `EIO@commit:1` as an I/O error would. The variable is read once, at the
first check; unset (the normal case) every check is a no-op.

The fault is raised as the `sqlite3.OperationalError` SQLite itself raises for SQLITE_FULL
and SQLITE_IOERR (the errno never reaches Python through sqlite3), so the product code under
test takes exactly the path a real full disk would make it take.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from prodigy.core.errors import ConfigError

VARIABLE = "PRODIGY_FAULT"
OPERATIONS = ("commit",)
# What sqlite3 says for SQLITE_FULL and SQLITE_IOERR (sqlite3_errstr)
_MESSAGES = {"ENOSPC": "database or disk is full", "EIO": "disk I/O error"}
_SPEC = re.compile(r"(?P<kind>ENOSPC|EIO)@(?P<op>[a-z]+):(?P<n>[1-9][0-9]*)")


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # ENOSPC or EIO
    operation: str
    nth: int


def parse(text: str | None) -> Fault | None:
    """The fault a `PRODIGY_FAULT` value asks for; None when unset or empty."""
    if not text:
        return None
    found = _SPEC.fullmatch(text.strip())
    if found is None or found["op"] not in OPERATIONS:
        raise ConfigError(
            f"{VARIABLE}={text!r} is not a fault: use ENOSPC|EIO@<op>:<n> with op one of "
            f"{', '.join(OPERATIONS)} and n >= 1 (e.g. ENOSPC@commit:3), or unset it"
        )
    return Fault(found["kind"], found["op"], int(found["n"]))


class _Injector:
    """Counts the operations of this process and fails the n-th one named by the fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False
        self._fault: Fault | None = None
        self._count = 0

    def check(self, operation: str, path: Path) -> None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self._fault = parse(os.environ.get(VARIABLE))
            fault = self._fault
            if fault is None or fault.operation != operation:
                return
            self._count += 1
            if self._count != fault.nth:
                return
        raise sqlite3.OperationalError(
            f"{_MESSAGES[fault.kind]} (injected by {VARIABLE}={fault.kind}@{operation}:"
            f"{fault.nth} at {path})"
        )


_INJECTOR = _Injector()


def check(operation: str, path: Path) -> None:
    """Raise the injected fault if this is the operation `PRODIGY_FAULT` names; else nothing."""
    _INJECTOR.check(operation, path)
