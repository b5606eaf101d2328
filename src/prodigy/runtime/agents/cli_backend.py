"""The run of an agent CLI backend (Codex, Gemini) from its request to its result.

Each backend subclasses `CliBackend` with its name, install hint, argv, event parser and
verdict; finding the executable, slash commands, the git identity and the process are here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from prodigy.core.agent_result import AgentResult
from prodigy.core.budget import exceeds, spend_of
from prodigy.core.config import AgentCliSettings, Config
from prodigy.runtime.agents.base import AgentPlugin, AgentRequest, CliSettings, slash_merge_prompt
from prodigy.runtime.agents.cli_agent import (
    AgentCliNotFoundError,
    EventParser,
    ExecutableNotFoundError,
    not_found,
    run_cli,
)
from prodigy.runtime.agents.cli_result import Verdict, agent_result
from prodigy.runtime.agents.git_identity import with_git_identity
from prodigy.runtime.agents.slash import expand_slash_command

E = TypeVar("E", bound=EventParser)


class CliBackend(Generic[E]):
    """Runs one agent CLI headless; a subclass says how to call it and read its events."""

    name: str
    install_hint: str

    def __init__(self, settings: CliSettings) -> None:
        self.settings = settings

    def merge_prompt(self, branch: str, target: str | None = None) -> str:
        # slash commands are expanded from .claude/commands before the CLI sees the prompt
        return slash_merge_prompt(branch, target)

    def executable(self, env: Mapping[str, str], label: str) -> str:
        raise NotImplementedError

    def argv(self, executable: str, prompt: str) -> tuple[str, ...]:
        raise NotImplementedError

    def parser(self) -> E:
        raise NotImplementedError

    def verdict(self, events: E, env: Mapping[str, str]) -> Verdict:
        raise NotImplementedError

    async def run(self, request: AgentRequest) -> AgentResult:
        try:
            executable = self.executable(request.env, request.label)
        except AgentCliNotFoundError as err:
            return not_found(str(err))
        home = request.env.get("HOME")
        prompt = expand_slash_command(request.prompt, request.cwd, Path(home) if home else None)
        env = await with_git_identity(request.env, request.cwd)
        events = self.parser()
        argv = self.argv(executable, prompt)
        limits = request.limits
        over_cap = None
        if limits is not None and not limits.unlimited:
            # no spending flag: watch the usage the events report, stop the CLI at the cap

            def over_cap() -> bool:
                return exceeds(spend_of(self.verdict(events, env).usage), limits)

        try:
            run = await run_cli(
                argv, request, env, events, self.settings.grace_period, over_cap=over_cap
            )
        except ExecutableNotFoundError as err:
            return not_found(f"{request.label}: {err}; {self.install_hint}")
        return agent_result(self.name, request, run, self.verdict(events, env))


def cli_plugin(
    backend: type[CliBackend[Any]], summary: str, section: Callable[[Config], AgentCliSettings]
) -> AgentPlugin[CliSettings]:
    """The plug-in record of a CLI backend whose settings are config `section`."""

    def from_config(config: Config, grace_period: float) -> CliSettings:
        mine = section(config)
        return CliSettings(
            executable=mine.executable or backend.name,
            args=mine.args or (),
            model=mine.model,
            grace_period=grace_period,
        )

    async def check_available(settings: CliSettings, env: Mapping[str, str], label: str) -> None:
        backend(settings).executable(env, label)

    return AgentPlugin(
        name=backend.name,
        summary=summary,
        settings_type=CliSettings,
        create=backend,
        from_config=from_config,
        check_available=check_available,
    )
