"""`goal_seek:` as the manual documents it: attempt, score, repeat until the threshold.

- goal_seek:
    goal: "All tests pass"
    claude: "/fix-tests ${validation.output}"   # or shell:
    validate: "./score.sh"                       # prints `score: N` (0-100)
    threshold: 90
    max_attempts: 5
    timeout: 600                                 # seconds for the whole loop
    fail_on_incomplete: true
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from prodigy.core.errors import WorkflowError
from prodigy.core.validation import parse_report

_KEYS = frozenset(
    {"goal", "claude", "shell", "command", "validate", "threshold", "max_attempts", "timeout",
     "fail_on_incomplete"}
)  # fmt: skip
_SCORE = re.compile(r"(?im)^\s*score\s*[:=]\s*(-?\d+(?:\.\d+)?)\s*%?\s*$")


@dataclass(frozen=True, slots=True)
class GoalSeek:
    goal: str
    kind: Literal["claude", "shell"]
    command: str
    validate: str
    validate_kind: Literal["claude", "shell"] = "shell"
    threshold: float = 100.0
    max_attempts: int = 3
    timeout: float | None = None
    fail_on_incomplete: bool = True


def parse_goal_seek(config: Mapping[str, object], where: str) -> GoalSeek:
    """The loop's settings; raises WorkflowError naming `where` and the field to fix."""
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise WorkflowError(f"{where}: goal_seek has unknown keys {', '.join(unknown)}")
    actions = [k for k in ("claude", "shell", "command") if isinstance(config.get(k), str)]
    if len(actions) != 1:
        raise WorkflowError(f"{where}: goal_seek needs exactly one of claude or shell")
    kind: Literal["claude", "shell"] = "claude" if actions[0] == "claude" else "shell"
    validate_kind, validate = _validator(config.get("validate"), where)
    return GoalSeek(
        goal=str(config.get("goal") or "goal"),
        kind=kind,
        command=str(config[actions[0]]),
        validate=validate,
        validate_kind=validate_kind,
        threshold=_number(config, "threshold", 100.0, where, low=0, high=100),
        max_attempts=int(_number(config, "max_attempts", 3, where, low=1, high=10_000)),
        timeout=_optional(config, "timeout", where),
        fail_on_incomplete=config.get("fail_on_incomplete", True) is not False,
    )


def _validator(value: object, where: str) -> tuple[Literal["claude", "shell"], str]:
    if isinstance(value, str) and value.strip():
        return "shell", value
    if isinstance(value, Mapping):
        for key in ("shell", "claude"):
            if isinstance(value.get(key), str):
                return ("claude" if key == "claude" else "shell"), str(value[key])
    raise WorkflowError(
        f"{where}: goal_seek needs `validate:`, a command that prints `score: N` (0-100)"
    )


def _number(
    config: Mapping[str, object], key: str, default: float, where: str, *, low: float, high: float
) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise WorkflowError(f"{where}: goal_seek {key} must be a number {low:g}-{high:g}")
    return float(value)


def _optional(config: Mapping[str, object], key: str, where: str) -> float | None:
    if config.get(key) is None:
        return None
    return _number(config, key, 0, where, low=1, high=math.inf)


def score_of(output: str) -> float | None:
    """The score a validator printed: its last `score: N` line, a completion JSON report,
    or output that is just a number. None if there is no score."""
    found = _SCORE.findall(output)
    if found:
        return float(found[-1])
    report = parse_report(output, source="validate")
    if report.problem is None:
        return report.completion
    try:
        value = float(output.strip().rstrip("%"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None
