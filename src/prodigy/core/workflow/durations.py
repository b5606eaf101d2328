"""Durations as prodigy spells them: seconds, humantime strings, or serde `{secs, nanos}`."""

from __future__ import annotations

import re

from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_humantime(text: str) -> float | None:
    """`"1m30s"` -> 90.0; `"200ms"` -> 0.2; a bare number is seconds; None if unreadable."""
    cleaned = text.strip().lower()
    try:
        return float(cleaned)
    except ValueError:
        pass
    total, end = 0.0, 0
    for match in _PART.finditer(cleaned):
        gap = cleaned[end : match.start()].strip()
        if gap or match.group(2) not in _UNITS:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        end = match.end()
    return total if end and not cleaned[end:].strip() else None


def parse_duration(node: YNode) -> tuple[float | None, str | None]:
    """(seconds, None) or (None, problem)."""
    if isinstance(node, YScalar):
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value), None
        if isinstance(value, str):
            seconds = parse_humantime(value)
            if seconds is not None:
                return seconds, None
        return None, f'expected a duration such as 30, "30s", "5m" or "200ms", got {value!r}'
    if isinstance(node, YMap) and set(node.names()) <= {"secs", "nanos"}:
        secs, nanos = node.get("secs"), node.get("nanos")
        total = 0.0
        for part, scale in ((secs, 1.0), (nanos, 1e-9)):
            if part is None:
                continue
            if not isinstance(part, YScalar) or not isinstance(part.value, int):
                return None, "expected {secs: N, nanos: N} with whole numbers"
            total += part.value * scale
        return total, None
    return None, 'expected a duration such as 30, "30s" or {secs: 30, nanos: 0}'
