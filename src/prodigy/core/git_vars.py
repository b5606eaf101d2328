"""Modifiers of the git context variables: `${step.files_added:*.md}`, `${workflow.commits:json}`.

A modifier list follows the variable after `:`; each is a format (`json`, `lines`/`newline`,
`csv`/`comma`, `space`) or a glob filter (`*.md`, `src/**`, `src/**/*.rs`). Filters keep the
paths that match any of them; the last format wins; the default format is space-separated.
A glob without `/` matches the file name in any directory; `**` crosses directories.
"""

from __future__ import annotations

import functools
import json
import re

PREFIXES = ("step.", "workflow.")
LISTS = frozenset({"files_added", "files_modified", "files_deleted", "files_changed", "commits"})
FORMATS = {
    "json": "json",
    "lines": "lines",
    "newline": "lines",
    "csv": "csv",
    "comma": "csv",
    "space": "space",
}


def takes_modifiers(path: str) -> bool:
    """Whether `${path:...}` is a git list variable with modifiers."""
    prefix, _, name = path.partition(".")
    return f"{prefix}." in PREFIXES and name in LISTS


def apply_modifiers(items: list[str], modifiers: tuple[str, ...]) -> str:
    """`items` filtered by the globs among `modifiers` and rendered in their format."""
    fmt = "space"
    globs: list[str] = []
    for modifier in modifiers:
        if modifier in FORMATS:
            fmt = FORMATS[modifier]
        elif modifier:
            globs.append(modifier)
    if globs:
        items = [item for item in items if any(glob_match(item, g) for g in globs)]
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False)
    if fmt == "lines":
        return "\n".join(items)
    if fmt == "csv":
        return ",".join(items)
    return " ".join(items)


def glob_match(path: str, pattern: str) -> bool:
    if "/" not in pattern:
        return _compiled(pattern).fullmatch(path.rsplit("/", 1)[-1]) is not None
    return _compiled(pattern).fullmatch(path) is not None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
