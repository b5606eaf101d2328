"""Work items are checked once, when the map input is read (issue 12 item 10).

Every later layer (the store's UTF-8 encoding, JSON encoders, the shell) would otherwise
fail on the same value one item at a time, after a session and its worktree exist.
"""

from __future__ import annotations

import json

from prodigy.core.errors import UsageError

MAX_ITEM_DEPTH = 100  # nesting levels of one input document; real items use a handful


class BadItemsError(UsageError):
    """The map input cannot be items: nothing was started for it."""


def load_json(text: str, source: str) -> object:
    """`json.loads` with deep nesting reported as a one-line error, not a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise _too_deep(source) from None


def check_items(document: object, source: str) -> None:
    """Refuse a document nested deeper than MAX_ITEM_DEPTH or holding text that is not
    Unicode (a lone surrogate from a `\\ud800` escape): no store, log or shell can hold it."""
    stack: list[tuple[object, int, str]] = [(document, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_ITEM_DEPTH:
            raise _too_deep(source)
        if isinstance(value, str):
            _check_text(value, source, path)
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, dict):
            for key, v in value.items():
                _check_text(str(key), source, f"{path}.{key!r}")
                stack.append((v, depth + 1, f"{path}.{key}"))


def _check_text(text: str, source: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        where = path.lstrip(".") or "the document"
        bad = ascii(text[exc.start : exc.end])
        raise BadItemsError(
            f"map.input {source}: the value at {where} holds {bad}, a lone surrogate that is "
            "not Unicode text (a \\ud800-style JSON escape without its pair); fix the input"
        ) from None


def _too_deep(source: str) -> BadItemsError:
    return BadItemsError(
        f"map.input {source} is nested more than {MAX_ITEM_DEPTH} levels deep; flatten the items"
    )
