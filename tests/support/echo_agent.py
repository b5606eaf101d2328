"""A third agent backend, as a plug-in author writes one: this module plus one registry line.

`echo` writes the prompt it was given to ECHO.md in the worktree and succeeds; it needs no
configuration and nothing outside prodigy.
"""

from __future__ import annotations

from prodigy.core.agent_result import AgentResult
from prodigy.core.config import Config
from prodigy.runtime.agents.base import (
    AgentPlugin,
    AgentRequest,
    AgentSettings,
    slash_merge_prompt,
)


class EchoAgent:
    name = "echo"

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings

    async def run(self, request: AgentRequest) -> AgentResult:
        (request.cwd / "ECHO.md").write_text(request.prompt + "\n", encoding="utf-8")
        return AgentResult(success=True, exit_code=0, text=f"echoed {len(request.prompt)} chars")

    def merge_prompt(self, branch: str, target: str | None = None) -> str:
        return slash_merge_prompt(branch, target)


def _settings(config: Config, grace_period: float) -> AgentSettings:
    del config
    return AgentSettings(grace_period=grace_period)


PLUGIN = AgentPlugin(
    name="echo",
    summary="writes the prompt to ECHO.md (a test backend)",
    settings_type=AgentSettings,
    create=EchoAgent,
    from_config=_settings,
)
