"""Agents that run a prompt in a worktree: the registry of claude, codex, gemini, scripted."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from prodigy.core.errors import UsageError
from prodigy.runtime.agents.base import Agent, AgentRequest, AgentSettings, CliSettings
from prodigy.runtime.agents.claude import ClaudeAgent, check_available
from prodigy.runtime.agents.codex import CodexAgent, check_codex
from prodigy.runtime.agents.gemini import GeminiAgent, check_gemini
from prodigy.runtime.agents.scripted import ScriptedAgent

AGENTS: dict[str, Callable[[AgentSettings], Agent]] = {
    "claude": ClaudeAgent,
    "codex": CodexAgent,
    "gemini": GeminiAgent,
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


async def check_agent(
    name: str, settings: AgentSettings, env: Mapping[str, str] | None = None, label: str = "agent"
) -> None:
    """Fail before any work when agent `name` cannot start: unknown, or its CLI is missing.

    No process is started; the error names the npm package to install.
    """
    get_agent(name, settings)
    env = os.environ if env is None else env
    if name == "claude":
        await check_available(settings, env, label)
    elif name == "codex":
        check_codex(settings, env, label)
    elif name == "gemini":
        check_gemini(settings, env, label)


__all__ = [
    "AGENTS",
    "Agent",
    "AgentRequest",
    "AgentSettings",
    "ClaudeAgent",
    "CliSettings",
    "CodexAgent",
    "GeminiAgent",
    "ScriptedAgent",
    "check_agent",
    "check_available",
    "get_agent",
]
