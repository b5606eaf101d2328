"""Turning a step's output into variables: default capture, `capture:` with formats and streams."""

from __future__ import annotations

import json
import math

from prodigy.core.errors import StepFailedError
from prodigy.core.results import StepResult
from prodigy.core.variables import JsonValue, capture_values, default_capture_values
from prodigy.core.workflow import Step


class CaptureError(StepFailedError):
    """The output cannot be read in the requested capture_format."""


def parse_output(text: str, fmt: str, *, success: bool) -> JsonValue:
    """The value of `${name}` for capture_format `fmt`; numbers stay numbers.

    See docs/workflow-format.md."""
    if fmt == "json":
        try:
            value: JsonValue = json.loads(text)
        except ValueError as exc:
            raise CaptureError(f"capture_format json: output is not JSON ({exc})") from exc
        return value
    if fmt == "lines":
        return list(text.splitlines())
    if fmt == "number":
        stripped = text.strip()
        try:
            number = float(stripped)
        except ValueError as exc:
            raise CaptureError(f"capture_format number: {stripped[:60]!r} is not a number") from exc
        if not math.isfinite(number):
            raise CaptureError(f"capture_format number: {stripped[:60]!r} is not a finite number")
        return int(number) if number.is_integer() and "." not in stripped else number
    if fmt == "boolean":
        lowered = text.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
        return success
    return text


def captured_variables(step: Step, kind: str, result: StepResult) -> dict[str, JsonValue]:
    """Variables a finished step sets: `<kind>.output` always, plus its named capture if any.

    The default capture is on for every step (the 0.4.4 CHANGELOG's intent); `capture_output:
    false` turns it off.
    """
    values: dict[str, JsonValue] = {}
    output = result.stdout
    if step.capture_output is not False:
        values.update(default_capture_values(kind, output))
    values[f"{kind}.exit_code"] = result.exit_code
    values[f"{kind}.success"] = result.success
    if step.capture:
        streams = step.capture_streams
        if result.full_stdout is not None:  # the default capture keeps only the tail
            output = result.full_stdout
        captured = capture_values(
            step.capture,
            output=parse_output(output, step.capture_format, success=result.success),
            stderr=result.stderr if streams.stderr else "",
            exit_code=result.exit_code,
            success=result.success,
            duration=round(result.duration, 3),
        )
        captured[f"{step.capture}.output"] = output
        if not streams.stdout:
            del captured[step.capture]
        values.update(captured)
    return values
