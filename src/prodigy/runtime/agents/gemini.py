"""The Gemini CLI agent: `gemini -p <prompt> --output-format stream-json --approval-mode yolo`.

`--approval-mode yolo` approves every tool call (the step's worktree is the sandbox), and
`--skip-trust` keeps the CLI from asking whether to trust a folder it has not seen, which a
fresh worktree always is. Gemini runs git with `GIT_CONFIG_GLOBAL=/dev/null`, so prodigy
passes the user's commit identity as GIT_AUTHOR_* / GIT_COMMITTER_* (git_identity.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from prodigy.core.prices import estimate_cost
from prodigy.runtime.agents.base import CliSettings
from prodigy.runtime.agents.cli_agent import (
    resolve,
)
from prodigy.runtime.agents.cli_backend import CliBackend, cli_plugin
from prodigy.runtime.agents.cli_result import Verdict
from prodigy.runtime.agents.gemini_events import GeminiEvents

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


def check_gemini(settings: CliSettings, env: Mapping[str, str], label: str) -> str:
    """The gemini executable's path; raises AgentCliNotFoundError naming the npm package."""
    return resolve(settings.executable or NAME, env, label, "Gemini CLI", INSTALL_HINT)


class GeminiAgent(CliBackend[GeminiEvents]):
    """Runs Gemini CLI headless; success needs exit 0 and a result with status success."""

    name = NAME
    install_hint = INSTALL_HINT

    def executable(self, env: Mapping[str, str], label: str) -> str:
        return check_gemini(self.settings, env, label)

    def argv(self, executable: str, prompt: str) -> tuple[str, ...]:
        return gemini_argv(executable, self.settings, prompt)

    def parser(self) -> GeminiEvents:
        return GeminiEvents()

    def verdict(self, events: GeminiEvents, env: Mapping[str, str]) -> Verdict:
        del env  # Gemini's events name their models
        usage, per_model = events.usage()
        return Verdict(
            succeeded=events.succeeded,
            ended=events.result is not None,
            text=events.text,
            failure=events.failure,
            session_id=events.session_id,
            usage=estimate_cost(usage, per_model),
        )


PLUGIN = cli_plugin(GeminiAgent, "the Google Gemini CLI", lambda config: config.agents.gemini)
