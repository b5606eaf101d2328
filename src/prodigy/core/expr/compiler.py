"""Compile a syntax tree into plain closures once, so evaluating an item is a few calls."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping

from prodigy.core.expr.parser import Call, Compare, ListOf, Literal, Logical, Node, Not, PathRef
from prodigy.core.expr.regex import Pattern, RegexError, compile_regex
from prodigy.core.expr.values import (
    MISSING,
    Getter,
    compare_order,
    compile_path,
    is_number,
    length,
    truthy,
    values_equal,
)

Predicate = Callable[[object], bool]
_MAX_CHAINED = 8

_ORDERINGS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}

_TYPE_TESTS: dict[str, Callable[[object], bool]] = {
    "is_null": lambda v: v is None,
    "is_not_null": lambda v: v is not None and v is not MISSING,
    "is_number": is_number,
    "is_string": lambda v: isinstance(v, str),
    "is_bool": lambda v: isinstance(v, bool),
    "is_array": lambda v: isinstance(v, list),
    "is_object": lambda v: isinstance(v, Mapping),
}


def compile_predicate(node: Node) -> Predicate:
    """The node as a function item -> bool; bare values use `truthy`."""
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Not):
        inner = compile_predicate(node.operand)
        return lambda data: not inner(data)
    if isinstance(node, Logical):
        parts = tuple(compile_predicate(operand) for operand in node.operands)
        if len(parts) > _MAX_CHAINED:  # a long chain of closures would nest too deeply
            test = all if node.op == "and" else any
            return lambda data: test(part(data) for part in parts)
        return functools.reduce(_and if node.op == "and" else _or, parts)
    if isinstance(node, Call) and node.name in _TYPE_TESTS:
        test = _TYPE_TESTS[node.name]
        argument = compile_value(node.args[0])
        return lambda data: test(argument(data))
    value = compile_value(node)
    return lambda data: truthy(value(data))


def _and(first: Predicate, second: Predicate) -> Predicate:
    return lambda data: first(data) and second(data)


def _or(first: Predicate, second: Predicate) -> Predicate:
    return lambda data: first(data) or second(data)


def compile_value(node: Node) -> Getter:
    """The node as a function item -> value (MISSING for a field that does not exist)."""
    if isinstance(node, Literal):
        constant = node.value
        return lambda _data: constant
    if isinstance(node, PathRef):
        return _path(node)
    if isinstance(node, ListOf):
        items = tuple(compile_value(item) for item in node.items)
        return lambda data: [item(data) for item in items]
    if isinstance(node, Call) and node.name == "length":
        argument = compile_value(node.args[0])
        return lambda data: length(argument(data))
    return compile_predicate(node)


def _path(node: PathRef) -> Getter:
    get = compile_path(node.segments)
    replacement: object = node.default
    if replacement is None and node.literal_fallback:
        replacement = node.text
    if replacement is None:
        return get

    def get_or_replacement(data: object) -> object:
        value = get(data)
        return replacement if value is MISSING else value

    return get_or_replacement


def _compare(node: Compare) -> Predicate:
    left = compile_value(node.left)
    right = compile_value(node.right)
    if node.op == "==":
        return lambda data: values_equal(left(data), right(data))
    if node.op == "!=":
        return lambda data: not values_equal(left(data), right(data))
    if node.op in _ORDERINGS:
        holds = _ORDERINGS[node.op]

        def ordered(data: object) -> bool:
            order = compare_order(left(data), right(data))
            return order is not None and holds(order, 0)

        return ordered
    test = _BINARY[node.op]
    return lambda data: test(left(data), right(data))


def _is_in(needle: object, haystack: object) -> bool:
    if needle is MISSING:
        return False
    if isinstance(haystack, list):
        return any(values_equal(needle, candidate) for candidate in haystack)
    if isinstance(haystack, str):
        return isinstance(needle, str) and needle in haystack
    if isinstance(haystack, Mapping):
        return isinstance(needle, str) and needle in haystack
    return False


def _contains(subject: object, needle: object) -> bool:
    return _is_in(needle, subject)


def _starts_with(subject: object, prefix: object) -> bool:
    return isinstance(subject, str) and isinstance(prefix, str) and subject.startswith(prefix)


def _ends_with(subject: object, suffix: object) -> bool:
    return isinstance(subject, str) and isinstance(suffix, str) and subject.endswith(suffix)


def _matches(subject: object, pattern: object) -> bool:
    if not isinstance(subject, str) or not isinstance(pattern, str):
        return False
    regex = _regex(pattern)
    return regex is not None and regex.search(subject) is not None


def _regex(pattern: str) -> Pattern | None:
    # Literal patterns were checked by the parser; a pattern read from a field may be invalid.
    try:
        return compile_regex(pattern)
    except RegexError:
        return None


_BINARY: dict[str, Callable[[object, object], bool]] = {
    "in": _is_in,
    "contains": _contains,
    "starts_with": _starts_with,
    "ends_with": _ends_with,
    "matches": _matches,
}
