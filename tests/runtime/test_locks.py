"""Kernel locks with a real second process holding them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.errors import LockedError
from prodigy.runtime.locks import (
    FileLock,
    UnsafeLockNameError,
    acquire_lock,
    holder,
    lock_path,
    read_holder,
)

HOLDER = """
import sys, time
from pathlib import Path
from prodigy.runtime.locks import acquire_lock
handle = acquire_lock(Path(sys.argv[1]), owner="prodigy run session-x")
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    path = tmp_path / "locks" / "session-x.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    yield path, proc
    proc.kill()
    proc.wait()


def test_held_lock_is_refused_naming_the_holder(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    path, proc = held
    start = time.monotonic()
    with pytest.raises(LockedError) as info:
        acquire_lock(path, owner="prodigy resume session-x", subject="Session session-x")
    assert time.monotonic() - start < 30  # refused at once: the holder never lets go
    message = str(info.value)
    assert message.startswith("Session session-x is locked by a running prodigy (pid ")
    assert f"pid {proc.pid}" in message and "wait for it" in message
    info_now = holder(path)
    assert info_now is not None and info_now.pid == proc.pid
    assert info_now.owner == "prodigy run session-x"


def test_a_killed_holder_frees_the_lock(held: tuple[Path, subprocess.Popen[str]]) -> None:
    path, proc = held
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert holder(path) is None  # the kernel released it; the stale file does not matter
    with acquire_lock(path, owner="prodigy resume session-x") as handle:
        assert handle.held and read_holder(path).pid == os.getpid()
    assert not handle.held and holder(path) is None


def test_release_lets_the_next_one_in_and_empties_the_file(tmp_path: Path) -> None:
    path = tmp_path / "job.lock"
    with FileLock(path, owner="me"):
        assert read_holder(path).owner == "me"
        with pytest.raises(LockedError, match=f"pid {os.getpid()}"):
            acquire_lock(path, owner="me again")  # not reentrant: one writer, even here
    assert path.read_text() == ""
    handle = acquire_lock(path, owner="next")
    handle.release()
    handle.release()  # twice is fine


@pytest.mark.parametrize("content", ["", "{", "[1, 2]", '{"pid": "x", "host": 3}', "\x00\xff"])
def test_empty_partial_or_garbage_content_is_tolerated(tmp_path: Path, content: str) -> None:
    path = tmp_path / "job.lock"
    path.write_text(content, encoding="latin-1")
    info = read_holder(path)
    assert info.pid is None and info.host is None
    assert info.describe() == "pid unknown"
    with acquire_lock(path, owner="me"):  # bogus metadata never blocks anyone
        assert read_holder(path).pid == os.getpid()


def test_missing_lock_file_has_no_holder(tmp_path: Path) -> None:
    assert holder(tmp_path / "none.lock") is None


def test_lock_file_is_private(tmp_path: Path) -> None:
    with acquire_lock(tmp_path / "d" / "x.lock", owner="me"):
        assert (tmp_path / "d" / "x.lock").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "a/b", "", ".hidden", "-flag", "x" * 129, "sp ace", "é"]
)
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeLockNameError, match="invalid id"):
        lock_path(tmp_path, name)


def test_safe_names_map_inside_the_directory(tmp_path: Path) -> None:
    for name in ("session-1a2b", "mapreduce-20260101_120000", "job.v2", "A" * 128):
        assert lock_path(tmp_path, name) == tmp_path / f"{name}.lock"


@given(st.text(max_size=140))
def test_any_name_is_refused_or_stays_a_direct_child(name: str) -> None:
    base = Path("/locks")
    try:
        path = lock_path(base, name)
    except UnsafeLockNameError:
        return
    assert path.parent == base and path.name == f"{name}.lock" and ".." not in path.parts
