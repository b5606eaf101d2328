"""The Agent protocol: run one prompt in a directory, return an AgentResult."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from prodigy.core.agent_result import AgentResult

TextCallback = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """One agent run. `env` is the complete child environment; the caller builds it."""

    prompt: str
    cwd: Path
    env: Mapping[str, str]
    timeout: float | None = None
    log_path: Path | None = None  # where the raw stream-json is saved, line by line
    label: str = "agent"  # step or item name, used in every message
    on_text: TextCallback | None = None  # one line per assistant text block or tool call
    mask: Callable[[str], str] | None = None  # applied to every line before it reaches the log
    # [start, end) ranges of `prompt` that are interpolated values: data. Claude gets the
    # prompt unchanged; the scripted agent never takes a directive from them (issue 12).
    data: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class CliSettings:
    """How one agent CLI is started: config `agents.<name>.executable|args|model`."""

    executable: str
    args: tuple[str, ...] = ()  # before the prompt, after prodigy's own flags
    model: str | None = None  # passed as the CLI's model flag when set


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """How agents are started; from config `claude.*`, `agents.*` and `PRODIGY_CLAUDE`."""

    claude_executable: str = "claude"
    claude_args: tuple[str, ...] = ()
    grace_period: float = 5.0  # SIGTERM -> SIGKILL delay on timeout or cancellation
    codex: CliSettings = CliSettings("codex")
    gemini: CliSettings = CliSettings("gemini")


class Agent(Protocol):
    """Runs prompts. Failures come back as AgentResult; only cancellation raises."""

    name: str

    async def run(self, request: AgentRequest) -> AgentResult: ...
