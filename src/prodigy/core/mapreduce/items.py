"""The map-phase work-item pipeline.

json_path -> filter -> sort_by -> distinct -> offset -> max_items:

    select_items(document, ItemSelection(json_path="$.items[*]", filter="score >= 5",
                                         sort_by="score DESC", max_items=10))

Pure and deterministic; the filter and sort keys are compiled once per call.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeGuard

import jsonpath

from prodigy.core.errors import UsageError
from prodigy.core.expr import parse
from prodigy.core.expr.lexer import ExpressionError
from prodigy.core.expr.parser import path_segments
from prodigy.core.expr.sort import SortKey, parse_sort_keys, sort_items
from prodigy.core.expr.values import compile_path, distinct_key


@dataclass(frozen=True)
class ItemSelection:
    """The item-selection keys of a `map:` block; None/0 means "not set"."""

    json_path: str | None = None
    filter: str | None = None
    sort_by: str | None = None
    distinct: str | None = None
    offset: int = 0
    max_items: int | None = None

    def __post_init__(self) -> None:
        if self.offset < 0:
            raise UsageError(f"map.offset must be 0 or more, got {self.offset}")
        if self.max_items is not None and self.max_items < 0:
            raise UsageError(f"map.max_items must be 0 or more, got {self.max_items}")


def check_selection(spec: ItemSelection) -> None:
    """Parse every expression of `spec` so that syntax errors surface before any work runs."""
    if _given(spec.json_path):
        _compiled_json_path(spec.json_path.strip())
    if _given(spec.filter):
        parse(spec.filter)
    if _given(spec.sort_by):
        _sort_keys(spec.sort_by)
    if _given(spec.distinct):
        _distinct_path(spec.distinct)


def select_items(data: object, spec: ItemSelection) -> list[object]:
    """The work items `spec` selects from the input document `data`."""
    items = select_by_json_path(data, spec.json_path)
    if _given(spec.filter):
        predicate = parse(spec.filter).predicate
        items = [item for item in items if predicate(item)]
    if _given(spec.sort_by):
        items = sort_items(items, _sort_keys(spec.sort_by))
    if _given(spec.distinct):
        items = list(_first_of_each(items, spec.distinct))
    end = None if spec.max_items is None else spec.offset + spec.max_items
    return items[spec.offset : end]


def select_by_json_path(data: object, path: str | None) -> list[object]:
    """Without a path: an array document is the item list, anything else is one item."""
    if not _given(path):
        return list(data) if isinstance(data, list) else [data]
    simple = _SIMPLE_PATH.fullmatch(path.strip())
    if simple is not None:
        return _every_child(data, simple.group(1).split(".")[1:])
    return list(_compiled_json_path(path.strip()).findall(data))  # type: ignore[arg-type]


# `$.a.b[*]`, the usual form, is walked directly: python-jsonpath builds a match object per
# item, a quarter of the planning time of 100,000 items (benchmarks/bench_planning.py).
_SIMPLE_PATH = re.compile(r"\$((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\[\*\]")


def _every_child(data: object, keys: list[str]) -> list[object]:
    """What `$.<keys>[*]` finds: the elements of a list, the values of an object, else none."""
    node = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return []
        node = node[key]
    if isinstance(node, list):
        return list(node)
    if isinstance(node, dict):
        return list(node.values())
    return []


def _given(text: str | None) -> TypeGuard[str]:
    return text is not None and text.strip() != ""


@functools.lru_cache(maxsize=64)
def _sort_keys(text: str) -> tuple[SortKey, ...]:
    return parse_sort_keys(text)


def _distinct_path(text: str) -> tuple[str | int, ...]:
    segments = path_segments(text.strip())
    if not segments or not isinstance(segments[0], str):
        raise ExpressionError(text, 0, "invalid distinct: expected a field path like meta.id")
    return segments


def _first_of_each(items: Iterable[object], path: str) -> Iterable[object]:
    get = compile_path(_distinct_path(path))
    seen: set[object] = set()
    for item in items:
        key = distinct_key(get(item))
        if key not in seen:
            seen.add(key)
            yield item


# prodigy's own filter form: exactly `[?(FIELD OP VALUE)]`, `=` allowed, bare-word values.
_PRODIGY_FILTER = re.compile(r"\[\?\(\s*(\S+)\s+(==|=|!=|>=|<=|>|<)\s+(\S+)\s*\)\]")
_JSON_SCALAR = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|'.*'|\".*\"")


@functools.lru_cache(maxsize=64)
def _compiled_json_path(path: str) -> jsonpath.JSONPath | jsonpath.CompoundJSONPath:
    rewritten = _PRODIGY_FILTER.sub(_rfc_filter, path)
    try:
        return jsonpath.compile(rewritten)
    except jsonpath.JSONPathError as error:
        token = getattr(error, "token", None)
        offset = getattr(token, "index", 0) if rewritten == path else 0
        reason = str(error.args[0]) if error.args else str(error)
        raise ExpressionError(
            path, min(offset, len(path)), f"invalid json_path: {reason}", "e.g. $.items[*]"
        ) from None


def _rfc_filter(match: re.Match[str]) -> str:
    field, op, value = match.groups()
    field = field.removeprefix("@").removeprefix(".")
    if not _JSON_SCALAR.fullmatch(value):
        value = json.dumps(value)
    return f"[?(@.{field} {'==' if op == '=' else op} {value})]"


_LABEL_FIELDS = ("name", "path", "file", "filename", "title", "id", "key", "item")
_LABEL_WIDTH = 40


def item_label(item: object) -> str:
    """What a work item is, in a few characters for a progress board: its name, path,
    file, title or id field, else its text; empty when nothing says it."""
    value: object = item
    if isinstance(item, dict):
        value = next((item[k] for k in _LABEL_FIELDS if isinstance(item.get(k), str | int)), "")
    if isinstance(value, dict | list) or value is None:
        return ""
    text = " ".join(str(value).split())
    return text if len(text) <= _LABEL_WIDTH else text[: _LABEL_WIDTH - 3] + "..."
