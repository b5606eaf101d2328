"""The Claude Code CLI agent: `claude -p --output-format stream-json ... -- <prompt>`.

It owns its settings (config `claude.*`), its availability check (the executable on the
child's PATH), its argv, its parser (stream_json.py) and how a failure is classified.
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from prodigy.core.agent_result import NO_RESULT_MESSAGE, AgentResult, ErrorKind, classify_failure
from prodigy.core.config import Config
from prodigy.core.errors import UsageError
from prodigy.core.quota import is_quota_text, parse_reset, quota_from_rate_limit_event
from prodigy.core.usage import Usage
from prodigy.runtime.agents.base import (
    AgentPlugin,
    AgentRequest,
    AgentSettings,
    slash_merge_prompt,
)
from prodigy.runtime.agents.stream_json import StreamSummary, open_recorder
from prodigy.runtime.process import (
    ExecutableNotFoundError,
    ProcessRequest,
    ProcessResult,
    run_process,
)

FIXED_ARGS = (
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--dangerously-skip-permissions",
)
INSTALL_HINT = (
    "install Claude Code with `npm install -g @anthropic-ai/claude-code`, "
    "or point prodigy at it with PRODIGY_CLAUDE=/path/to/claude or config `claude.executable`"
)
STDERR_TAIL_LINES = 40
# the result subtype when --max-budget-usd was reached ("Reached maximum budget ($5)")
BUDGET_SUBTYPE = "error_max_budget_usd"
_DETAIL_CHARS = 500
# Exit statuses of a claude killed by Ctrl-C or SIGTERM from outside (negative: by signal).
_INTERRUPTED = frozenset({-2, -15, 130, 143})


@dataclass(frozen=True, slots=True)
class ClaudeSettings(AgentSettings):
    """How Claude Code is started; from config `claude.*` and `PRODIGY_CLAUDE`."""

    executable: str = "claude"
    args: tuple[str, ...] = ()  # extra arguments, before `--` and the prompt


def settings_from_config(config: Config, grace_period: float) -> ClaudeSettings:
    """`agents.claude.*` over the older `claude.*` keys; a model becomes `--model`."""
    newer = config.agents.claude
    args = newer.args or config.claude.args
    if newer.model:
        args = ("--model", newer.model, *args)
    return ClaudeSettings(
        executable=newer.executable or config.claude.executable,
        args=args,
        grace_period=grace_period,
    )


class ClaudeNotFoundError(UsageError):
    """The configured claude executable does not exist on the child's PATH."""


def claude_argv(
    executable: str, settings: ClaudeSettings, prompt: str, max_cost_usd: float | None = None
) -> tuple[str, ...]:
    # the prompt goes last, after `--`, so a prompt starting with `-` is never read as a flag
    budget = () if max_cost_usd is None else ("--max-budget-usd", f"{max_cost_usd:.6f}")
    return (executable, *FIXED_ARGS, *budget, *settings.args, "--", prompt)


def resolve_executable(settings: ClaudeSettings, env: Mapping[str, str], label: str) -> str:
    """The path of the claude executable on the PATH of `env`; raises ClaudeNotFoundError."""
    found = shutil.which(settings.executable, path=env.get("PATH", ""))
    if found is None:
        raise ClaudeNotFoundError(
            f"{label}: Claude Code executable {settings.executable!r} not found "
            f"on PATH; {INSTALL_HINT}"
        )
    return found


async def check_available(
    settings: ClaudeSettings, env: Mapping[str, str] | None = None, label: str = "claude"
) -> None:
    """Fail fast, before any work starts, when claude cannot be found (no process spawned)."""
    resolve_executable(settings, os.environ if env is None else env, label)


class ClaudeAgent:
    """Runs Claude Code headless; success needs exit 0 and a result record with is_error false."""

    name = "claude"

    def __init__(self, settings: ClaudeSettings) -> None:
        self.settings = settings

    def merge_prompt(self, branch: str, target: str | None = None) -> str:
        return slash_merge_prompt(branch, target)

    async def run(self, request: AgentRequest) -> AgentResult:
        try:
            executable = resolve_executable(self.settings, request.env, request.label)
        except ClaudeNotFoundError as err:
            return _not_found(str(err))
        stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        with open_recorder(request.log_path, request.on_text, request.mask) as recorder:
            process = ProcessRequest(
                argv=claude_argv(
                    executable,
                    self.settings,
                    request.prompt,
                    None if request.limits is None else request.limits.max_cost_usd,
                ),
                cwd=request.cwd,
                env=request.env,
                timeout=request.timeout,
                grace_period=self.settings.grace_period,
                keep_output=False,  # the stream is parsed and logged line by line instead
                track=True,
            )
            try:
                outcome = await run_process(
                    process, on_stdout=recorder.feed, on_stderr=stderr.append
                )
            except ExecutableNotFoundError as err:
                return _not_found(f"{request.label}: {err}; {INSTALL_HINT}")
        return interpret(request, outcome, recorder.summary, "\n".join(stderr))


def interpret(
    request: AgentRequest, outcome: ProcessResult, summary: StreamSummary, stderr_tail: str
) -> AgentResult:
    """Decide success and the error kind of a finished claude process."""
    usage = summary.usage()
    if usage.duration_ms == 0:
        usage = _with_duration(usage, outcome.duration)
    succeeded = outcome.ok and not summary.is_error
    kind, message, resets_at = (
        (None, "", None) if succeeded else _failure(request, outcome, summary, stderr_tail)
    )
    limit_type = None
    if kind == "quota" and summary.rejected is not None:
        # the `rate_limit_event` names the reset to the second; the text only to the minute
        hit = quota_from_rate_limit_event({"rate_limit_info": dict(summary.rejected)})
        if hit is not None:
            limit_type = hit.limit_type
            if hit.resets_at is not None:
                resets_at = hit.resets_at.timestamp()
    return AgentResult(
        success=succeeded,
        exit_code=outcome.returncode,
        text=summary.result_text,
        is_error=summary.is_error,
        session_id=summary.session_id,
        usage=usage,
        log_path=request.log_path,
        error_kind=kind,
        error_message=message,
        stderr_tail=stderr_tail,
        resets_at=resets_at,
        limit_type=limit_type,
        quota_warning=dict(summary.warning) if summary.warning is not None else None,
    )


def _failure(
    request: AgentRequest, outcome: ProcessResult, summary: StreamSummary, stderr_tail: str
) -> tuple[ErrorKind, str, float | None]:
    where = f"; full log: {request.log_path}" if request.log_path is not None else ""
    code = outcome.returncode
    if outcome.timed_out:
        message = f"{request.label}: claude timed out after {outcome.duration:.0f} s{where}"
        return "timeout", message, None
    if code in _INTERRUPTED and summary.result is None:
        message = f"{request.label}: claude was interrupted (exit code {code}){where}"
        return "interrupted", message, None
    if summary.result is not None and summary.result.get("subtype") == BUDGET_SUBTYPE:
        # --max-budget-usd was reached: the cap, not the task (it may overshoot by one call)
        message = (
            f"{request.label}: claude reached its spending cap ({summary.error_detail}){where}"
        )
        return "budget", message, None
    # Claude often puts the reason in the result text, a crash puts it on stderr
    detail = _shorten(summary.result_text.strip() or stderr_tail or summary.error_detail)
    reason = f": {detail}" if detail else ""
    said = "\n".join((summary.result_text, summary.error_detail, stderr_tail))
    if summary.rejected is not None or is_quota_text(said):
        # "You've hit your session limit · resets 7:41pm (UTC)": the account's usage limit,
        # not the task; Claude Code prints the reset in its process's local time zone
        now = datetime.now().astimezone()
        moment = parse_reset(said, now, now.tzinfo or UTC)
        message = f"{request.label}: claude hit the usage limit (exit code {code}){reason}{where}"
        return "quota", message, moment.timestamp() if moment is not None else None
    kind = classify_failure(summary.error_detail, stderr_tail)
    if summary.result is None and kind == "task":
        return (
            "no_result",
            f"{request.label}: {NO_RESULT_MESSAGE} (exit code {code}){reason}{where}",
            None,
        )
    return kind, f"{request.label}: claude failed (exit code {code}){reason}{where}", None


def _not_found(message: str) -> AgentResult:
    return AgentResult(
        success=False,
        exit_code=None,
        is_error=True,
        error_kind="not_found",
        error_message=message,
    )


def _shorten(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _with_duration(usage: Usage, seconds: float) -> Usage:
    # no result record: the wall time of the process is the best duration we have
    return replace(usage, duration_ms=round(seconds * 1000))


PLUGIN = AgentPlugin(
    name="claude",
    summary="the Claude Code CLI, the default",
    settings_type=ClaudeSettings,
    create=ClaudeAgent,
    from_config=settings_from_config,
    check_available=check_available,
)
