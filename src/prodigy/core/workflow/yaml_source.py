"""YAML 1.2 text -> a small tree of nodes that remember where they came from.

ruamel.yaml composes the node graph (so duplicate keys and positions survive); scalars are
typed here with the YAML 1.2 core schema, so `on`, `yes` and `no` stay strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

from ruamel.yaml import YAML
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from prodigy.core.workflow.diagnostics import Diagnostic, DiagnosticCollector

Scalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"


@dataclass(frozen=True, slots=True)
class Pos:
    """1-based position of a node in a workflow file."""

    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class YScalar:
    value: Scalar
    pos: Pos


@dataclass(frozen=True, slots=True)
class YSeq:
    items: tuple[YNode, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class YMap:
    entries: tuple[tuple[YScalar, YNode], ...]
    pos: Pos

    def get(self, key: str) -> YNode | None:
        for k, v in self.entries:
            if k.value == key:
                return v
        return None

    def names(self) -> tuple[str, ...]:
        return tuple(str(k.value) for k, _ in self.entries)


YNode: TypeAlias = YScalar | YSeq | YMap

MAX_DEPTH = 100  # nesting levels; real workflows use fewer than 15
MAX_NODES = 200_000  # nodes after alias expansion; a large workflow has a few thousand
MAX_ALIASES = 10_000  # alias uses

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_FLOATS = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


def type_name(node: YNode) -> str:
    """How a node reads to a user: 'a string', 'a list', 'a mapping'..."""
    if isinstance(node, YSeq):
        return "a list"
    if isinstance(node, YMap):
        return "a mapping"
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return "a string"


def parse_yaml(text: str, file: str, reporter: DiagnosticCollector) -> YNode | None:
    """Compose `text`; syntax errors and duplicate keys go to `reporter`."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.max_depth = MAX_DEPTH  # the composer recurses: stop before Python's stack does
    try:
        root = yaml.compose(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
        reporter.add(Diagnostic(file=file, line=line, column=col, yaml_path="", message=message))
        return None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        reporter.add(
            Diagnostic(
                file=file,
                line=line,
                column=col,
                yaml_path="",
                message=f"invalid YAML: {problem or exc}",
            )
        )
        return None
    except YAMLError as exc:
        reporter.add(
            Diagnostic(file=file, line=1, column=1, yaml_path="", message=f"invalid YAML: {exc}")
        )
        return None
    if root is None:
        return None
    try:
        return _Converter(file, reporter).convert(root, "")
    except RecursionError:  # an alias that contains itself (`&a [*a]`)
        reporter.add(_at(_pos(root, file), "", "invalid YAML: an alias refers to itself"))
        return None
    except _TooLarge as exc:
        reporter.add(_at(exc.pos, "", f"invalid YAML: {exc.reason}"))
        return None


def _pos(node: Node, file: str) -> Pos:
    return Pos(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _TooLarge(Exception):
    def __init__(self, pos: Pos, reason: str) -> None:
        super().__init__(reason)
        self.pos, self.reason = pos, reason


class _Converter:
    """Node graph -> tree. Aliases are copied here, so the budget bounds what they expand to:
    a 30-line "billion laughs" file would otherwise take gigabytes."""

    def __init__(self, file: str, reporter: DiagnosticCollector) -> None:
        self.file, self.reporter = file, reporter
        self.nodes = 0
        self.aliases = 0
        self.seen: set[int] = set()

    def convert(self, node: Node, path: str) -> YNode:
        self.nodes += 1
        if id(node) in self.seen:
            self.aliases += 1
        self.seen.add(id(node))
        if self.nodes > MAX_NODES or self.aliases > MAX_ALIASES:
            raise _TooLarge(
                _pos(node, self.file),
                f"aliases expand the document past {MAX_NODES:,} nodes or {MAX_ALIASES:,} "
                "alias uses; refusing (is it an alias bomb?)",
            )
        return _convert(node, self, path)


def _convert(node: Node, conv: _Converter, path: str) -> YNode:
    file = conv.file
    if isinstance(node, MappingNode):
        converted = _convert_map(node, conv, path)
        tag = str(getattr(node.tag, "value", node.tag))
        if tag.startswith("!") and not tag.startswith("!!"):
            # `!batched {size: 10}` is serde's tagged enum: read it as `{batched: {size: 10}}`
            return YMap(((YScalar(tag[1:], converted.pos), converted),), converted.pos)
        return converted
    if isinstance(node, SequenceNode):
        items = tuple(conv.convert(item, f"{path}[{i}]") for i, item in enumerate(node.value))
        return YSeq(items, _pos(node, file))
    assert isinstance(node, ScalarNode)
    return YScalar(_scalar(node), _pos(node, file))


def _convert_map(node: MappingNode, conv: _Converter, path: str) -> YMap:
    file, reporter = conv.file, conv.reporter
    entries: list[tuple[YScalar, YNode]] = []
    seen: dict[object, Pos] = {}
    merges = []
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "<<":
            merges.append(value_node)  # applied after the explicit keys, which win
            continue
        key = conv.convert(key_node, path)
        if not isinstance(key, YScalar):
            reporter.add(_at(key.pos, path, "mapping keys must be plain scalars"))
            continue
        child_path = f"{path}.{key.value}" if path else str(key.value)
        if key.value in seen:
            first = seen[key.value]
            reporter.add(
                _at(
                    key.pos,
                    child_path,
                    f"duplicate key '{key.value}' (first defined on line {first.line})",
                )
            )
            continue
        seen[key.value] = key.pos
        entries.append((key, conv.convert(value_node, child_path)))
    for merge in merges:
        entries.extend(_merge_entries(merge, conv, path, seen))
    return YMap(tuple(entries), _pos(node, file))


def _merge_entries(
    value: Node, conv: _Converter, path: str, seen: dict[object, Pos]
) -> list[tuple[YScalar, YNode]]:
    """YAML merge keys (`<<: *base`): explicit keys win, so merged ones only fill gaps."""
    sources = value.value if isinstance(value, SequenceNode) else [value]
    merged: list[tuple[YScalar, YNode]] = []
    for source in sources:
        converted = conv.convert(source, path)
        if not isinstance(converted, YMap):
            conv.reporter.add(_at(converted.pos, path, "'<<' merge needs a mapping or alias"))
            continue
        for k, v in converted.entries:
            if k.value not in seen:
                seen[k.value] = k.pos
                merged.append((k, v))
    return merged


def _at(pos: Pos, path: str, message: str) -> Diagnostic:
    return Diagnostic(
        file=pos.file, line=pos.line, column=pos.column, yaml_path=path, message=message
    )


def _scalar(node: ScalarNode) -> Scalar:
    text: str = node.value
    tag = str(getattr(node.tag, "value", node.tag))
    if node.style is not None or not tag.startswith("tag:yaml.org,2002:"):
        return text
    kind = tag.rsplit(":", 1)[-1]
    if kind == "null":
        return None
    if kind == "bool" and text in _BOOLS:
        return _BOOLS[text]
    if kind == "int":
        cleaned = text.replace("_", "")
        try:
            return int(cleaned, 0)
        except ValueError:
            try:
                return int(cleaned, 10)
            except ValueError:
                return text
    if kind == "float":
        lowered = text.lower()
        if lowered in _FLOATS:
            return _FLOATS[lowered]
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return text
    return text


def to_plain(node: YNode) -> JsonValue:
    """A free-form value (env values, write_file content, parameters) as plain JSON data."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_plain(item) for item in node.items]
    return {str(k.value): to_plain(v) for k, v in node.entries}
