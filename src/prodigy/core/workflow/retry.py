"""`retry:` (and `retry_defaults:`) -> RetryPolicy."""

from __future__ import annotations

from typing import cast

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.durations import parse_duration
from prodigy.core.workflow.fields import Fields, child_path, report
from prodigy.core.workflow.step_model import Backoff, BackoffKind, RetryPolicy
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, type_name

_RETRY_KINDS = ("network", "timeout", "server_error", "rate_limit")


def parse_retry(node: YNode, path: str, reporter: DiagnosticCollector) -> RetryPolicy | None:
    if not isinstance(node, YMap):
        report(
            reporter,
            node,
            path,
            f"expected a retry mapping such as {{attempts: 3}}, got {type_name(node)}",
        )
        return None
    fields = Fields(
        node,
        path,
        reporter,
        (
            "attempts",
            "max_attempts",
            "backoff",
            "initial_delay",
            "max_delay",
            "jitter",
            "jitter_factor",
            "retry_on",
            "retry_budget",
            "on_failure",
        ),
    )
    attempts = fields.whole("attempts", minimum=1)
    if attempts is None:
        attempts = fields.whole("max_attempts", minimum=1)
    kinds, patterns, codes = _retry_on(fields)
    on_failure, fallback = _retry_failure(fields)
    policy = RetryPolicy(
        attempts=attempts or 3,
        backoff=_backoff(fields),
        initial_delay=seconds_or(fields.seconds("initial_delay"), 1.0),
        max_delay=seconds_or(fields.seconds("max_delay"), 30.0),
        jitter=fields.flag("jitter") or False,
        jitter_factor=seconds_or(fields.number("jitter_factor"), 0.3),
        retry_on=kinds,
        retry_on_patterns=patterns,
        retry_on_exit_codes=codes,
        retry_budget=fields.seconds("retry_budget"),
        on_failure=on_failure,
        fallback_command=fallback,
    )
    fields.finish()
    return policy


def seconds_or(value: float | None, default: float) -> float:
    return default if value is None else value


def _backoff(fields: Fields) -> Backoff:
    node = fields.node("backoff")
    kinds = ("fixed", "linear", "exponential", "fibonacci", "custom")
    if node is None:
        return Backoff()
    if isinstance(node, YScalar):
        kind = fields.choice("backoff", kinds)
        return Backoff(kind=kind) if kind else Backoff()  # type: ignore[arg-type]
    if isinstance(node, YMap) and len(node.entries) == 1:
        key, params = node.entries[0]
        kind, at = str(key.value), child_path(fields.at("backoff"), str(key.value))
        if kind not in kinds:
            fields.error(key, "backoff", f"unknown backoff '{kind}'")
            return Backoff()
        sub = Fields(
            params if isinstance(params, YMap) else YMap((), params.pos),
            at,
            fields.reporter,
            ("base", "multiplier", "increment", "delays", "initial", "delay"),
        )
        base = sub.number("base") or sub.number("multiplier") or 2.0
        increment = sub.seconds("increment")
        delays = tuple(_delays(sub))
        sub.seconds("initial")
        sub.seconds("delay")
        sub.finish()
        return Backoff(kind=cast(BackoffKind, kind), base=base, increment=increment, delays=delays)
    fields.error(
        node,
        "backoff",
        "expected fixed, linear, exponential, fibonacci or a mapping "
        "such as {exponential: {base: 2.0}}",
    )
    return Backoff()


def _delays(sub: Fields) -> list[float]:
    node = sub.node("delays")
    if node is None:
        return []
    if not isinstance(node, YSeq):
        sub.error(node, "delays", "expected a list of durations")
        return []
    out = []
    for i, item in enumerate(node.items):
        seconds, problem = parse_duration(item)
        if problem:
            report(sub.reporter, item, child_path(sub.at("delays"), i), problem)
        elif seconds is not None:
            out.append(seconds)
    return out


def _retry_on(fields: Fields) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
    node = fields.node("retry_on")
    if node is None:
        return (), (), ()
    if not isinstance(node, YSeq):
        fields.error(node, "retry_on", "expected a list such as [network, {pattern: 'HTTP 5'}]")
        return (), (), ()
    kinds: list[str] = []
    patterns: list[str] = []
    codes: list[int] = []
    for i, item in enumerate(node.items):
        at = child_path(fields.at("retry_on"), i)
        pattern = item.get("pattern") if isinstance(item, YMap) else None
        code = item.get("exit_code") if isinstance(item, YMap) else None
        if isinstance(pattern, YScalar) and isinstance(pattern.value, str):
            patterns.append(pattern.value)
        elif isinstance(code, YScalar) and type(code.value) is int:
            codes.append(code.value)
        elif isinstance(item, YScalar) and item.value in _RETRY_KINDS:
            kinds.append(str(item.value))
        else:
            report(
                fields.reporter,
                item,
                at,
                "expected network, timeout, server_error, rate_limit, {pattern: '<regex>'}"
                " or {exit_code: N}",
            )
    return tuple(kinds), tuple(patterns), tuple(codes)


def _retry_failure(fields: Fields) -> tuple[str, str | None]:
    node = fields.node("on_failure")
    if node is None:
        return "stop", None
    if isinstance(node, YScalar) and node.value in ("stop", "continue"):
        return str(node.value), None
    fallback = node.get("fallback") if isinstance(node, YMap) else None
    command = fallback.get("command") if isinstance(fallback, YMap) else None
    if isinstance(command, YScalar) and isinstance(command.value, str):
        return "fallback", command.value
    fields.error(node, "on_failure", "expected stop, continue or {fallback: {command: ...}}")
    return "stop", None
