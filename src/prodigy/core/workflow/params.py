"""Composition parameters: `--param` typing, definitions, required/type checks, substitution."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from prodigy.core.errors import UsageError
from prodigy.core.workflow.diagnostics import DiagnosticCollector, suggest
from prodigy.core.workflow.fields import Fields, child_path, report
from prodigy.core.workflow.yaml_source import (
    JsonValue,
    Pos,
    YMap,
    YNode,
    YScalar,
    YSeq,
    to_plain,
    type_name,
)

PARAM_TYPES = ("string", "number", "boolean", "array", "object", "any")
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def parse_param(text: str) -> tuple[str, object]:
    """`KEY=VALUE` from `--param`; the value is an int, else a float, else a bool, else text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--param expects KEY=VALUE, got {text!r} (example: --param target=app)")
    value: object = raw
    try:
        value = int(raw)
    except ValueError:
        try:
            number = float(raw)
            value = (
                number
                if math.isfinite(number) and raw.strip().lower() not in ("inf", "nan")
                else raw
            )
        except ValueError:
            if raw in ("true", "false"):
                value = raw == "true"
    return key.strip(), value


@dataclass(frozen=True, slots=True)
class ParamDef:
    name: str
    type: str
    description: str | None
    required: bool
    default: JsonValue
    has_default: bool
    node: YNode


def parse_definitions(
    node: YNode | None, path: str, reporter: DiagnosticCollector
) -> list[ParamDef]:
    """`parameters: {required: [...], optional: [...]}`."""
    if node is None:
        return []
    if not isinstance(node, YMap):
        report(reporter, node, path, "expected {required: [...], optional: [...]}")
        return []
    fields = Fields(node, path, reporter, ("required", "optional"))
    out: list[ParamDef] = []
    for group in ("required", "optional"):
        items = fields.node(group)
        if items is None:
            continue
        if not isinstance(items, YSeq):
            fields.error(items, group, f"expected a list of parameters, got {type_name(items)}")
            continue
        for i, item in enumerate(items.items):
            definition = _definition(
                item, child_path(fields.at(group), i), reporter, group == "required"
            )
            if definition is not None:
                out.append(definition)
    fields.finish()
    return out


def _definition(
    node: YNode, path: str, reporter: DiagnosticCollector, required: bool
) -> ParamDef | None:
    if not isinstance(node, YMap):
        report(reporter, node, path, "expected {name, type, description}")
        return None
    fields = Fields(node, path, reporter, ("name", "type", "description", "default", "validation"))
    name = fields.text("name")
    kind = fields.choice("type", PARAM_TYPES) or "any"
    description = fields.text("description")
    default = fields.node("default")
    fields.node("validation")
    fields.finish()
    if name is None:
        report(reporter, node, path, "parameter needs a 'name'")
        return None
    return ParamDef(
        name,
        kind,
        description,
        required,
        None if default is None else to_plain(default),
        default is not None,
        node,
    )


def check_values(
    defs: list[ParamDef],
    values: Mapping[str, JsonValue],
    source: str,
    reporter: DiagnosticCollector,
) -> None:
    """Every required parameter has a value, and every value has its declared type."""
    for definition in defs:
        path = f"parameters.{definition.name}"
        if definition.name not in values:
            if definition.required:
                report(
                    reporter,
                    definition.node,
                    path,
                    f"required parameter "
                    f"'{definition.name}' has no value: pass --param {definition.name}=VALUE "
                    "or add it to 'defaults:'",
                )
            continue
        value = values[definition.name]
        if not _fits(definition.type, value):
            report(
                reporter,
                definition.node,
                path,
                f"parameter '{definition.name}' must be {definition.type}, got {json.dumps(value)}",
            )
    for name in values:
        if defs and name not in {d.name for d in defs}:
            hint = suggest(name, [d.name for d in defs])
            reporter.add_warning_at(
                source, f"parameter '{name}' is not declared under 'parameters:'", hint
            )


def _fits(kind: str, value: JsonValue) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "string":
        return value is not None and not isinstance(value, list | dict)  # scalars read as text
    return True


def render(value: JsonValue) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def from_plain(value: JsonValue, pos: Pos) -> YNode:
    if isinstance(value, list):
        return YSeq(tuple(from_plain(v, pos) for v in value), pos)
    if isinstance(value, dict):
        return YMap(tuple((YScalar(k, pos), from_plain(v, pos)) for k, v in value.items()), pos)
    return YScalar(value, pos)


def substitute(node: YNode, values: Mapping[str, JsonValue]) -> YNode:
    """Replace `${name}` for known parameters only; runtime variables are left for later."""
    if isinstance(node, YSeq):
        return YSeq(tuple(substitute(item, values) for item in node.items), node.pos)
    if isinstance(node, YMap):
        return YMap(tuple((k, substitute(v, values)) for k, v in node.entries), node.pos)
    text = node.value
    if not isinstance(text, str) or "${" not in text:
        return node
    whole = _PLACEHOLDER.fullmatch(text.strip())
    if whole and whole.group(1).strip() in values:
        return from_plain(values[whole.group(1).strip()], node.pos)  # keeps the value's type

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return render(values[name]) if name in values else match.group(0)

    return YScalar(_PLACEHOLDER.sub(one, text), node.pos)
