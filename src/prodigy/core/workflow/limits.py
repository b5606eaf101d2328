"""`budget:` and `quota:` -> Budget and QuotaPolicy (docs/budgets-and-quotas.md).

Unknown keys here are errors, not the usual warnings: a misspelt cap would silently mean
"no cap", and the run would spend what the user meant to forbid.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from prodigy.core.budget import Budget, Limits, OnExhausted
from prodigy.core.quota import OnLimit, QuotaPolicy
from prodigy.core.workflow.diagnostics import DiagnosticCollector, suggest
from prodigy.core.workflow.fields import Fields, child_path, report
from prodigy.core.workflow.yaml_source import YMap, YNode, type_name

BUDGET_KEYS = ("max_cost_usd", "max_tokens", "per_item", "on_exhausted")
LIMIT_KEYS = ("max_cost_usd", "max_tokens")
QUOTA_KEYS = ("on_limit", "max_wait", "jitter")


def parse_budget(node: YNode | None, path: str, reporter: DiagnosticCollector) -> Budget:
    fields = _block(node, path, reporter, BUDGET_KEYS)
    if fields is None:
        return Budget()
    job = _limits(fields)
    per_item = Limits()
    per_item_node = fields.node("per_item")
    if per_item_node is not None:
        sub = _block(per_item_node, fields.at("per_item"), reporter, LIMIT_KEYS)
        if sub is not None:
            per_item = _limits(sub)
            _finish(sub)
    on_exhausted = fields.choice("on_exhausted", ("pause", "fail")) or "pause"
    _finish(fields)
    return Budget(job=job, per_item=per_item, on_exhausted=cast(OnExhausted, on_exhausted))


def parse_quota(node: YNode | None, path: str, reporter: DiagnosticCollector) -> QuotaPolicy:
    fields = _block(node, path, reporter, QUOTA_KEYS)
    if fields is None:
        return QuotaPolicy()
    default = QuotaPolicy()
    on_limit = fields.choice("on_limit", ("wait", "pause", "fail")) or default.on_limit
    max_wait = fields.seconds("max_wait")
    jitter = fields.seconds("jitter")
    _finish(fields)
    return QuotaPolicy(
        on_limit=cast(OnLimit, on_limit),
        max_wait=default.max_wait if max_wait is None else timedelta(seconds=max_wait),
        jitter=default.jitter if jitter is None else timedelta(seconds=jitter),
    )


def _block(
    node: YNode | None, path: str, reporter: DiagnosticCollector, keys: tuple[str, ...]
) -> Fields | None:
    if node is None:
        return None
    if not isinstance(node, YMap):
        report(reporter, node, path, f"expected a mapping, got {type_name(node)}")
        return None
    return Fields(node, path, reporter, keys)


def _limits(fields: Fields) -> Limits:
    cost = fields.number("max_cost_usd")
    if cost is not None and cost < 0:
        fields.error(fields.map, "max_cost_usd", f"must be at least 0, got {cost:g}")
        cost = None
    return Limits(max_cost_usd=cost, max_tokens=fields.whole("max_tokens", minimum=0))


def _finish(fields: Fields) -> None:
    for key_node, _ in fields.map.entries:
        name = str(key_node.value)
        if name not in fields.known:
            report(
                fields.reporter,
                key_node,
                child_path(fields.path, name),
                f"unknown key '{name}'",
                suggestion=suggest(name, fields.known),
            )
