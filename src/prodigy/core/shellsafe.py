"""Shell-safe substitution of `${...}` into `shell:` commands (architecture.md "Shell safety").

Each substituted value travels to the child in an environment variable (`PRODIGY_V_0`, ...);
the placeholder becomes a reference chosen by the bash quoting context it stands in, so the
value is data, never code. A small lexer tracks: unquoted text, '...', "...", $'...',
backslash escapes, $(...), `...`, $((...)), comments and here-documents.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

from prodigy.core.errors import StepFailedError
from prodigy.core.interpolation import (
    TOKEN,
    Placeholder,
    interpolate,
    parse_placeholder,
    render,
    resolve,
)

if TYPE_CHECKING:
    from prodigy.core.variables import Scope


class UnsafeSubstitutionError(StepFailedError):
    """A value that cannot be passed to the shell as data where its placeholder stands."""


class Context(Enum):
    UNQUOTED = "unquoted"
    SINGLE = "single-quoted"
    DOUBLE = "double-quoted"
    ANSI_C = "$'...'"
    ARITH = "arithmetic: $((...)), ((...)) or [[ -eq ]]"
    HEREDOC = "here-document"
    HEREDOC_LITERAL = "quoted here-document"


# How a reference to variable V is written in each context.
_REFERENCE = {
    Context.UNQUOTED: '"${}"',
    Context.SINGLE: "'\"${}\"'",
    Context.DOUBLE: "${{{}}}",
    Context.ANSI_C: "'\"${}\"$'",
    Context.ARITH: "${{{}}}",
    Context.HEREDOC: "${{{}}}",
}
ENV_LIMIT = 100_000  # bytes; a larger value goes through `ShellCommand.files`
_INTEGER = re.compile(r"-?[0-9]+")
_HEREDOC_OP = re.compile(r"<<(?!<)(-?)[ \t]*(?:'([^']*)'|\"([^\"]*)\"|\\?([^\s;&|<>()]+))")
_WORD_BREAK = frozenset(" \t\n;&|()")
_ARITH_TEST = re.compile(r"\s-(?:eq|ne|lt|le|gt|ge)\s")


@dataclass(frozen=True)
class ShellCommand:
    """A script for `bash -c` and the variables the child needs on top of its environment.

    `files` holds values too large for one environment string (Linux caps each at 128 KiB):
    for each `NAME: content` the runner writes `content` to a private file and sets
    `NAME_FILE` to its path; the script's first line reads it back into `NAME`.
    """

    script: str
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))


@dataclass(frozen=True)
class Site:
    """A placeholder and the quoting context it stands in (`delimiter` for here-documents)."""

    placeholder: Placeholder
    context: Context
    delimiter: str = ""
    numeric: bool = False  # bash evaluates it as arithmetic: only an integer is safe


@dataclass
class _Frame:
    kind: str  # "top", "cmd", "tick", "cond", "sq", "dq", "ansi", "arith"
    depth: int = 0
    arith: bool = False  # a [[ ... ]] that compares numbers: bash evaluates operands


_UNQUOTED_KINDS = frozenset({"top", "cmd", "tick", "cond"})
_CONTEXT_OF = dict.fromkeys(("top", "cmd", "tick", "cond"), Context.UNQUOTED) | {
    "sq": Context.SINGLE,
    "dq": Context.DOUBLE,
    "ansi": Context.ANSI_C,
    "arith": Context.ARITH,
}


def sites(template: str) -> Iterator[Site]:
    """Placeholders bash would see, with their contexts (comments and `\\$` are skipped)."""
    stack = [_Frame("top")]
    pending: list[tuple[str, bool, bool]] = []  # here-docs opened on this line
    i, n = 0, len(template)
    while i < n:
        frame, char = stack[-1], template[i]
        if char == "$":
            i = yield from _dollar(template, i, stack)
        elif char == "\\" and frame.kind != "sq":
            i += 2
        elif frame.kind in ("sq", "ansi"):
            i += 1
            if char == "'":
                stack.pop()
        elif frame.kind == "dq":
            i += 1
            if char == '"':
                stack.pop()
            elif char == "`":
                stack.append(_Frame("tick"))
        elif frame.kind == "arith":
            i += _arith_step(template, i, frame, stack)
        else:
            i = yield from _unquoted_step(template, i, stack, pending)


def _dollar(template: str, i: int, stack: list[_Frame]) -> Generator[Site, None, int]:
    # A generator helper whose return value is the next index (`yield from` forwards sites).
    frame = stack[-1]
    kind = frame.kind
    if kind not in ("sq", "ansi"):
        if template.startswith("$((", i):
            stack.append(_Frame("arith"))
            return i + 3
        if template.startswith("$(", i):
            stack.append(_Frame("cmd"))
            return i + 2
        if kind in _UNQUOTED_KINDS and template.startswith("$'", i):
            stack.append(_Frame("ansi"))
            return i + 2
    match = TOKEN.match(template, i)
    placeholder = parse_placeholder(match) if match else None
    if placeholder is None:
        return i + (2 if template.startswith("$$", i) else 1)
    context = _CONTEXT_OF[kind]
    yield Site(placeholder, context, numeric=context is Context.ARITH or _numeric_test(stack))
    return placeholder.end


def _numeric_test(stack: list[_Frame]) -> bool:
    # Inside [[ ... -eq ... ]], even quoted operands are evaluated; a $(...) starts afresh.
    for frame in reversed(stack):
        if frame.kind in ("cmd", "tick"):
            return False
        if frame.arith:
            return True
    return False


def _arith_step(template: str, i: int, frame: _Frame, stack: list[_Frame]) -> int:
    if template.startswith("))", i) and frame.depth == 0:
        stack.pop()
        return 2
    if template[i] == "(":
        frame.depth += 1
    elif template[i] == ")":
        frame.depth -= 1
    return 1


def _unquoted_step(
    template: str, i: int, stack: list[_Frame], pending: list[tuple[str, bool, bool]]
) -> Generator[Site, None, int]:
    frame, char = stack[-1], template[i]
    word_start = i == 0 or template[i - 1] in _WORD_BREAK
    if char == "'":
        stack.append(_Frame("sq"))
    elif char == '"':
        stack.append(_Frame("dq"))
    elif char == "`":
        if frame.kind == "tick":
            stack.pop()
        else:
            stack.append(_Frame("tick"))
    elif char == "#" and word_start:
        end = template.find("\n", i)
        return len(template) if end < 0 else end
    elif word_start and template.startswith("((", i):
        stack.append(_Frame("arith"))
        return i + 2
    elif word_start and template.startswith("[[", i):
        end = template.find("]]", i)
        test = template[i : len(template) if end < 0 else end]
        stack.append(_Frame("cond", arith=bool(_ARITH_TEST.search(test))))
        return i + 2
    elif frame.kind == "cond" and template.startswith("]]", i):
        stack.pop()
        return i + 2
    elif char == "(" and frame.kind == "cmd":
        frame.depth += 1
    elif char == ")" and frame.kind == "cmd":
        if frame.depth == 0:
            stack.pop()
        else:
            frame.depth -= 1
    elif char == "<" and (heredoc := _HEREDOC_OP.match(template, i)):
        strip_tabs = heredoc.group(1) == "-"
        literal = heredoc.group(4) is None or "\\" in heredoc.group(0)
        delimiter = next(g for g in heredoc.groups()[1:] if g is not None)
        pending.append((delimiter, strip_tabs, literal))
        return heredoc.end()
    elif char == "\n" and pending:
        end = yield from _heredoc_bodies(template, i + 1, pending)
        pending.clear()
        return end
    return i + 1


def _heredoc_bodies(
    template: str, i: int, pending: list[tuple[str, bool, bool]]
) -> Generator[Site, None, int]:
    for delimiter, strip_tabs, literal in pending:
        context = Context.HEREDOC_LITERAL if literal else Context.HEREDOC
        while i < len(template):
            start, end = i, template.find("\n", i)
            end = len(template) if end < 0 else end
            i = end + 1
            line = template[start:end]
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
            yield from _heredoc_line(template, start, end, context, delimiter)
    return min(i, len(template))


def _heredoc_line(
    template: str, start: int, end: int, context: Context, delimiter: str
) -> Iterator[Site]:
    j = start
    while j < end:
        if template[j] == "\\" and context is Context.HEREDOC:
            j += 2
            continue
        match = TOKEN.match(template, j) if template[j] == "$" else None
        placeholder = parse_placeholder(match) if match else None
        if match and placeholder and placeholder.end <= end:
            yield Site(placeholder, context, delimiter)
            j = placeholder.end
        else:
            j += 2 if template.startswith("$$", j) else 1


def interpolate_shell(template: str, scope: Scope, *, trusted: bool = False) -> ShellCommand:
    """Substitute `scope` into a `shell:` command so that every value stays data.

    `trusted=True` is the opt-out for values that are meant to be shell code: plain textual
    substitution, exactly like `interpolate`. Undefined placeholders stay verbatim; a default
    (`${x:-text}`) is workflow text, inserted as written.
    """
    if trusted:
        return ShellCommand(interpolate(template, scope))
    prefix = _env_prefix(template)
    env: dict[str, str] = {}
    names: dict[str, str] = {}
    out: list[str] = []
    last = 0
    for site in sites(template):
        placeholder = site.placeholder
        out.append(template[last : placeholder.start])
        last = placeholder.end
        found, value = resolve(placeholder, scope)
        if not found:
            out.append(placeholder.text if placeholder.default is None else placeholder.default)
            continue
        text = render(value)
        _check(site, text)
        if site.context is Context.HEREDOC_LITERAL:
            out.append(text)
            continue
        name = names.setdefault(text, f"{prefix}{len(names)}")
        env[name] = text
        out.append(_REFERENCE[site.context].format(name))
    out.append(template[last:])
    return _with_large_values_in_files("".join(out), env)


def _with_large_values_in_files(script: str, env: dict[str, str]) -> ShellCommand:
    large = {k: v for k, v in env.items() if len(v.encode("utf-8", "surrogateescape")) > ENV_LIMIT}
    if not large:
        return ShellCommand(script, env)
    # `printf x` keeps trailing newlines that $(...) would strip; the `%x` removes it again.
    prologue = "".join(f'{k}=$(cat -- "${k}_FILE"; printf x); {k}=${{{k}%x}}; ' for k in large)
    small = {k: v for k, v in env.items() if k not in large}
    return ShellCommand(f"{prologue}\n{script}", small, large)


def _env_prefix(template: str) -> str:
    # Deterministic and never equal to a name the author wrote in this command.
    prefix, k = "PRODIGY_V_", 0
    while prefix in template:
        k += 1
        prefix = f"PRODIGY_V{k}_"
    return prefix


def _check(site: Site, text: str) -> None:
    where = f"{site.placeholder.text} ({site.context.value})"
    if "\0" in text:
        raise UnsafeSubstitutionError(
            f"{where}: the value contains a NUL byte, which no shell variable can hold; "
            "clean the value before it reaches this step"
        )
    try:
        text.encode("utf-8", "surrogateescape")  # how os.environ encodes values
    except UnicodeEncodeError:
        raise UnsafeSubstitutionError(
            f"{where}: the value is not valid UTF-8 text (a lone surrogate, often from a JSON "
            "\\ud800 escape), so it cannot be passed to a shell; fix the input data"
        ) from None
    if site.numeric and not _INTEGER.fullmatch(text):
        raise UnsafeSubstitutionError(
            f"{where}: bash evaluates this value as arithmetic (and runs $(...) inside array "
            f"subscripts), so only an integer is safe here (got {text[:40]!r}); validate it "
            "first or compare it as a string"
        )
    if site.context is Context.HEREDOC_LITERAL and "\n" in text and site.delimiter in text:
        raise UnsafeSubstitutionError(
            f"{where}: the value contains a newline and the delimiter {site.delimiter!r}, so it "
            "could end the here-document early; use an unquoted delimiter (<<EOF)"
        )
