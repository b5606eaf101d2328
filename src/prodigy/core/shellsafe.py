"""Shell-safe substitution of `${...}` into `shell:` commands (architecture.md "Shell safety").

Each substituted value travels to the child in an environment variable (`PRODIGY_V_0`, ...);
the placeholder becomes a reference chosen by the bash context it stands in
(`prodigy.core.shell_contexts` finds it), so the value is data, never code. Where bash
evaluates the text (arithmetic, variable names), only an integer or a name is accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from prodigy.core.errors import StepFailedError
from prodigy.core.interpolation import interpolate, render, resolve
from prodigy.core.shell_contexts import Context, LiteralBody, Need, Site, scan

if TYPE_CHECKING:
    from prodigy.core.variables import Scope

__all__ = ["Context", "Need", "ShellCommand", "Site", "UnsafeSubstitutionError", "sites"]


class UnsafeSubstitutionError(StepFailedError):
    """A value that cannot be passed to the shell as data where its placeholder stands."""


# How a reference to variable V is written in each context.
_REFERENCE = {
    Context.UNQUOTED: '"${}"',
    Context.SINGLE: "'\"${}\"'",
    Context.DOUBLE: "${{{}}}",
    Context.ANSI_C: "'\"${}\"$'",
    Context.PARAM: '"${}"',  # nested quotes are valid in ${x:-...}, also inside "..."
    Context.ARITH: "${{{}}}",
    Context.HEREDOC: "${{{}}}",
}
ENV_LIMIT = 100_000  # bytes; a larger value goes through `ShellCommand.files`
_FORMS = {Need.INTEGER: re.compile(r"-?[0-9]+"), Need.NAME: re.compile(r"[A-Za-z_][A-Za-z0-9_]*")}


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


def sites(template: str) -> Iterator[Site]:
    """Placeholders bash would see, with their contexts (comments and `\\$` are skipped)."""
    return iter(scan(template).sites)


def interpolate_shell(template: str, scope: Scope, *, trusted: bool = False) -> ShellCommand:
    """Substitute `scope` into a `shell:` command so that every value stays data.

    `trusted=True` is the opt-out for values that are meant to be shell code: plain textual
    substitution, exactly like `interpolate`. Undefined placeholders stay verbatim; a default
    (`${x:-text}`) is workflow text, inserted as written.
    """
    if trusted:
        return ShellCommand(interpolate(template, scope))
    found_sites = scan(template)
    prefix = _env_prefix(template)
    env: dict[str, str] = {}
    names: dict[str, str] = {}
    out: list[str] = []
    shifts: list[tuple[int, int]] = []  # (template offset, output offset) after each site
    last = 0
    for site in found_sites.sites:
        placeholder = site.placeholder
        out.append(template[last : placeholder.start])
        last = placeholder.end
        found, value = resolve(placeholder, scope)
        if not found:
            out.append(placeholder.text if placeholder.default is None else placeholder.default)
        else:
            text = render(value)
            _check(site, text)
            if site.context is Context.HEREDOC_LITERAL:
                out.append(text)  # bash expands nothing there: the text is inert
            else:
                name = names.setdefault(text, f"{prefix}{len(names)}")
                env[name] = text
                out.append(_REFERENCE[site.context].format(name))
        shifts.append((last, sum(map(len, out))))
    out.append(template[last:])
    script = "".join(out)
    for body in found_sites.literal_bodies:
        _check_literal_body(body, script, shifts, found_sites.sites)
    return _with_large_values_in_files(script, env)


def _check_literal_body(
    body: LiteralBody, script: str, shifts: list[tuple[int, int]], all_sites: tuple[Site, ...]
) -> None:
    # Values pasted into a quoted here-document must not produce its delimiter line, or the
    # lines after it would run as commands. Checked on the result: values can combine.
    inside = [s for s in all_sites if body.start <= s.placeholder.start < body.end]
    if not inside:
        return

    def out_at(offset: int) -> int:
        before = [(t, o) for t, o in shifts if t <= offset]
        return offset if not before else before[-1][1] + offset - before[-1][0]

    text = script[out_at(body.start) : out_at(body.end)]
    for line in text.split("\n"):
        if (line.lstrip("\t") if body.strip_tabs else line) == body.delimiter:
            names = ", ".join(dict.fromkeys(s.placeholder.text for s in inside))
            raise UnsafeSubstitutionError(
                f"{names} ({Context.HEREDOC_LITERAL.value}): the value would end the "
                f"here-document early (a line would read {body.delimiter!r}) and run the "
                "lines after it; use an unquoted delimiter (<<EOF)"
            )


def shown(command: ShellCommand, *, limit: int = 80) -> str:
    """What runs, for `-v` and `--dry-run`: the script with its references, then each value.

    Never a command line with the values pasted in: that would show `echo $(touch x)` for a
    command that only prints the text (issue 12 item 15). Values are JSON-quoted (one line,
    escapes visible) and cut at `limit` characters.
    """
    lines = [command.script]
    for name, value in command.env.items():
        quoted = json.dumps(value, ensure_ascii=False)
        if len(quoted) > limit:
            quoted = quoted[: limit - 1] + "…"
        lines.append(f"  with {name}={quoted}")
    for name, value in command.files.items():
        size = len(value.encode("utf-8", "surrogateescape"))
        lines.append(f"  with {name}=<{size:,} bytes, passed in a file>")
    return "\n".join(lines)


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
    form = _FORMS.get(site.need)
    if form is not None and not form.fullmatch(text):
        evaluates = (
            "as arithmetic (and runs $(...) inside array subscripts)"
            if site.need is Need.INTEGER
            else "as a variable name (and runs $(...) inside an array subscript)"
        )
        raise UnsafeSubstitutionError(
            f"{site.placeholder.text} stands in {site.where}: bash evaluates the text there "
            f"{evaluates}, so only {site.need.value} is accepted (got {text[:40]!r}); "
            "assign the value to a shell variable and check it first"
        )
