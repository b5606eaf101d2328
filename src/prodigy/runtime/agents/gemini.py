"""The Gemini CLI agent: `gemini -p <prompt> --output-format stream-json --approval-mode yolo`.

`--approval-mode yolo` approves every tool call (the step's worktree is the sandbox), and
`--skip-trust` keeps the CLI from asking whether to trust a folder it has not seen, which a
fresh worktree always is. Gemini runs git with `GIT_CONFIG_GLOBAL=/dev/null`, so prodigy
passes the user's commit identity as GIT_AUTHOR_* / GIT_COMMITTER_* (git_identity.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from prodigy.core.agent_result import AgentResult
from prodigy.core.prices import estimate_cost
from prodigy.runtime.agents.base import AgentRequest, AgentSettings, CliSettings
from prodigy.runtime.agents.cli_agent import (
    AgentCliNotFoundError,
    ExecutableNotFoundError,
    not_found,
    resolve,
    run_cli,
)
from prodigy.runtime.agents.cli_result import Verdict, agent_result
from prodigy.runtime.agents.gemini_events import GeminiEvents
from prodigy.runtime.agents.git_identity import with_git_identity
from prodigy.runtime.agents.slash import expand_slash_command

NAME = "gemini"
PACKAGE = "@google/gemini-cli"
FIXED_ARGS = ("--output-format", "stream-json", "--approval-mode", "yolo", "--skip-trust")
INSTALL_HINT = (
    f"install the Gemini CLI with `npm install -g {PACKAGE}`, "
    "or point prodigy at it with config `agents.gemini.executable`"
)


def gemini_argv(executable: str, settings: CliSettings, prompt: str) -> tuple[str, ...]:
    # `--prompt=` glues the prompt to its flag, so a prompt starting with `-` stays a prompt
    model = ("-m", settings.model) if settings.model else ()
    return (executable, *FIXED_ARGS, *model, *settings.args, f"--prompt={prompt}")


def check_gemini(settings: AgentSettings, env: Mapping[str, str], label: str) -> str:
    """The gemini executable's path; raises AgentCliNotFoundError naming the npm package."""
    return resolve(settings.gemini.executable, env, label, "Gemini CLI", INSTALL_HINT)


class GeminiAgent:
    """Runs Gemini CLI headless; success needs exit 0 and a result with status success."""

    name = NAME

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings

    async def run(self, request: AgentRequest) -> AgentResult:
        try:
            executable = check_gemini(self.settings, request.env, request.label)
        except AgentCliNotFoundError as err:
            return not_found(str(err))
        home = request.env.get("HOME")
        prompt = expand_slash_command(request.prompt, request.cwd, Path(home) if home else None)
        env = await with_git_identity(request.env, request.cwd)
        events = GeminiEvents()
        argv = gemini_argv(executable, self.settings.gemini, prompt)
        try:
            run = await run_cli(argv, request, env, events, self.settings.grace_period)
        except ExecutableNotFoundError as err:
            return not_found(f"{request.label}: {err}; {INSTALL_HINT}")
        usage, per_model = events.usage()
        verdict = Verdict(
            succeeded=events.succeeded,
            ended=events.result is not None,
            text=events.text,
            failure=events.failure,
            session_id=events.session_id,
            usage=estimate_cost(usage, per_model),
        )
        return agent_result(NAME, request, run, verdict)
