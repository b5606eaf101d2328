"""AgentSettings from the configuration: `claude.*`, then `agents.<name>.*` over it."""

from __future__ import annotations

from prodigy.core.config import AgentCliSettings, Config
from prodigy.runtime.agents.base import AgentSettings, CliSettings


def agent_settings(config: Config) -> AgentSettings:
    """How every agent starts, as configured."""
    claude = config.agents.claude
    claude_args = claude.args or config.claude.args
    if claude.model:
        claude_args = ("--model", claude.model, *claude_args)
    return AgentSettings(
        claude_executable=claude.executable or config.claude.executable,
        claude_args=claude_args,
        grace_period=config.grace_period,
        codex=_cli(config.agents.codex, "codex"),
        gemini=_cli(config.agents.gemini, "gemini"),
    )


def _cli(settings: AgentCliSettings, default: str) -> CliSettings:
    return CliSettings(
        executable=settings.executable or default,
        args=settings.args or (),
        model=settings.model,
    )
