"""Whether a workflow reads the git context variables at all (they cost git processes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from prodigy.core.interpolation import placeholders


def _strings(value: object) -> Iterator[str]:
    """Every string inside a workflow model value (dataclasses, mappings, sequences)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _strings(getattr(value, item.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def uses_git_variables(workflow: object) -> bool:
    """Whether any string of the workflow refers to `${step.*}` or `${workflow.*}`.

    Computing them costs four git processes per step, so runs that never read them skip it.
    """
    families = ("step.", "workflow.")
    return any(
        placeholder.path.startswith(families)
        for text in _strings(workflow)
        if "$" in text
        for placeholder in placeholders(text)
    )
