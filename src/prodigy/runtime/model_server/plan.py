"""A prompt's directives as the turns of a scripted model: one tool call per turn, then text.

Pure: directives in, turns out. `@write` becomes the CLI's file-writing tool (Claude Code's
`Write`, see `toolsets.py`), `@append`, `@run` and `@commit` its shell tool, `@print` lines
form the final answer. `@sleep`, `@flaky` and `@fail` are gates the server checks before it
answers the turn they precede.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass

from prodigy.core.directives import (
    AppendFile,
    Commit,
    DirectiveError,
    Fail,
    Flaky,
    PrintText,
    RunCommand,
    Script,
    Sleep,
    WriteFile,
    describe,
)
from prodigy.runtime.model_server.toolsets import CLAUDE_TOOLS, ToolCall, Toolset

Gate = Sleep | Flaky | Fail


@dataclass(frozen=True, slots=True)
class Turn:
    """One model answer: check `gates` in order, then make `call`, or give the final text."""

    gates: tuple[Gate, ...]
    call: ToolCall | None


@dataclass(frozen=True, slots=True)
class Plan:
    """Every turn of a conversation; the last one has no call and ends it with `final_text`."""

    turns: tuple[Turn, ...]
    final_text: str


def plan_script(script: Script, cwd: str | None, tools: Toolset = CLAUDE_TOOLS) -> Plan:
    """The turns for `script` run in the absolute directory `cwd`. Raises DirectiveError.

    `cwd` is only needed to turn `@write`/`@append` paths into absolute paths; `tools` says
    which tool calls the CLI on the other end understands.
    """
    turns: list[Turn] = []
    gates: list[Gate] = []
    printed: list[str] = []
    for directive in script.directives:
        if isinstance(directive, Sleep | Flaky | Fail):
            gates.append(directive)
        elif isinstance(directive, PrintText):
            printed.append(directive.text)
        else:
            for call in _tool_calls(directive, cwd, tools):
                turns.append(Turn(tuple(gates), call))
                gates = []
    turns.append(Turn(tuple(gates), None))
    # the same rule as the scripted agent: without @print, the answer is the prose
    any_print = any(isinstance(d, PrintText) for d in script.directives)
    return Plan(tuple(turns), "\n".join(printed) if any_print else script.prose)


def _tool_calls(
    directive: WriteFile | AppendFile | RunCommand | Commit, cwd: str | None, tools: Toolset
) -> tuple[ToolCall, ...]:
    note = describe(directive)
    match directive:
        case WriteFile(path=path, content=content):
            return tools.write(_inside(cwd, path, directive.line), content, note)
        case AppendFile(path=path, content=content):
            target = _inside(cwd, path, directive.line)
            folder = shlex.quote(posixpath.dirname(target))
            command = (
                f"mkdir -p {folder} && printf '%s' {shlex.quote(content)} >> {shlex.quote(target)}"
            )
            return (tools.shell(command, note),)
        case RunCommand(command=command):
            return (tools.shell(command, note),)
        case Commit(message=message):
            # nothing staged is not an error, as in the scripted agent
            quoted = shlex.quote(message)
            command = f"git add -A && (git diff --cached --quiet || git commit -q -m {quoted})"
            return (tools.shell(command, note),)


def _inside(cwd: str | None, path: str, line: int) -> str:
    if cwd is None:
        raise DirectiveError(
            line,
            "the model server cannot place this file: the request does not say the "
            "agent's working directory (Claude Code's 'Primary working directory:' line, "
            "Codex's <cwd>, Gemini's 'Workspace Directories')",
        )
    root = posixpath.normpath(cwd)
    target = posixpath.normpath(posixpath.join(root, path))
    if target != root and not target.startswith(root.rstrip("/") + "/"):
        raise DirectiveError(line, f"{path!r} is outside the working directory {root}")
    return target
