"""Tokens of the expression language shared by `filter:`, `when:` and `sort_by:`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from prodigy.core.errors import UsageError


class ExpressionError(UsageError):
    """An expression that cannot be parsed; the message points at the column with a caret."""

    def __init__(self, text: str, offset: int, reason: str, hint: str = "") -> None:
        self.text = text
        self.offset = offset
        self.reason = reason
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        line = text[line_start : line_end if line_end != -1 else len(text)]
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - line_start + 1
        where = f"column {self.column}"
        if "\n" in text:
            where = f"line {self.line}, {where}"
        message = f"invalid expression at {where}: {reason}\n  {line}\n  {' ' * (self.column - 1)}^"
        if hint:
            message += f"\n  hint: {hint}"
        super().__init__(message)


class Kind(Enum):
    NUMBER = "number"
    STRING = "string"
    WORD = "word"  # a field path or a keyword: `priority`, `meta.owner`, `tags[0]`, `AND`
    VAR = "variable"  # `${path}`, `${path:-default}` or `$NAME`
    OP = "operator"
    PUNCT = "punctuation"  # ( ) [ ] ,
    END = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # for STRING the unquoted content, for VAR the text inside `${...}`
    offset: int  # 0-based index into the expression text


# A path segment may contain `-` so that JSON keys like `file-name` need no quoting.
PATH_PATTERN = r"[A-Za-z_][\w-]*(?:\.[\w-]+|\[-?\d+\])*"
_WORD = re.compile(PATH_PATTERN)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
_OPERATORS = ("==", "!=", ">=", "<=", "&&", "||", ">", "<", "=", "!")
_PUNCT = "()[],"
# Words that end a path when followed by `[`: `x in[1, 2]` is the keyword, not a path `in[1]`.
_KEYWORDS_BEFORE_LIST = frozenset({"in"})


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens; the last token is always END."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "'\"":
            end = text.find(char, pos + 1)
            if end == -1:
                raise ExpressionError(
                    text, pos, "unterminated string", f"close it with a matching {char}"
                )
            tokens.append(Token(Kind.STRING, text[pos + 1 : end], pos))
            pos = end + 1
        elif char == "$":
            pos = _variable(text, pos, tokens)
        elif number := _NUMBER.match(text, pos):
            tokens.append(Token(Kind.NUMBER, number.group(), pos))
            pos = number.end()
        elif word := _WORD.match(text, pos):
            word_text = word.group()
            head = word_text.split("[", 1)[0]
            if head.lower() in _KEYWORDS_BEFORE_LIST:
                word_text = head
            tokens.append(Token(Kind.WORD, word_text, pos))
            pos += len(word_text)
        elif char in _PUNCT:
            tokens.append(Token(Kind.PUNCT, char, pos))
            pos += 1
        else:
            op = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
            if op is None:
                raise ExpressionError(
                    text,
                    pos,
                    f"unexpected character {char!r}",
                    "quote string values: severity == 'high'",
                )
            tokens.append(Token(Kind.OP, op, pos))
            pos += len(op)
    tokens.append(Token(Kind.END, "", len(text)))
    return tokens


_BRACED = re.compile(r"\$\{([^}]*)\}")
_BARE_VARIABLE = re.compile(r"\$([A-Za-z_]\w*|\d+)")


def _variable(text: str, pos: int, tokens: list[Token]) -> int:
    if braced := _BRACED.match(text, pos):
        tokens.append(Token(Kind.VAR, braced.group(1), pos))
        return braced.end()
    if bare := _BARE_VARIABLE.match(text, pos):
        tokens.append(Token(Kind.VAR, bare.group(1), pos))
        return bare.end()
    raise ExpressionError(text, pos, "expected a variable like ${name} after '$'")
