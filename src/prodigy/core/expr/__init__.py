"""The one expression language of prodigy: map `filter:`, step `when:`, and their values.

    expr = parse("severity == 'high' && length(tags) > 2")
    evaluate(expr, {"severity": "high", "tags": ["a", "b", "c"]})   # True
    evaluate_when("${tests} == 'passed' && ${count} > 3", {"tests": "passed", "count": "7"})

Grammar and semantics: docs/expressions.md. Parsing is cached, evaluation never raises.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from prodigy.core.expr.compiler import Predicate, compile_predicate
from prodigy.core.expr.lexer import ExpressionError
from prodigy.core.expr.parser import Node, parse_expression

__all__ = ["Expression", "ExpressionError", "evaluate", "evaluate_when", "matches", "parse"]


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its syntax tree and the compiled predicate."""

    text: str
    tree: Node
    predicate: Predicate = field(repr=False, compare=False)


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Expression:
    """Parse `text` once (cached); raises ExpressionError pointing at the bad column."""
    tree = parse_expression(text)
    return Expression(text, tree, compile_predicate(tree))


def evaluate(expr: Expression, data: object) -> bool:
    """Whether `data` (a work item: object, array or scalar) satisfies `expr`."""
    return expr.predicate(data)


def matches(text: str, data: object) -> bool:
    """`evaluate(parse(text), data)`."""
    return parse(text).predicate(data)


def evaluate_when(text: str, variables: Mapping[str, object]) -> bool:
    """Evaluate a step's `when:` condition against the workflow variables.

    Pass the condition as written: `${name}`, `$NAME` and bare names are looked up in
    `variables` (as data, never re-parsed as expression text), dotted names first as a flat
    key (`shell.output`) and then by walking into JSON values. Text whose `${...}` were
    already interpolated works too when its string values are quoted
    (`"ok" == "ok"`, `true`, `1`). A condition that is a single value is true unless it is
    missing, null, false, 0, an empty string, "false" or "0" (case-insensitive, trimmed),
    or an empty array or object.
    """
    return parse(text).predicate(variables)
