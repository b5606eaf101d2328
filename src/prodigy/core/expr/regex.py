"""Regular expressions of `matches`: RE2, which matches in time linear in the text.

Python's `re` backtracks: `^(a+)+$` against "a"*40+"!" ran for more than ten minutes and,
being one C call, held off Ctrl-C (issue 12 item 12). RE2 refuses the constructs that need
backtracking (backreferences, lookaround) at compile time instead; docs/expressions.md
lists the dialect.
"""

from __future__ import annotations

import functools
from typing import Protocol

import re2


class RegexError(ValueError):
    """A pattern RE2 cannot compile; the message says why, in one line."""


class Pattern(Protocol):
    def search(self, text: str) -> object | None: ...


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, not absl's on stderr
    return options


_OPTIONS = _options()


@functools.lru_cache(maxsize=256)
def compile_regex(pattern: str) -> Pattern:
    """The compiled pattern; raises RegexError naming what RE2 does not support."""
    try:
        compiled: Pattern = re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise RegexError(
            f"{text} (patterns use RE2 syntax: no backreferences such as \\1 and no "
            "lookaround such as (?=...) or (?<!...))"
        ) from None
    return compiled
