"""Agents that run a prompt in a worktree: the registry of `claude` and `scripted`."""

from __future__ import annotations

from collections.abc import Callable

from prodigy.core.errors import UsageError
from prodigy.runtime.agents.base import Agent, AgentRequest, AgentSettings
from prodigy.runtime.agents.claude import ClaudeAgent, check_available
from prodigy.runtime.agents.scripted import ScriptedAgent

AGENTS: dict[str, Callable[[AgentSettings], Agent]] = {
    "claude": ClaudeAgent,
    "scripted": ScriptedAgent,
}


def get_agent(name: str, settings: AgentSettings) -> Agent:
    """The agent called `name`; raises UsageError listing the known agents."""
    factory = AGENTS.get(name)
    if factory is None:
        known = ", ".join(sorted(AGENTS))
        raise UsageError(
            f"unknown agent {name!r}; known agents: {known} "
            "(set it with --agent, PRODIGY_AGENT or config `agent`)"
        )
    return factory(settings)


__all__ = [
    "AGENTS",
    "Agent",
    "AgentRequest",
    "AgentSettings",
    "ClaudeAgent",
    "ScriptedAgent",
    "check_available",
    "get_agent",
]
