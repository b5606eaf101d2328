"""Reading a validator's completion report (docs/validation.md) and deciding whether it passes.

A report is JSON such as `{"completion_percentage": 87.5, "status": "incomplete",
"missing": [...], "gaps": {...}}`. Output that is not such JSON is a validation failure
(0 %), never "complete": prodigy 0.4.4 treats it as 100 %, which passes broken validators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prodigy.core.variables import JsonValue

STATUSES = ("complete", "incomplete", "failed", "skipped")


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """One validation result; `${validation.*}` is built from it."""

    completion: float
    status: str
    implemented: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    gaps: JsonValue = field(default_factory=dict)
    problem: str | None = None  # why the report could not be read, if it could not

    def passes(self, threshold: float) -> bool:
        return self.problem is None and self.status != "failed" and self.completion >= threshold


def failed(reason: str) -> Completion:
    """A validation that did not produce a usable report."""
    return Completion(completion=0.0, status="failed", missing=(reason,), problem=reason)


def parse_report(text: str, *, source: str) -> Completion:
    """The completion in `text` (a whole JSON document, or its last JSON line)."""
    data = _json_document(text)
    if data is None:
        snippet = text.strip()[:120] or "(empty)"
        return failed(f"{source} is not a JSON completion report: {snippet}")
    if not isinstance(data, Mapping):
        return failed(f"{source}: expected a JSON object with completion_percentage")
    value = data.get("completion_percentage")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return failed(f"{source}: completion_percentage must be a number, got {value!r}")
    status = data.get("status")
    if status is None:
        status = "complete" if value >= 100 else "incomplete"
    if status not in STATUSES:
        return failed(f"{source}: status must be one of {', '.join(STATUSES)}, got {status!r}")
    return Completion(
        completion=float(value),
        status=str(status),
        implemented=_strings(data.get("implemented")),
        missing=_strings(data.get("missing")),
        gaps=data.get("gaps") or {},
    )


def _json_document(text: str) -> JsonValue:
    stripped = text.strip()
    if not stripped:
        return None
    try:
        value: JsonValue = json.loads(stripped)
        return value
    except ValueError:
        pass
    # validators often log before the report: take the last line that is a JSON object
    for raw in reversed(stripped.splitlines()):
        line = raw.strip()
        if line.startswith("{"):
            try:
                found: JsonValue = json.loads(line)
                return found
            except ValueError:
                continue
    return None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(v if isinstance(v, str) else json.dumps(v) for v in value)
    return ()


def schema_problems(data: JsonValue, schema: JsonValue, at: str = "$") -> list[str]:
    """Where `data` breaks `expected_schema` (the JSON Schema subset: type, required,
    properties, items, enum, minimum, maximum)."""
    if not isinstance(schema, Mapping):
        return []
    problems: list[str] = []
    kind = schema.get("type")
    if isinstance(kind, str) and not _is_type(data, kind):
        return [f"{at}: expected {kind}, got {_type_name(data)}"]
    enum = schema.get("enum")
    if isinstance(enum, Sequence) and not isinstance(enum, str) and data not in enum:
        problems.append(f"{at}: {data!r} is not one of {list(enum)}")
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(data, int | float) and not isinstance(data, bool):
        if isinstance(low, int | float) and data < low:
            problems.append(f"{at}: {data} is below the minimum {low}")
        if isinstance(high, int | float) and data > high:
            problems.append(f"{at}: {data} is above the maximum {high}")
    if isinstance(data, Mapping):
        required = schema.get("required")
        for name in required if isinstance(required, Sequence) else ():
            if isinstance(name, str) and name not in data:
                problems.append(f"{at}: missing required field {name!r}")
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for name, sub in properties.items():
                if name in data:
                    problems.extend(schema_problems(data[name], sub, f"{at}.{name}"))
    items = schema.get("items")
    if isinstance(data, Sequence) and not isinstance(data, str) and isinstance(items, Mapping):
        for i, element in enumerate(data):
            problems.extend(schema_problems(element, items, f"{at}[{i}]"))
    return problems


def check_schema(completion: Completion, document: JsonValue, schema: JsonValue) -> Completion:
    """The completion, failed if the report does not match `expected_schema`."""
    if schema is None or completion.problem is not None:
        return completion
    problems = schema_problems(document, schema)
    if not problems:
        return completion
    return failed("report does not match expected_schema: " + "; ".join(problems[:5]))


def _is_type(value: object, kind: str) -> bool:
    checks: dict[str, bool] = {
        "object": isinstance(value, Mapping),
        "array": isinstance(value, Sequence) and not isinstance(value, str),
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }
    return checks.get(kind, True)


def _type_name(value: object) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, kind):
            return kind
    return type(value).__name__


def document_of(text: str) -> JsonValue:
    """The JSON document a report was read from (for expected_schema)."""
    return _json_document(text)


def validation_values(result: Completion) -> dict[str, JsonValue]:
    """`${validation}` and `${validation.completion|status|missing|missing_count|...}`."""
    return {
        "validation": {
            "completion": result.completion,
            "completion_percentage": result.completion,
            "status": result.status,
            "implemented": list(result.implemented),
            "missing": list(result.missing),
            "missing_count": len(result.missing),
            "gaps": result.gaps,
        }
    }
