"""`setup.capture_outputs`: a setup step's output -> a variable for map and reduce.

See docs/mapreduce.md.

Order: source -> max_size -> pattern -> multiline -> json_path. A value that cannot be
extracted falls back to `default`, else the variable is not set (and the caller warns).
"""

from __future__ import annotations

import json
import re

from prodigy.core.interpolation import lookup, render
from prodigy.core.variables import JsonValue, Scope
from prodigy.core.workflow import CaptureOutputSpec


class CaptureMissError(ValueError):
    """The pattern or json_path found nothing and there is no default."""


def capture_output_value(spec: CaptureOutputSpec, stdout: str, stderr: str) -> str:
    """The captured text; raises CaptureMissError when nothing matches and no default is set."""
    try:
        return _extract(spec, stdout, stderr)
    except CaptureMissError:
        if spec.default is not None:
            return spec.default
        raise


def _extract(spec: CaptureOutputSpec, stdout: str, stderr: str) -> str:
    text = {
        "stdout": stdout,
        "stderr": stderr,
        "both": f"stdout:\n{stdout}\nstderr:\n{stderr}",
        "combined": stdout + stderr,
    }[spec.source]
    if len(text.encode()) > spec.max_size:
        cut = text.encode()[: spec.max_size].decode(errors="ignore")
        text = cut[: cut.rfind("\n")] if "\n" in cut else cut
    if spec.pattern is not None:
        match = re.search(spec.pattern, text, re.MULTILINE)
        if match is None:
            raise CaptureMissError(f"pattern {spec.pattern!r} did not match")
        text = match.group(1) if match.groups() else match.group(0)
    lines = text.rstrip("\n").splitlines()
    value: JsonValue
    if spec.multiline == "join":
        value = " ".join(line.strip() for line in lines)
    elif spec.multiline == "first_line":
        value = lines[0] if lines else ""
    elif spec.multiline == "last_line":
        value = lines[-1] if lines else ""
    elif spec.multiline == "array":
        value = lines
    else:
        value = text.rstrip("\n")
    if spec.json_path is not None:
        source = value if isinstance(value, str) else "\n".join(lines)
        try:
            document = json.loads(source)
        except ValueError as exc:
            raise CaptureMissError(f"output is not JSON ({exc})") from None
        found, value = lookup(Scope({"_": document}), f"_.{spec.json_path}")
        if not found:
            raise CaptureMissError(f"json_path {spec.json_path!r} found nothing")
    return "" if value is None else render(value)
