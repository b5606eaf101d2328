"""How a finished Codex or Gemini run is judged: success, error kind, message, reset time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from prodigy.core.agent_result import (
    NO_RESULT_MESSAGE,
    AgentResult,
    ErrorKind,
    classify_agent_failure,
)
from prodigy.core.quota import parse_reset
from prodigy.core.usage import Usage
from prodigy.runtime.agents.base import AgentRequest
from prodigy.runtime.agents.cli_agent import INTERRUPTED, CliOutcome, shorten


def judge_failure(
    name: str,
    request: AgentRequest,
    run: CliOutcome,
    detail: str,
    *,
    ended: bool,
) -> tuple[ErrorKind, str, float | None]:
    """(kind, one-line message, resets_at) of a failed run.

    `detail` is what the CLI's events said went wrong ('' if nothing); `ended` whether they
    reached their final record (a completed/failed turn, a result).
    """
    where = f"; full log: {request.log_path}" if request.log_path is not None else ""
    outcome = run.process
    code = outcome.returncode
    if outcome.timed_out:  # the limit, not the measured time, which a busy machine stretches
        limit = request.timeout if request.timeout is not None else outcome.duration
        return "timeout", f"{request.label}: {name} timed out after {limit:g} s{where}", None
    if code in INTERRUPTED and not ended:
        return (
            "interrupted",
            f"{request.label}: {name} was interrupted (exit code {code}){where}",
            None,
        )
    kind = classify_agent_failure(detail, run.stderr_tail)
    reason = shorten(detail or _last_lines(run.stderr_tail))
    text = f": {reason}" if reason else ""
    resets_at = None
    if kind == "quota":
        # the CLIs write wall-clock times in the local time zone of their process
        now = datetime.now().astimezone()
        moment = parse_reset(detail or run.stderr_tail, now, now.tzinfo or UTC)
        resets_at = moment.timestamp() if moment is not None else None
    if not ended and kind == "task":
        return (
            "no_result",
            f"{request.label}: {NO_RESULT_MESSAGE} (exit code {code}){text}{where}",
            None,
        )
    return kind, f"{request.label}: {name} failed (exit code {code}){text}{where}", resets_at


def _last_lines(text: str, count: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a backend's event parser concluded about a finished run."""

    succeeded: bool  # the events say so (the exit code is checked too)
    ended: bool  # the final record (completed/failed turn, result) arrived
    text: str  # the answer, or the last words before a failure
    failure: str  # what the events said went wrong, '' if nothing
    session_id: str | None
    usage: Usage


def agent_result(
    name: str, request: AgentRequest, run: CliOutcome, verdict: Verdict
) -> AgentResult:
    """The AgentResult of a finished run; the wall time is the duration."""
    usage = replace(verdict.usage, duration_ms=round(run.process.duration * 1000))
    common = {
        "exit_code": run.process.returncode,
        "session_id": verdict.session_id,
        "usage": usage,
        "log_path": request.log_path,
        "stderr_tail": run.stderr_tail,
    }
    if run.over_cap:
        where = f"; full log: {request.log_path}" if request.log_path is not None else ""
        return AgentResult(
            success=False,
            text=verdict.text,
            is_error=True,
            error_kind="budget",
            error_message=(
                f"{request.label}: {name} reached its spending cap and was stopped{where}"
            ),
            **common,  # type: ignore[arg-type]
        )
    if run.process.ok and verdict.succeeded:
        return AgentResult(success=True, text=verdict.text, **common)  # type: ignore[arg-type]
    kind, message, resets_at = judge_failure(
        name, request, run, verdict.failure, ended=verdict.ended
    )
    return AgentResult(
        success=False,
        text=verdict.failure or verdict.text,
        is_error=True,
        error_kind=kind,
        error_message=message,
        resets_at=resets_at,
        **common,  # type: ignore[arg-type]
    )
