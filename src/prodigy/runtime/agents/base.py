"""The agent seam: the Agent protocol, the settings every agent gets, and the plug-in record.

An agent backend is one module that defines its Agent class, its settings (read from the
configuration), its availability check, its argv and environment, its output parser and
its error classification, and exports an `AgentPlugin` named `PLUGIN`; one line in
`prodigy.runtime.agents` registers it. See docs/architecture.md, "Adding an agent".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from prodigy.core.agent_result import AgentResult
from prodigy.core.budget import Limits
from prodigy.core.config import Config

TextCallback = Callable[[str], None]
# The Claude command `prodigy init` installs; agents that read .claude/commands resolve it.
MERGE_COMMAND = "/prodigy-merge-worktree"


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
    # what this run may spend (a budget's allowance); None: no cap. Claude Code gets the
    # dollars as --max-budget-usd; agents without such a flag are watched and stopped.
    limits: Limits | None = None


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """What every agent is started with; an agent's own settings extend this class, and
    every field of theirs has a default."""

    grace_period: float = 5.0  # SIGTERM -> SIGKILL delay on timeout or cancellation


@dataclass(frozen=True, slots=True)
class CliSettings(AgentSettings):
    """How an agent CLI is started: config `agents.<name>.executable|args|model`."""

    executable: str = ""  # empty: the agent's own command name
    args: tuple[str, ...] = ()  # before the prompt, after prodigy's own flags
    model: str | None = None  # passed as the CLI's model flag when set


class Agent(Protocol):
    """Runs prompts. Failures come back as AgentResult; only cancellation raises."""

    name: str

    async def run(self, request: AgentRequest) -> AgentResult: ...

    def merge_prompt(self, branch: str, target: str | None = None) -> str:
        """The prompt that asks this agent to resolve a conflicted merge of `branch`."""
        ...


def slash_merge_prompt(branch: str, target: str | None = None) -> str:
    """`/prodigy-merge-worktree <branch> [<target>]`, for agents that read Claude commands."""
    return f"{MERGE_COMMAND} {branch}" + (f" {target}" if target else "")


S = TypeVar("S", bound=AgentSettings)


async def always_available(settings: AgentSettings, env: Mapping[str, str], label: str) -> None:
    """For agents that need nothing outside prodigy."""
    del settings, env, label


@dataclass(frozen=True, slots=True)
class AgentPlugin(Generic[S]):
    """Everything prodigy needs to know about one agent backend."""

    name: str  # what `agent:`, --agent and PRODIGY_AGENT name it by
    summary: str  # one line, for --help and the docs
    settings_type: type[S]
    create: Callable[[S], Agent]
    # its settings from the effective configuration and the run's grace period
    from_config: Callable[[Config, float], S]
    # fail before anything is created when the backend cannot run (no process started)
    check_available: Callable[[S, Mapping[str, str], str], Awaitable[None]] = always_available

    def coerce(self, settings: AgentSettings | None) -> S:
        """`settings` if they are this agent's own, else its defaults with their grace period."""
        if isinstance(settings, self.settings_type):
            return settings
        if settings is None:
            return self.settings_type()
        return self.settings_type(grace_period=settings.grace_period)
