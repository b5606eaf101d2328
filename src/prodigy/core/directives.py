"""The directive language of the scripted agent: `@write`, `@run`, `@commit` ... lines in a prompt.

Pure: text in, directive values out. The scripted agent executes them; a scripted model server
can map each type to a Claude tool call (WriteFile -> Write, RunCommand -> Bash, ...).
See docs/scripted-agent.md for the language.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

from prodigy.core.errors import UsageError
from prodigy.core.provenance import Marked
from prodigy.core.shellsafe import UnsafeSubstitutionError, interpolate_shell
from prodigy.core.variables import Scope


class DirectiveError(UsageError):
    """A malformed directive line in a prompt for the scripted agent."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"prompt line {line}: {message} (see docs/scripted-agent.md)")
        self.line = line


@dataclass(frozen=True, slots=True)
class WriteFile:
    """Create or replace `path` (relative to the agent's directory) with `content`."""

    path: str
    content: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class AppendFile:
    """Append `content` to `path`, creating it (and its directories) if needed."""

    path: str
    content: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class RunCommand:
    """Run `command` with `bash -c`; a non-zero exit fails the run with that code.

    Interpolated values in the command reach it as environment variables (`env`), referenced
    the way `shell:` steps reference them, never as shell code."""

    command: str
    line: int = field(default=0, compare=False)
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Commit:
    """`git add -A` and commit with `message`; nothing staged means no commit."""

    message: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class PrintText:
    """Add `text` to the run's result text."""

    text: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Fail:
    """Stop and fail the run with exit `code` and `message`."""

    code: int
    message: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait `seconds` (counts against the run's timeout)."""

    seconds: float
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Flaky:
    """Fail with exit 1 the first `failures` times counter `key` is reached, then continue."""

    key: str
    failures: int
    line: int = field(default=0, compare=False)


Directive = WriteFile | AppendFile | RunCommand | Commit | PrintText | Fail | Sleep | Flaky

DIRECTIVE_NAMES = ("write", "append", "run", "commit", "print", "fail", "sleep", "flaky")
DEFAULT_COMMIT_MESSAGE = "scripted commit"


@dataclass(frozen=True, slots=True)
class Script:
    """A parsed prompt: its directives in order, and the remaining (non-directive) prose."""

    directives: tuple[Directive, ...]
    prose: str


_HEAD = re.compile(r"@([A-Za-z][\w-]*)(?=[ \t]|$)")
_HEREDOC = re.compile(r"<<([A-Za-z_]\w*)")
_PATH_BODY = re.compile(r"[ \t]+(\S+)(?:[ \t](.*))?", re.DOTALL)  # a value may hold newlines
_FLAKY_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def parse_directives(text: str) -> list[Directive]:
    """The directives of a prompt, in order. Raises DirectiveError naming the line."""
    return list(parse_script(text).directives)


def parse_script(prompt: str | Marked) -> Script:
    """Split a prompt into directives and prose. Raises DirectiveError naming the line.

    Only the prompt's own text can make a directive: in a `Marked` prompt, a line whose `@`
    or name is an interpolated value is prose, a value never ends a block, and values in a
    `@run` command reach it as environment variables, never as code (issue 12 item 16).
    """
    marked = prompt if isinstance(prompt, Marked) else Marked(prompt)
    keep = [
        i
        for i, char in enumerate(marked.text)
        if not (char == "\r" and marked.text[i + 1 : i + 2] == "\n")
    ]
    text = "".join(marked.text[i] for i in keep)  # `\r\n` read as `\n`
    mask = "".join(marked.mask()[i] for i in keep)
    all_flags = marked.flags()
    flags = [all_flags[i] for i in keep]
    masks = mask.split("\n")  # lines end only at the prompt's own newlines
    starts = [0]
    for line in masks[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    lines = [text[start : start + len(m)] for start, m in zip(starts, masks, strict=True)]
    directives: list[Directive] = []
    prose: list[str] = []
    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        index += 1
        head = _HEAD.match(masks[number - 1])
        name = head.group(1) if head else ""
        if head is None or name not in DIRECTIVE_NAMES:
            _reject_near_miss(name, number)
            prose.append(line)
            continue
        args = line[head.end() :]
        block, index = _heredoc(name, masks[number - 1][head.end() :], masks, index, number)
        heredoc = None if block is None else lines[index - 1 - len(block) : index - 1]
        directive = _build(name, args, heredoc, number)
        if isinstance(directive, RunCommand) and any(flags):
            if heredoc is not None:
                start = starts[index - 1 - len(heredoc)]
            else:
                start = starts[number - 1] + len(line) - len(directive.command)
            directive = _run_with_data(directive, flags[start : start + len(directive.command)])
        directives.append(directive)
    return Script(tuple(directives), "\n".join(prose).strip())


def _run_with_data(directive: RunCommand, flags: list[bool]) -> RunCommand:
    """The command with each value replaced by a reference to an environment variable,
    chosen by the shell context it stands in (prodigy.core.shellsafe)."""
    body = directive.command
    if not any(flags):
        return directive
    template: list[str] = []
    values: dict[str, str] = {}
    i = 0
    while i < len(body):
        if not flags[i]:
            template.append(body[i])
            i += 1
            continue
        j = i
        while j < len(body) and flags[j]:
            j += 1
        name = f"PRODIGY_DATA_{len(values)}"
        values[name] = body[i:j]
        template.append("${" + name + "}")
        i = j
    try:
        command = interpolate_shell("".join(template), Scope(values))
    except UnsafeSubstitutionError as exc:
        raise DirectiveError(directive.line, f"@run: {exc}") from None
    if command.files:
        raise DirectiveError(directive.line, "@run: a value is too large to pass to a command")
    return RunCommand(command.script, directive.line, tuple(command.env.items()))


def _reject_near_miss(name: str, number: int) -> None:
    # `@dataclass` in a normal prompt is prose; `@wrte` is a typo that must not pass silently
    if not name:
        return
    close = difflib.get_close_matches(name.lower(), DIRECTIVE_NAMES, n=1, cutoff=0.75)
    if close:
        raise DirectiveError(number, f"unknown directive @{name}; did you mean @{close[0]}?")


def _heredoc(
    name: str, args: str, lines: list[str], index: int, number: int
) -> tuple[list[str] | None, int]:
    """If the body is exactly `<<TAG`, the block lines up to the line `TAG`, and the next index."""
    if name in ("write", "append"):
        match = _PATH_BODY.fullmatch(args)
        body = (match.group(2) or "") if match else ""
    elif name in ("run", "commit", "print"):
        body = args
    else:
        return None, index
    heredoc = _HEREDOC.fullmatch(body.strip())
    if heredoc is None:
        return None, index
    tag = heredoc.group(1)
    for end in range(index, len(lines)):
        if lines[end] == tag:
            return lines[index:end], end + 1
    raise DirectiveError(number, f"@{name} opens a block with <<{tag} but no line '{tag}' ends it")


def _build(name: str, args: str, heredoc: list[str] | None, number: int) -> Directive:
    if name in ("write", "append"):
        return _build_file(name, args, heredoc, number)
    body = "\n".join(heredoc) if heredoc is not None else _strip_separator(args)
    if name == "run":
        if not body.strip():
            raise DirectiveError(number, "@run needs a command, e.g. '@run make test'")
        return RunCommand(body, number)
    if name == "commit":
        return Commit(body.strip() or DEFAULT_COMMIT_MESSAGE, number)
    if name == "print":
        return PrintText(body, number)
    if name == "fail":
        return _build_fail(args, number)
    if name == "sleep":
        return _build_sleep(args, number)
    return _build_flaky(args, number)


def _strip_separator(args: str) -> str:
    # exactly one separator character is dropped, so leading spaces of the text survive
    return args[1:] if args[:1] in (" ", "\t") else args


def _build_file(name: str, args: str, heredoc: list[str] | None, number: int) -> Directive:
    match = _PATH_BODY.fullmatch(args)
    if match is None:
        raise DirectiveError(number, f"@{name} needs a path, e.g. '@{name} notes.txt hello'")
    path, rest = match.group(1), match.group(2) or ""
    if heredoc is not None:
        content = "".join(f"{body_line}\n" for body_line in heredoc)
    else:
        content = f"{rest}\n" if rest else ""
    if name == "write":
        return WriteFile(path, content, number)
    return AppendFile(path, content, number)


def _build_fail(args: str, number: int) -> Fail:
    code_text, _, message = args.strip().partition(" ")
    if not code_text:
        return Fail(1, "", number)
    if not code_text.isdigit() or not 1 <= int(code_text) <= 255:
        raise DirectiveError(
            number,
            f"@fail needs an exit code 1-255 first, e.g. '@fail 2 tests broke', got {code_text!r}",
        )
    return Fail(int(code_text), message.strip(), number)


def _build_sleep(args: str, number: int) -> Sleep:
    try:
        seconds = float(args.strip())
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        raise DirectiveError(
            number, f"@sleep needs seconds >= 0, e.g. '@sleep 0.5', got {args.strip()!r}"
        )
    return Sleep(seconds, number)


def _build_flaky(args: str, number: int) -> Flaky:
    parts = args.split()
    if len(parts) != 2 or not _FLAKY_KEY.fullmatch(parts[0]) or not parts[1].isdigit():
        raise DirectiveError(
            number,
            "@flaky needs a key (letters, digits, '.', '_', '-') and a count: '@flaky build 2'",
        )
    return Flaky(parts[0], int(parts[1]), number)


def format_directive(directive: Directive) -> str:
    """Directive text that `parse_directives` reads back as an equal directive."""
    match directive:
        case WriteFile(path=path, content=content) | AppendFile(path=path, content=content):
            name = "write" if isinstance(directive, WriteFile) else "append"
            return _format_file(name, path, content)
        case RunCommand(command=body):
            return _format_body("run", body)
        case Commit(message=body):
            return _format_body("commit", body)
        case PrintText(text=body):
            return _format_body("print", body)
        case Fail(code=code, message=message):
            return f"@fail {code} {message}".rstrip()
        case Sleep(seconds=seconds):
            return f"@sleep {seconds!r}"
        case Flaky(key=key, failures=failures):
            return f"@flaky {key} {failures}"


def describe(directive: Directive) -> str:
    """One line saying what the directive does, for logs and live echo."""
    first, _, block = format_directive(directive).partition("\n")
    return f"{first} ({block.count(chr(10))} lines)" if block else first


def _format_file(name: str, path: str, content: str) -> str:
    if not content:
        return f"@{name} {path}"
    if not content.endswith("\n"):
        raise ValueError(f"@{name} content must be empty or end with a newline: {content!r}")
    body = content[:-1]
    if body and "\n" not in body and not _looks_like_heredoc(body):
        return f"@{name} {path} {body}"
    lines = body.split("\n")
    tag = _fresh_tag(lines)
    return "\n".join([f"@{name} {path} <<{tag}", *lines, tag])


def _format_body(name: str, body: str) -> str:
    if "\n" not in body and not _looks_like_heredoc(body) and body.strip() == body:
        return f"@{name} {body}".rstrip() if body else f"@{name}"
    lines = body.split("\n")
    tag = _fresh_tag(lines)
    return "\n".join([f"@{name} <<{tag}", *lines, tag])


def _looks_like_heredoc(body: str) -> bool:
    return _HEREDOC.fullmatch(body.strip()) is not None


def _fresh_tag(lines: list[str]) -> str:
    tag, counter = "EOF", 0
    while tag in lines:
        counter += 1
        tag = f"EOF{counter}"
    return tag
