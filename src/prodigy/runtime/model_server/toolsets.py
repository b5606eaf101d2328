"""Which tool calls perform a directive, per agent CLI: the one vendor-specific part of a plan.

Claude Code has `Write` and `Bash`, Codex only `exec_command`, Gemini CLI `write_file` and
`run_shell_command`. Each toolset turns "write this file" and "run this command" into the
calls that CLI understands; `plan.py` decides which directive needs which.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call: the CLI runs `name` with `input` in its working directory."""

    name: str
    input: Mapping[str, object]
    note: str  # what the directive does, sent as text before the call
    may_fail: bool = False  # an error result is expected and does not fail the run


class Toolset(Protocol):
    """The tool calls one agent CLI needs for the two primitive operations."""

    name: str

    def write(self, target: str, content: str, note: str) -> tuple[ToolCall, ...]: ...

    def shell(self, command: str, note: str) -> ToolCall: ...


class ClaudeTools:
    """Claude Code: `Write` (after a `Read`) and `Bash`."""

    name = "claude"

    def write(self, target: str, content: str, note: str) -> tuple[ToolCall, ...]:
        # Claude Code's Write refuses to replace a file it has not Read in this session;
        # the Read fails harmlessly when the file does not exist yet
        return (
            ToolCall("Read", {"file_path": target}, note, may_fail=True),
            ToolCall("Write", {"file_path": target, "content": content}, note),
        )

    def shell(self, command: str, note: str) -> ToolCall:
        return ToolCall("Bash", {"command": command, "description": note}, note)


class CodexTools:
    """Codex CLI: everything through `exec_command`, a shell command."""

    name = "codex"

    def write(self, target: str, content: str, note: str) -> tuple[ToolCall, ...]:
        folder = shlex.quote(posixpath.dirname(target))
        command = f"mkdir -p {folder} && printf '%s' {shlex.quote(content)} > {shlex.quote(target)}"
        return (self.shell(command, note),)

    def shell(self, command: str, note: str) -> ToolCall:
        # login=false: a login shell's profile would reset PATH (Codex defaults to `bash -lc`);
        # yield_time_ms at its maximum so a slow command finishes before Codex answers
        arguments = {"cmd": command, "login": False, "yield_time_ms": 30000}
        return ToolCall("exec_command", arguments, note)


class GeminiTools:
    """Gemini CLI: `write_file` and `run_shell_command`."""

    name = "gemini"

    def write(self, target: str, content: str, note: str) -> tuple[ToolCall, ...]:
        return (ToolCall("write_file", {"file_path": target, "content": content}, note),)

    def shell(self, command: str, note: str) -> ToolCall:
        return ToolCall("run_shell_command", {"command": command, "description": note}, note)


CLAUDE_TOOLS = ClaudeTools()
CODEX_TOOLS = CodexTools()
GEMINI_TOOLS = GeminiTools()
