"""The OpenAI Codex CLI agent: `codex exec --json ... -- <prompt>` in the step's worktree.

Why `--dangerously-bypass-approvals-and-sandbox`: Codex's own sandbox (`-s workspace-write`,
`--full-auto`) mounts `.git` read-only, so the agent could not commit; the worktree prodigy
made for the step is the sandbox, as `--dangerously-skip-permissions` is for Claude.
`--skip-git-repo-check` because a worktree's `.git` is a file Codex may not trust.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from prodigy.core.prices import estimate_cost
from prodigy.runtime.agents.base import CliSettings
from prodigy.runtime.agents.cli_agent import (
    resolve,
)
from prodigy.runtime.agents.cli_backend import CliBackend, cli_plugin
from prodigy.runtime.agents.cli_result import Verdict
from prodigy.runtime.agents.codex_events import CodexEvents

NAME = "codex"
PACKAGE = "@openai/codex"
FIXED_ARGS = (
    "exec",
    "--json",
    "--skip-git-repo-check",
    "--dangerously-bypass-approvals-and-sandbox",
)
INSTALL_HINT = (
    f"install the Codex CLI with `npm install -g {PACKAGE}`, "
    "or point prodigy at it with config `agents.codex.executable`"
)


def codex_argv(executable: str, settings: CliSettings, prompt: str) -> tuple[str, ...]:
    # the prompt goes last, after `--`, so a prompt starting with `-` is never read as a flag
    model = ("-m", settings.model) if settings.model else ()
    return (executable, *FIXED_ARGS, *model, *settings.args, "--", prompt)


def check_codex(settings: CliSettings, env: Mapping[str, str], label: str) -> str:
    """The codex executable's path; raises AgentCliNotFoundError naming the npm package."""
    return resolve(settings.executable or NAME, env, label, "Codex CLI", INSTALL_HINT)


def codex_model(settings: CliSettings, env: Mapping[str, str]) -> str | None:
    """The model Codex will use: `-m`, else `model` in $CODEX_HOME/config.toml; None if unsaid.

    Codex's events do not name the model, and the cost estimate needs it.
    """
    if settings.model:
        return settings.model
    args = list(settings.args)
    for flag in ("-m", "--model"):
        if flag in args[:-1]:
            return args[args.index(flag) + 1]
    home = env.get("CODEX_HOME") or (str(Path(env["HOME"]) / ".codex") if env.get("HOME") else None)
    if home is None:
        return None
    try:
        config = tomllib.loads((Path(home) / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model = config.get("model")
    return model if isinstance(model, str) and model else None


class CodexAgent(CliBackend[CodexEvents]):
    """Runs Codex headless; success needs exit 0 and a completed, not failed, turn."""

    name = NAME
    install_hint = INSTALL_HINT

    def executable(self, env: Mapping[str, str], label: str) -> str:
        return check_codex(self.settings, env, label)

    def argv(self, executable: str, prompt: str) -> tuple[str, ...]:
        return codex_argv(executable, self.settings, prompt)

    def parser(self) -> CodexEvents:
        return CodexEvents()

    def verdict(self, events: CodexEvents, env: Mapping[str, str]) -> Verdict:
        return Verdict(
            succeeded=events.succeeded,
            ended=events.turns_completed > 0 or events.failure is not None,
            text=events.last_message,
            failure=events.failure or "",
            session_id=events.thread_id,
            usage=estimate_cost(events.usage(codex_model(self.settings, env))),
        )


PLUGIN = cli_plugin(CodexAgent, "the OpenAI Codex CLI", lambda config: config.agents.codex)
