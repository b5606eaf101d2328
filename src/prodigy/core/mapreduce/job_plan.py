"""The fixed facts of a MapReduce job before anything runs: ids, names, limits, input parsing.

Pure: the clock, the random suffix and the environment are handed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from prodigy.core.errors import UsageError
from prodigy.core.mapreduce.item_checks import BadItemsError, check_items, load_json
from prodigy.core.workflow import MapPhase, Step, TimeoutConfig

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
INPUT_COMMAND_TIMEOUT = 300.0  # seconds, as prodigy


def new_job_id(now: datetime, suffix: str) -> str:
    """`mapreduce-YYYYMMDD_HHMMSS-<suffix>`: jobs started in the same second still differ."""
    return f"mapreduce-{now.strftime('%Y%m%d_%H%M%S')}-{suffix}"


def item_id(index: int) -> str:
    """`item_<index after the pipeline>` (prodigy's naming)."""
    return f"item_{index}"


def agent_id(job_id: str, index: int) -> str:
    return f"{job_id}_agent_{index}"


def agent_branch(job_id: str, index: int) -> str:
    return f"prodigy-agent-{job_id}-{index}"


def agent_dir_name(index: int) -> str:
    """The agent worktree's directory under `<worktrees>/<repo-key>/<job-id>/`."""
    return f"agent-{index}"


def resolve_count(value: int | str, env: Mapping[str, str], where: str) -> int:
    """An integer field that may be written `"${VAR}"`/`"$VAR"`; it must come out >= 1.

    0 or a negative value would start nothing and wait forever, so it is an error here.
    """
    text = str(value).strip()
    match = _VAR.fullmatch(text)
    if match:
        name = match.group(1) or match.group(2)
        if name not in env:
            raise UsageError(
                f"{where}: {text} names the variable {name}, which is not set in the "
                "workflow env or your environment; set it or write a number"
            )
        text = env[name].strip()
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"{where}: expected a whole number, got {text!r}") from None
    if number < 1:
        raise UsageError(f"{where}: must be 1 or more, got {number} (0 would never start)")
    return number


@dataclass(frozen=True, slots=True)
class MapLimits:
    """Resolved map settings: parallelism, timeouts in seconds (None: none), what a timeout does."""

    max_parallel: int
    agent_timeout: float | None  # the whole agent (PerAgent and Hybrid policies)
    step_timeouts: Mapping[int, int] = field(default_factory=dict)  # template index -> seconds
    timeout_action: str = "Dlq"  # Dlq | Skip | Fail | GracefulTerminate
    grace_period: float | None = None  # SIGTERM -> SIGKILL for a timed-out agent
    monitoring: bool = True  # agent_progress events


def map_limits(phase: MapPhase, env: Mapping[str, str]) -> MapLimits:
    """`max_parallel` and `agent_timeout_secs`/`timeout_config` resolved against `env`.

    `timeout_config.agent_timeout_secs` wins over the top-level key when both are set.
    """
    where = str(phase.location)
    parallel = resolve_count(phase.max_parallel, env, f"{where}: map.max_parallel")
    timeout: float | None = None
    config = phase.timeout_config
    if config is not None and config.agent_timeout_secs is not None:
        timeout = float(config.agent_timeout_secs)
    elif phase.agent_timeout_secs is not None:
        timeout = float(resolve_count(phase.agent_timeout_secs, env, f"{where}: agent_timeout"))
    if config is None:
        return MapLimits(max_parallel=parallel, agent_timeout=timeout)
    steps = step_timeouts(phase, config, timeout)
    return MapLimits(
        max_parallel=parallel,
        agent_timeout=None if config.timeout_policy == "PerCommand" else timeout,
        step_timeouts=steps,
        timeout_action=config.timeout_action,
        grace_period=float(config.cleanup_grace_period_secs),
        monitoring=config.enable_monitoring,
    )


def step_timeouts(
    phase: MapPhase, config: TimeoutConfig, agent_timeout: float | None
) -> dict[int, int]:
    """Per-step limits: `command_timeouts` keyed by step index, id, name or kind (claude,
    shell ...); under PerCommand every other step gets the agent timeout as its own."""
    out: dict[int, int] = {}
    for index, step in enumerate(phase.agent_template):
        keys = [k for k in (str(index), step.id, step.name, step.action.kind) if k]
        found = next(
            (config.command_timeouts[k] for k in keys if k in config.command_timeouts), None
        )
        if found is None and config.timeout_policy == "PerCommand" and agent_timeout:
            found = int(agent_timeout)
        if found is not None:
            out[index] = found
    return out


def timed_template(template: tuple[Step, ...], limits: MapLimits) -> tuple[Step, ...]:
    """The agent template with the per-step limits applied (a step's own `timeout:` wins)."""
    return tuple(
        replace(step, timeout=limits.step_timeouts[i])
        if i in limits.step_timeouts and step.timeout is None
        else step
        for i, step in enumerate(template)
    )


def looks_like_file(text: str) -> bool:
    """An input naming a `.json` file (no spaces): missing means an error, not a command."""
    stripped = text.strip()
    return bool(stripped) and " " not in stripped and stripped.lower().endswith(".json")


class MalformedInputError(BadItemsError):
    """The input file is not JSON at all (often a setup step's fault): the run fails (exit 1)
    and stays resumable, unlike items JSON cannot hold safely (BadItemsError, exit 2)."""


def parse_input_document(text: str, source: str) -> object:
    """A JSON input file's document; malformed JSON names the file, line and column."""
    try:
        document = load_json(text, source)
    except ValueError as exc:
        raise MalformedInputError(
            f"map.input {source} is not valid JSON ({exc}); fix the file or the setup step "
            "that writes it"
        ) from None
    check_items(document, source)
    return document


def parse_command_output(stdout: str, source: str = "command output") -> list[object]:
    """Items from an input command's stdout (docs/mapreduce.md).

    The whole output as JSON (an array is the item list, anything else one item); otherwise
    each non-empty line is parsed as JSON, or becomes `{"item": "<line>"}`.
    """
    text = stdout.strip()
    if not text:
        return []
    try:
        whole = load_json(text, source)
    except ValueError:
        pass
    else:
        check_items(whole, source)
        return list(whole) if isinstance(whole, list) else [whole]
    items: list[object] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        try:
            items.append(load_json(stripped, source))
        except ValueError:
            items.append({"item": stripped})
    check_items(items, source)
    return items
