"""Recursive-descent parser: expression text -> immutable syntax tree.

Grammar (keywords are case-insensitive):

    expr    := and ( ("||" | OR) and )*
    and     := not ( ("&&" | AND) not )*
    not     := ("!" | NOT) not | test
    test    := value [ CMP value | [NOT] IN value | INFIX value | IS_NULL | IS_NOT_NULL ]
    value   := "(" expr ")" | "[" [value ("," value)*] "]" | NAME "(" args ")"
             | STRING | NUMBER | true | false | null | PATH | ${PATH[:-default]} | $NAME
    CMP     := "==" | "=" | "!=" | ">" | ">=" | "<" | "<="
    INFIX   := CONTAINS | STARTS_WITH | ENDS_WITH | MATCHES
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prodigy.core.expr.lexer import PATH_PATTERN, ExpressionError, Kind, Token, tokenize
from prodigy.core.expr.regex import RegexError, compile_regex

Segment = str | int
Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar


@dataclass(frozen=True, slots=True)
class PathRef:
    """A field of the item (or a variable, for `when:`).

    `literal_fallback`: in value position (right of an operator, in a list, later function
    arguments) a bare word that names no field stands for itself, as in prodigy's
    `severity == high`.
    """

    text: str
    segments: tuple[Segment, ...]
    default: str | None = None  # from `${path:-default}`
    literal_fallback: bool = False


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # == != > >= < <= in contains starts_with ends_with matches
    left: Node
    right: Node


Node = Literal | PathRef | ListOf | Call | Not | Logical | Compare

# Function name -> allowed argument counts.
FUNCTIONS: dict[str, frozenset[int]] = {
    "is_null": frozenset({1}),
    "is_not_null": frozenset({1}),
    "is_number": frozenset({1}),
    "is_string": frozenset({1}),
    "is_bool": frozenset({1}),
    "is_array": frozenset({1}),
    "is_object": frozenset({1}),
    "contains": frozenset({2}),
    "starts_with": frozenset({2}),
    "ends_with": frozenset({2}),
    "matches": frozenset({2}),
    "length": frozenset({1, 2}),
}
_COMPARISONS = {"==": "==", "=": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_INFIX = frozenset({"contains", "starts_with", "ends_with", "matches"})
_POSTFIX = frozenset({"is_null", "is_not_null"})
_LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None}
_SEGMENT = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
_VARIABLE_PATH = re.compile(rf"(?:{PATH_PATTERN}|\d+)")


def parse_expression(text: str) -> Node:
    """Parse a `filter:` or `when:` expression; raises ExpressionError with a caret."""
    parser = _Parser(text)
    if parser.peek().kind is Kind.END:
        raise ExpressionError(text, 0, "empty expression", "write a condition like: score > 5")
    try:
        node = parser.expression()
    except RecursionError:
        raise ExpressionError(text, 0, "expression is nested too deeply") from None
    parser.expect_end()
    return node


def path_segments(path: str) -> tuple[Segment, ...]:
    """`a.b[0].c` -> ("a", "b", 0, "c")."""
    return tuple(
        int(index) if index else name for name, index in _SEGMENT.findall(path) if name or index
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, token: Token, reason: str, hint: str = "") -> ExpressionError:
        return ExpressionError(self.text, token.offset, reason, hint)

    def is_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind is Kind.WORD and token.text.lower() in words

    def is_symbol(self, *symbols: str) -> bool:
        token = self.peek()
        return token.kind in (Kind.OP, Kind.PUNCT) and token.text in symbols

    def expect_symbol(self, symbol: str, context: str) -> None:
        if not self.is_symbol(symbol):
            raise self.fail(
                self.peek(), f"expected '{symbol}' {context}, found {_show(self.peek())}"
            )
        self.advance()

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind is not Kind.END:
            raise self.fail(
                token,
                f"unexpected {_show(token)}",
                "join conditions with && or ||, and quote string values",
            )

    def expression(self) -> Node:
        operands = [self.conjunction()]
        while self.is_symbol("||") or self.is_word("or"):
            self.advance()
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Logical("or", tuple(operands))

    def conjunction(self) -> Node:
        operands = [self.negation()]
        while self.is_symbol("&&") or self.is_word("and"):
            self.advance()
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else Logical("and", tuple(operands))

    def negation(self) -> Node:
        if self.is_symbol("!") or self.is_word("not"):
            self.advance()
            return Not(self.negation())
        return self.test()

    def test(self) -> Node:
        left = self.value(subject=True)
        token = self.peek()
        if token.kind is Kind.OP and token.text in _COMPARISONS:
            self.advance()
            return Compare(_COMPARISONS[token.text], left, self.operand_after(token))
        if self.is_word("in") or (self.is_word("not") and self.is_word("in", ahead=1)):
            negated = self.advance().text.lower() == "not"
            if negated:
                self.advance()
            node = Compare("in", left, self.operand_after(token))
            return Not(node) if negated else node
        if self.is_word(*_INFIX):
            self.advance()
            right = self.operand_after(token)
            return self.checked_regex(Compare(token.text.lower(), left, right), token)
        if self.is_word(*_POSTFIX):
            self.advance()
            return Call(token.text.lower(), (left,))
        return left

    def operand_after(self, operator: Token) -> Node:
        if self.peek().kind is Kind.END:
            raise self.fail(self.peek(), f"expected a value after {_show(operator)}")
        return self.value(subject=False)

    def value(self, *, subject: bool) -> Node:
        token = self.peek()
        if self.is_symbol("("):
            self.advance()
            node = self.expression()
            self.expect_symbol(")", f"to close the '(' at column {token.offset + 1}")
            return node
        if self.is_symbol("["):
            return self.list_of()
        self.advance()
        if token.kind is Kind.STRING:
            return Literal(token.text)
        if token.kind is Kind.NUMBER:
            return Literal(_number(token.text))
        if token.kind is Kind.VAR:
            return self.variable(token)
        if token.kind is Kind.WORD:
            if self.is_symbol("("):
                return self.call(token)
            if token.text.lower() in _LITERALS:
                return Literal(_LITERALS[token.text.lower()])
            return PathRef(token.text, path_segments(token.text), None, not subject)
        raise self.fail(token, f"expected a value, found {_show(token)}")

    def list_of(self) -> ListOf:
        opening = self.advance()
        items: list[Node] = []
        while not self.is_symbol("]"):
            if self.peek().kind is Kind.END:
                raise self.fail(opening, "'[' is never closed", "close the list with ]")
            items.append(self.value(subject=False))
            if not self.is_symbol("]"):
                self.expect_symbol(",", "between list values")
        self.advance()
        return ListOf(tuple(items))

    def call(self, name_token: Token) -> Node:
        name = name_token.text.lower()
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.fail(
                name_token, f"unknown function {name_token.text!r}", f"use one of {known}"
            )
        self.advance()  # "("
        args: list[Node] = []
        while not self.is_symbol(")"):
            args.append(self.value(subject=not args))
            if not self.is_symbol(")"):
                self.expect_symbol(",", f"between the arguments of {name}()")
        self.advance()
        if len(args) not in FUNCTIONS[name]:
            counts = " or ".join(str(n) for n in sorted(FUNCTIONS[name]))
            raise self.fail(name_token, f"{name}() takes {counts} argument(s), got {len(args)}")
        # The two-argument functions are the infix operators written as calls.
        if name in _INFIX:
            return self.checked_regex(Compare(name, args[0], args[1]), name_token)
        if name == "length" and len(args) == 2:
            return Compare("==", Call("length", (args[0],)), args[1])
        return Call(name, tuple(args))

    def checked_regex(self, node: Compare, at: Token) -> Compare:
        if node.op == "matches" and isinstance(node.right, Literal):
            try:
                compile_regex(str(node.right.value))
            except RegexError as error:
                raise self.fail(at, f"invalid regular expression: {error}") from None
        return node

    def variable(self, token: Token) -> PathRef:
        path, sep, default = token.text.partition(":-")
        path = path.strip()
        if not _VARIABLE_PATH.fullmatch(path):
            raise self.fail(token, f"invalid variable name {path!r}", "write ${name} or ${a.b}")
        return PathRef(path, path_segments(path), default if sep else None)


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def _show(token: Token) -> str:
    if token.kind is Kind.END:
        return "the end of the expression"
    if token.kind is Kind.STRING:
        return f"string {token.text!r}"
    return f"'{token.text}'"
