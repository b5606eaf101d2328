"""Finding a secret where it must not be: in prodigy's state files or in what it printed."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from urllib.parse import quote


def secret_forms(value: str) -> dict[str, bytes]:
    """The spellings a leaked value could take: raw, base64, URL-quoted, inside a JSON string."""
    return {
        "raw": value.encode(),
        "base64": base64.b64encode(value.encode()),
        "url": quote(value, safe="").encode(),
        "json": json.dumps(value)[1:-1].encode(),
    }


def state_files(home: Path) -> list[Path]:
    """Everything prodigy wrote under its home, except the worktrees (checkouts of the repo)."""
    found = []
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if Path(root, d) != home / "worktrees"]
        found += [Path(root, f) for f in files]
    return found


def find_leaks(values: dict[str, str], files: list[Path], texts: dict[str, str]) -> list[str]:
    """`NAME (FORM) in WHERE` for every form of every value found in `files` or `texts`."""
    blobs = {str(f): f.read_bytes() for f in files}
    blobs.update({name: text.encode() for name, text in texts.items()})
    return [
        f"{name} ({form}) in {where}"
        for name, value in values.items()
        for form, needle in secret_forms(value).items()
        for where, blob in blobs.items()
        if needle in blob
    ]
