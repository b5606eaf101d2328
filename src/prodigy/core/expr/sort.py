"""`sort_by:` keys: `score DESC NULLS FIRST, name` parsed with the expression lexer, and sorting.

sort_by := key ("," key)*
key     := PATH [ASC | ASCENDING | DESC | DESCENDING] [NULLS (FIRST | LAST)]
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prodigy.core.expr.lexer import ExpressionError, Kind, Token, tokenize
from prodigy.core.expr.parser import PathRef, path_segments
from prodigy.core.expr.values import MISSING, compile_path, sort_key

_DIRECTIONS = {"asc": False, "ascending": False, "desc": True, "descending": True}
_KEYWORDS = ("ASC", "ASCENDING", "DESC", "DESCENDING", "NULLS")


@dataclass(frozen=True, slots=True)
class SortKey:
    """One key of `sort_by`; nulls (and missing fields) go last unless `nulls_first`."""

    path: PathRef
    descending: bool = False
    nulls_first: bool = False


def parse_sort_keys(text: str) -> tuple[SortKey, ...]:
    """Parse a `sort_by:` value; raises ExpressionError with a caret on bad syntax."""
    tokens = tokenize(text)
    keys: list[SortKey] = []
    pos = 0
    while True:
        path = tokens[pos]
        if path.kind is not Kind.WORD:
            raise _error(text, path, "expected a field path", "write: score DESC, name ASC")
        descending, nulls_first = False, False
        pos += 1
        if _word(tokens[pos]) in _DIRECTIONS:
            descending = _DIRECTIONS[_word(tokens[pos])]
            pos += 1
        if _word(tokens[pos]) == "nulls":
            placement = _word(tokens[pos + 1])
            if placement not in ("first", "last"):
                raise _error(text, tokens[pos + 1], "expected FIRST or LAST after NULLS")
            nulls_first = placement == "first"
            pos += 2
        keys.append(SortKey(PathRef(path.text, path_segments(path.text)), descending, nulls_first))
        following = tokens[pos]
        if following.kind is Kind.END:
            return tuple(keys)
        if following.kind is Kind.PUNCT and following.text == ",":
            pos += 1
            continue
        raise _error(text, following, f"unexpected '{following.text}'", _suggest(following))


def sort_items(items: Sequence[object], keys: Sequence[SortKey]) -> list[object]:
    """A stably sorted copy of `items`; numbers numerically, strings by code point, and mixed
    types by rank null < bool < number < string < array < object (arrays/objects by length)."""
    result = list(items)
    # One stable pass per key, last key first, so earlier keys take precedence.
    for key in reversed(keys):
        result.sort(key=_key_function(key), reverse=key.descending)
    return result


def _key_function(key: SortKey) -> Callable[[object], tuple[int, tuple[int, object]]]:
    get = compile_path(key.path.segments)
    # With reverse=True the null group is flipped too, so pick it to land where asked.
    null_rank = int(key.nulls_first == key.descending)
    other_rank = 1 - null_rank

    def key_of(item: object) -> tuple[int, tuple[int, object]]:
        value = get(item)
        if value is None or value is MISSING:
            return (null_rank, (0, 0))
        return (other_rank, sort_key(value))

    return key_of


def _word(token: Token) -> str:
    return token.text.lower() if token.kind is Kind.WORD else ""


def _error(text: str, token: Token, reason: str, hint: str = "") -> ExpressionError:
    return ExpressionError(text, token.offset, f"invalid sort_by: {reason}", hint)


def _suggest(token: Token) -> str:
    close = difflib.get_close_matches(token.text.upper(), _KEYWORDS, n=1)
    if close:
        return f"did you mean {close[0]}?"
    return "separate keys with commas; a key is: path [ASC|DESC] [NULLS FIRST|LAST]"
