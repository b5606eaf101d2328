"""Files only the user can read: logs under $PRODIGY_HOME hold agent output and item data.

Directories are created 0700 (every missing level, unlike `mkdir -p`, which gives the
parents the umask's mode) and files 0600, whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` and its missing parents, each created with mode 0700; existing ones untouched."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
    return path


def open_private(path: Path) -> IO[str]:
    """`path` truncated and opened for writing text (created 0600, missing parents 0700)."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    return open(os.open(path, flags, FILE_MODE), "w", encoding="utf-8")  # noqa: PTH123 - Path.open cannot take an fd


def write_private(path: Path, text: str) -> None:
    """Replace the contents of `path` with `text`, as a private file."""
    with open_private(path) as handle:
        handle.write(text)
