"""Named crash points for the reliability tests: `PRODIGY_CRASH_AT=<point>:<n>[,<point>:<n>]`.

At the n-th pass of a named point the process dies at once with `os._exit(137)`, as a
SIGKILL would leave it: no finally blocks, no flushing, no lock release by us (the kernel
drops flocks). Unset, every call is a dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
from collections import Counter

_ENV = "PRODIGY_CRASH_AT"
_EXIT = 137  # 128 + SIGKILL, what a killed process reports


def _parse(text: str) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for part in text.split(","):
        name, _, count = part.strip().rpartition(":")
        if name and count.isdigit():
            wanted[name] = int(count)
    return wanted


_WANTED = _parse(os.environ.get(_ENV, ""))  # read once: tests set it per process
_PASSES: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here if `PRODIGY_CRASH_AT` names this point and this is its n-th pass."""
    if name not in _WANTED:
        return
    _PASSES[name] += 1
    if _PASSES[name] == _WANTED[name]:
        os._exit(_EXIT)
