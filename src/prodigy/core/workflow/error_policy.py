"""MapReduce item-failure policy: `error_policy:` and its top-level shortcuts -> ErrorPolicy."""

from __future__ import annotations

from typing import Any

from prodigy.core.workflow.fields import Fields, frozen
from prodigy.core.workflow.model import CircuitBreaker, ErrorPolicy, ItemRetry
from prodigy.core.workflow.yaml_source import YMap, YScalar, to_plain

POLICY_KEYS = (
    "on_item_failure",
    "continue_on_failure",
    "max_failures",
    "failure_threshold",
    "error_collection",
    "circuit_breaker",
    "retry_config",
)


def parse_error_policy(root: Fields) -> ErrorPolicy:
    """`error_policy:` plus the top-level shortcuts, which load into the same fields."""
    block = root.mapping("error_policy")
    sources = [Fields(block, root.at("error_policy"), root.reporter, POLICY_KEYS)] if block else []
    sources.append(root)
    values: dict[str, object] = {}
    for fields in sources:
        for key, value in _policy_values(fields).items():
            if key in values and values[key] != value:
                root.error(
                    root.map,
                    key,
                    f"'{key}' is set both in error_policy and at the top "
                    "level with different values; keep one",
                )
            values.setdefault(key, value)
        if fields is not root:
            fields.finish()
    return ErrorPolicy(**values)  # type: ignore[arg-type]


def _policy_values(fields: Fields) -> dict[str, object]:
    out: dict[str, object] = {}
    if (failure := fields.text("on_item_failure")) is not None:
        out["on_item_failure"] = failure
    if (cont := fields.flag("continue_on_failure")) is not None:
        out["continue_on_failure"] = cont
    if (limit := fields.whole("max_failures", minimum=0)) is not None:
        out["max_failures"] = limit
    threshold = fields.number("failure_threshold")
    if threshold is not None and not 0 <= threshold <= 1:
        fields.error(
            fields.map, "failure_threshold", f"expected a fraction 0.0-1.0, got {threshold}"
        )
    elif threshold is not None:
        out["failure_threshold"] = threshold
    out.update(_collection(fields))
    if (breaker := fields.mapping("circuit_breaker")) is not None:
        sub = Fields(
            breaker,
            fields.at("circuit_breaker"),
            fields.reporter,
            ("failure_threshold", "success_threshold", "timeout", "half_open_requests"),
        )
        values: dict[str, Any] = {
            k: sub.whole(k, minimum=1)
            for k in ("failure_threshold", "success_threshold", "half_open_requests")
        }
        values["timeout"] = sub.seconds("timeout")
        sub.finish()
        out["circuit_breaker"] = CircuitBreaker(
            **{k: v for k, v in values.items() if v is not None}
        )
    if (retry := fields.mapping("retry_config")) is not None:
        sub = Fields(retry, fields.at("retry_config"), fields.reporter, ("max_attempts", "backoff"))
        attempts = sub.whole("max_attempts", minimum=1)
        backoff = sub.node("backoff")
        plain = to_plain(backoff) if backoff is not None else None
        sub.finish()
        out["retry_config"] = ItemRetry(
            max_attempts=attempts or 3,
            backoff=frozen(plain)
            if isinstance(plain, dict)
            else (frozen({str(plain): None}) if plain else None),
        )
    return out


def _collection(fields: Fields) -> dict[str, object]:
    node = fields.node("error_collection")
    if node is None:
        return {}
    if isinstance(node, YScalar) and isinstance(node.value, str):
        text = node.value.strip()
        if text in ("aggregate", "immediate"):
            return {"error_collection": text}
        if text.startswith("batched:") and text[8:].strip().isdigit():
            return {"error_collection": "batched", "batch_size": int(text[8:])}
    batched = node.get("batched") if isinstance(node, YMap) else None
    size = batched.get("size") if isinstance(batched, YMap) else None
    if isinstance(size, YScalar) and isinstance(size.value, int):
        return {"error_collection": "batched", "batch_size": size.value}
    fields.error(
        node,
        "error_collection",
        'expected aggregate, immediate, "batched:N" or {batched: {size: N}}',
    )
    return {}
