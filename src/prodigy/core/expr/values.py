"""What JSON values mean in expressions: field lookup, equality, order, truthiness, keys.

None of these functions raises on any JSON input: a type mismatch is "not equal" or
"not comparable", never an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final, TypeGuard


class _Missing:
    """The value of a field that does not exist (distinct from JSON null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
Getter = Callable[[object], object]

_NUMERIC = re.compile(r"\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*")
_FALSE_WORDS = frozenset({"", "false", "0"})
# Exact JSON scalar types: same-type comparisons need no conversion (fast path).
_SIMPLE: frozenset[type] = frozenset({str, int, float, bool})
_ORDERED: frozenset[type] = frozenset({str, int, float})


def compile_path(segments: tuple[str | int, ...]) -> Getter:
    """A getter for a field path; returns MISSING when the path does not resolve.

    Lookup order: the whole dotted text as one key (variables like `shell.output` are stored
    flat), then a walk through objects and arrays (a string holding JSON is parsed on the way),
    then, for paths starting with `item`, the same without that prefix (`item.a` == `a`, and
    bare `item` is the item itself), then `x.exists` = whether `x` resolves.
    """
    flat_key: str | None = None
    if len(segments) > 1 and all(isinstance(s, str) for s in segments):
        flat_key = ".".join(str(s) for s in segments)
    rest: Getter | None = None
    if segments[0] == "item":
        rest = compile_path(segments[1:]) if len(segments) > 1 else _identity
    base: Getter | None = None
    if len(segments) > 1 and segments[-1] == "exists":
        base = compile_path(segments[:-1])
    first = segments[0]
    single = len(segments) == 1

    def get(data: object) -> object:
        if type(data) is dict and first not in data:
            # Fast path: the walk could only find the flat key (`item.x` is the common case).
            value = data.get(flat_key, MISSING) if flat_key is not None else MISSING
        elif type(data) is dict and single:
            return data[first]
        else:
            value = _walk(data, segments, flat_key)
        if value is MISSING and rest is not None:
            value = rest(data)
        if value is MISSING and base is not None:
            value = base(data) is not MISSING
        return value

    return get


def _identity(data: object) -> object:
    return data


def _walk(data: object, segments: tuple[str | int, ...], flat_key: str | None) -> object:
    if flat_key is not None and isinstance(data, Mapping) and flat_key in data:
        return data[flat_key]
    current = data
    for depth, segment in enumerate(segments):
        # A string holding JSON is walked into (captured outputs); the item itself is not.
        if depth and isinstance(current, str) and current.lstrip()[:1] in ("{", "["):
            current = _parse_json(current)
        if isinstance(current, Mapping) and isinstance(segment, str):
            current = current.get(segment, MISSING)
        elif isinstance(current, list):
            current = _index(current, segment)
        else:
            return MISSING
    return current


def _index(values: list[object], segment: str | int) -> object:
    if isinstance(segment, str):
        if not segment.isdecimal():
            return MISSING
        segment = int(segment)
    if -len(values) <= segment < len(values):
        return values[segment]
    return MISSING


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return MISSING


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_number(value: object) -> int | float | None:
    """The number a value stands for: numbers themselves and numeric strings like "42"."""
    if is_number(value):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:  # more digits than int() accepts
            return float(value)
    return None


def values_equal(left: object, right: object) -> bool:
    """`==`: a missing field equals null; numbers numerically; numeric strings and
    "true"/"false" strings are converted when the other side is a number or a bool."""
    if type(left) is type(right) and type(left) in _SIMPLE:
        return left == right
    if left is MISSING:
        left = None
    if right is MISSING:
        right = None
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return _bool_equal(left, right)
    if is_number(left) or is_number(right):
        left_number, right_number = as_number(left), as_number(right)
        return left_number is not None and right_number is not None and left_number == right_number
    if isinstance(left, str) or isinstance(right, str):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(values_equal, left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return False


def _bool_equal(left: object, right: object) -> bool:
    if isinstance(left, bool) and isinstance(right, bool):
        return left == right
    flag, other = (left, right) if isinstance(left, bool) else (right, left)
    return isinstance(other, str) and other.strip().lower() == ("true" if flag else "false")


def compare_order(left: object, right: object) -> int | None:
    """-1/0/1 for `<`-style comparisons, None when the two values are not comparable.

    Numbers (and numeric strings against numbers) compare numerically, strings
    lexicographically by code point; anything else (null, missing, bools, mixes) is None.
    """
    if type(left) is type(right) and type(left) in _ORDERED:
        return _sign(left, right)
    if isinstance(left, str) and isinstance(right, str):
        return _sign(left, right)
    if isinstance(left, bool) or isinstance(right, bool):
        return None
    if not (is_number(left) or is_number(right)):
        return None
    left_number, right_number = as_number(left), as_number(right)
    if left_number is None or right_number is None:
        return None
    return (left_number > right_number) - (left_number < right_number)


def _sign(left: Any, right: Any) -> int:
    # Callers guarantee two numbers or two strings.
    return int(left > right) - int(left < right)


def truthy(value: object) -> bool:
    """Truthiness of a bare value: missing/null/false/0/""/"false"/"0"/[]/{} are false."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    if isinstance(value, list | Mapping):
        return len(value) > 0
    return True


def length(value: object) -> object:
    """Length of a string, array or object; MISSING for anything else."""
    if isinstance(value, str | list | Mapping):
        return len(value)
    return MISSING


# Sort ranks for mixed types: null < bool < number < string < array < object.
def sort_key(value: object) -> tuple[int, object]:
    """A key that orders any two JSON values deterministically (arrays/objects by length)."""
    if value is None or value is MISSING:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if is_number(value):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, list):
        return (4, len(value))
    if isinstance(value, Mapping):
        return (5, len(value))
    return (6, 0)


def distinct_key(value: object) -> Hashable:
    """A hashable identity for `distinct`: 1 and 1.0 are the same; missing is null."""
    if value is MISSING or value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    return ("json", json.dumps(value, sort_keys=True, default=repr))
