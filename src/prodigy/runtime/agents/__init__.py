"""The agent registry: every backend `agent:`, --agent and PRODIGY_AGENT can name.

Adding a backend is one module exporting an `AgentPlugin` as `PLUGIN` (see base.py) and
one `register(...)` line below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prodigy.core.config import Config
from prodigy.core.errors import UsageError
from prodigy.runtime.agents import claude, codex, gemini, scripted
from prodigy.runtime.agents.base import (
    Agent,
    AgentPlugin,
    AgentRequest,
    AgentSettings,
    CliSettings,
)
from prodigy.runtime.agents.claude import ClaudeAgent, ClaudeSettings, check_available
from prodigy.runtime.agents.codex import CodexAgent
from prodigy.runtime.agents.gemini import GeminiAgent
from prodigy.runtime.agents.scripted import ScriptedAgent

AGENTS: dict[str, AgentPlugin[Any]] = {}


def register(plugin: AgentPlugin[Any]) -> None:
    AGENTS[plugin.name] = plugin


register(claude.PLUGIN)
register(codex.PLUGIN)
register(gemini.PLUGIN)
register(scripted.PLUGIN)


def agent_names() -> tuple[str, ...]:
    """The registered agents, in registration order (the default first)."""
    return tuple(AGENTS)


def agents_help() -> str:
    """`claude (the Claude Code CLI (default)), scripted (...)`: for --help texts."""
    return ", ".join(f"{p.name} ({p.summary})" for p in AGENTS.values())


def plugin_for(name: str) -> AgentPlugin[Any]:
    """The backend called `name`; raises UsageError listing the known agents."""
    found = AGENTS.get(name)
    if found is None:
        known = ", ".join(sorted(AGENTS))
        raise UsageError(
            f"unknown agent {name!r}; known agents: {known} "
            "(set it with --agent, PRODIGY_AGENT or config `agent`)"
        )
    return found


def get_agent(name: str, settings: AgentSettings | None = None) -> Agent:
    """The agent called `name`, started with `settings` (its defaults when not its own)."""
    plugin = plugin_for(name)
    return plugin.create(plugin.coerce(settings))


def agent_from_config(name: str, config: Config, grace_period: float | None = None) -> Agent:
    """The agent called `name` with its settings from the effective configuration."""
    plugin = plugin_for(name)
    grace = config.grace_period if grace_period is None else grace_period
    return plugin.create(plugin.from_config(config, grace))


async def check_agent_available(
    name: str, config: Config, env: Mapping[str, str], label: str
) -> None:
    """Fail before anything is created when agent `name` cannot run here."""
    plugin = plugin_for(name)
    await plugin.check_available(plugin.from_config(config, config.grace_period), env, label)


__all__ = [
    "AGENTS",
    "Agent",
    "AgentPlugin",
    "AgentRequest",
    "AgentSettings",
    "ClaudeAgent",
    "ClaudeSettings",
    "CliSettings",
    "CodexAgent",
    "GeminiAgent",
    "ScriptedAgent",
    "agent_from_config",
    "agent_names",
    "agents_help",
    "check_agent_available",
    "check_available",
    "get_agent",
    "plugin_for",
    "register",
]
