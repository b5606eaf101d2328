"""Where a program named without a directory lives on a PATH, looked up once per process.

Given a bare name, the child of a spawn tries `execve` in each PATH directory in turn, and the
event loop that spawned it is suspended (vfork) until one succeeds: about 1 ms per spawn on
an 11-entry PATH, for some ten git processes per work item (issue 18). The full path, found
once and passed as `executable`, starts the same program with the same argv.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

_FOUND: dict[tuple[str, str], str] = {}


def resolve(program: str, env: Mapping[str, str]) -> str | None:
    """The executable `program` names on `env`'s PATH; None to leave the search to exec.

    None for a name with a slash (no search happens), a PATH with a relative or empty entry
    (the child searches it from its own working directory, not ours), and a program not
    found (exec reports that as it always did).
    """
    if "/" in program:
        return None
    path = env.get("PATH", os.defpath)
    if any(not entry.startswith("/") for entry in path.split(os.pathsep)):
        return None
    key = (program, path)
    found = _FOUND.get(key)
    if found is not None and os.access(found, os.X_OK):
        return found
    # a program installed since (earlier on PATH) is not seen until the cached one goes away
    found = shutil.which(program, path=path)
    if found is None:
        _FOUND.pop(key, None)
        return None
    _FOUND[key] = found
    return found
