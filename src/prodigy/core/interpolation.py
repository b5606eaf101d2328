"""`${...}` placeholders: parsing, variable lookup, value rendering, plain-text interpolation.

Grammar (docs/interpolation.md, with undefined references kept verbatim instead of re-braced):
`${path}`, `${path:-default}` and bare `$NAME`. A path is dotted names with `[N]` indexes
(`item.tags[0].name`). `$$` is one token (the shell's PID), so `$$NAME` is never a placeholder;
`$1`, `$?`, `$@`, `$(...)` and `$'...'` never match. Bare `$NAME` is substituted only when
`NAME` is a defined variable; otherwise it belongs to the shell and stays as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodigy.core.git_vars import apply_modifiers, takes_modifiers

if TYPE_CHECKING:
    from prodigy.core.variables import JsonValue, Scope

# `$$` first so that `$$NAME` is consumed as the PID followed by literal text.
TOKEN = re.compile(r"\$\$|\$\{(?P<body>[^}]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_PATH = re.compile(rf"{_NAME}(?:\.{_NAME}|\[\d+\])*")
_SEGMENT = re.compile(rf"(?P<name>{_NAME})|\[(?P<index>\d+)\]")

Segment = str | int


@dataclass(frozen=True)
class Placeholder:
    """One `${path}`, `${path:-default}` or `$NAME` in a template, with its span."""

    text: str
    path: str
    default: str | None
    start: int
    end: int
    braced: bool
    modifiers: tuple[str, ...] = ()  # `${step.files_added:*.md:json}` (core/git_vars.py)

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def parse_placeholder(match: re.Match[str]) -> Placeholder | None:
    """The placeholder a `TOKEN` match stands for, or None (`$$`, `${#x}`, `${x%y}` ...)."""
    bare = match.group("bare")
    if bare is not None:
        return Placeholder(match.group(0), bare, None, match.start(), match.end(), braced=False)
    body = match.group("body")
    if body is None:
        return None
    path, sep, default = body.partition(":-")
    modifiers: tuple[str, ...] = ()
    if not sep and ":" in path:
        base, _, rest = path.partition(":")
        if takes_modifiers(base):
            path, modifiers = base, tuple(rest.split(":"))
    if not _PATH.fullmatch(path):
        return None
    return Placeholder(
        match.group(0),
        path,
        default if sep else None,
        match.start(),
        match.end(),
        braced=True,
        modifiers=modifiers,
    )


def placeholders(template: str) -> list[Placeholder]:
    """Every placeholder in `template`, in order (bare ones included, defined or not)."""
    found = (parse_placeholder(m) for m in TOKEN.finditer(template))
    return [p for p in found if p is not None]


def split_path(path: str) -> tuple[Segment, ...]:
    """`item.tags[0]` -> ("item", "tags", 0)."""
    return tuple(
        int(m.group("index")) if m.group("index") is not None else m.group("name")
        for m in _SEGMENT.finditer(path)
    )


def lookup(scope: Scope, path: str) -> tuple[bool, JsonValue]:
    """Resolve `path`: the longest dotted prefix stored flat wins, then walk objects/lists."""
    segments = split_path(path) if _PATH.fullmatch(path) else ()
    names = 0
    while names < len(segments) and isinstance(segments[names], str):
        names += 1
    for cut in range(names, 0, -1):
        key = ".".join(str(s) for s in segments[:cut])
        if key in scope:
            found, value = _walk(scope[key], segments[cut:])
            if found:
                return True, value
    return False, None


def _walk(value: JsonValue, segments: Sequence[Segment]) -> tuple[bool, JsonValue]:
    for segment in segments:
        if isinstance(value, Mapping) and isinstance(segment, str) and segment in value:
            value = value[segment]
        elif (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and (isinstance(segment, int) or segment.isdigit())
            and int(segment) < len(value)
        ):
            value = value[int(segment)]
        else:
            return False, None
    return True, value


def render_json(value: JsonValue) -> str:
    """Compact JSON, keys sorted (as prodigy's serde_json renders objects), UTF-8 kept."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def render(value: JsonValue) -> str:
    """Text of a value: strings as-is; numbers, bools, null, lists, objects as compact JSON."""
    return value if isinstance(value, str) else render_json(value)


def resolve(placeholder: Placeholder, scope: Scope) -> tuple[bool, JsonValue]:
    """Value of one placeholder; bare `$NAME` only resolves a defined top-level name."""
    if not placeholder.braced and placeholder.path not in scope:
        return False, None
    found, value = lookup(scope, placeholder.path)
    if found and placeholder.modifiers:
        items = [render(v) for v in value] if isinstance(value, list) else render(value).split()
        return True, apply_modifiers(items, placeholder.modifiers)
    return found, value


def interpolate(template: str, scope: Scope) -> str:
    """Plain-text interpolation for prompts, messages and paths; undefined stays verbatim."""
    return interpolate_spans(template, scope)[0]


def interpolate_spans(template: str, scope: Scope) -> tuple[str, tuple[tuple[int, int], ...]]:
    """`interpolate`, plus the [start, end) ranges of the result that are values (data).
    Defaults (`${x:-text}`) and undefined placeholders are the template's own text."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    position, last = 0, 0
    for placeholder in placeholders(template):
        head = template[last : placeholder.start]
        out.append(head)
        position += len(head)
        found, value = resolve(placeholder, scope)
        if found:
            text = render(value)
            if text:
                spans.append((position, position + len(text)))
        else:
            text = placeholder.text if placeholder.default is None else placeholder.default
        out.append(text)
        position += len(text)
        last = placeholder.end
    out.append(template[last:])
    return "".join(out), tuple(spans)


def undefined_placeholders(template: str, scope: Scope) -> list[str]:
    """Paths of `${...}` without default that `scope` cannot resolve (unique, in order).

    Bare `$NAME` is never reported: an undefined one is the shell's variable, not a mistake.
    """
    missing: list[str] = []
    for placeholder in placeholders(template):
        if (
            placeholder.braced
            and placeholder.default is None
            and not resolve(placeholder, scope)[0]
            and placeholder.path not in missing
        ):
            missing.append(placeholder.path)
    return missing
