"""The live processes we may inspect, read from /proc (Linux)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ProcInfo:
    pid: int
    comm: str
    pgrp: int
    start_ticks: int  # clock ticks after boot: with the pid, names one process for good
    cwd: Path | None
    environ: bytes

    def has_variable(self, assignment: str) -> bool:
        """True when `NAME=value` is exactly one entry of the process's environment."""
        return assignment.encode() in self.environ.split(b"\0")


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, pgrp, ...], None when gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_ticks(pid: int) -> int | None:
    """When process `pid` started (field 22 of /proc/<pid>/stat), None when it is gone."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def live_processes() -> list[ProcInfo]:
    """Every process but ourselves and zombies, with what we are allowed to read of it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        fields = stat_fields(int(entry.name))
        if not fields or len(fields) < 20 or fields[0] in {"Z", "X"}:
            continue
        try:  # any bytes: processes retitle themselves (Ray's workers do)
            comm = (entry / "comm").read_bytes().decode(errors="replace").strip()
        except OSError:
            continue
        cwd: Path | None = None
        environ = b""
        with contextlib.suppress(OSError):
            cwd = (entry / "cwd").readlink()
        with contextlib.suppress(OSError):
            environ = (entry / "environ").read_bytes()
        found.append(ProcInfo(int(entry.name), comm, int(fields[2]), int(fields[19]), cwd, environ))
    return found
