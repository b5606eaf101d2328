"""Typed, position-aware reading of one YAML mapping; every problem becomes a Diagnostic."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

from prodigy.core.workflow.diagnostics import Diagnostic, DiagnosticCollector, Severity, suggest
from prodigy.core.workflow.durations import parse_duration
from prodigy.core.workflow.step_model import SourceLocation
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, type_name

K = TypeVar("K")
T = TypeVar("T")
_VAR_REF = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def location(node: YNode, path: str) -> SourceLocation:
    """Where `node` was written, for runtime errors that point at the step."""
    return SourceLocation(node.pos.file, node.pos.line, node.pos.column, path)


def report(
    reporter: DiagnosticCollector,
    node: YNode | YScalar,
    path: str,
    message: str,
    *,
    suggestion: str | None = None,
    severity: Severity = "error",
) -> None:
    pos = node.pos
    reporter.add(
        Diagnostic(
            file=pos.file,
            line=pos.line,
            column=pos.column,
            yaml_path=path,
            message=message,
            suggestion=suggestion,
            severity=severity,
        )
    )


def frozen(mapping: Mapping[K, T]) -> Mapping[K, T]:
    """A read-only view, so the model stays immutable."""
    return MappingProxyType(dict(mapping))


def scalar_text(
    node: YNode, path: str, reporter: DiagnosticCollector, what: str = "a string"
) -> str | None:
    """A string value; numbers and booleans are accepted and written as YAML spells them."""
    if isinstance(node, YScalar) and node.value is not None:
        value = node.value
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)
    report(reporter, node, path, f"expected {what}, got {type_name(node)}")
    return None


class Fields:
    """Reads the keys of one mapping; keys never read are reported as unknown by `finish()`."""

    def __init__(
        self, node: YMap, path: str, reporter: DiagnosticCollector, known: Iterable[str]
    ) -> None:
        self.map = node
        self.path = path
        self.reporter = reporter
        self.known = tuple(known)
        self._used: set[str] = set()

    def has(self, key: str) -> bool:
        return self.map.get(key) is not None or key in self.map.names()

    def node(self, key: str) -> YNode | None:
        self._used.add(key)
        value = self.map.get(key)
        if isinstance(value, YScalar) and value.value is None:
            return None  # `key:` with no value means "not set", as in prodigy
        return value

    def at(self, key: str) -> str:
        return child_path(self.path, key)

    def error(self, node: YNode, key: str, message: str, suggestion: str | None = None) -> None:
        report(self.reporter, node, self.at(key), message, suggestion=suggestion)

    def warn(self, node: YNode, key: str, message: str) -> None:
        report(self.reporter, node, self.at(key), message, severity="warning")

    def text(self, key: str) -> str | None:
        node = self.node(key)
        return None if node is None else scalar_text(node, self.at(key), self.reporter)

    def flag(self, key: str) -> bool | None:
        node = self.node(key)
        if node is None:
            return None
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        self.error(node, key, f"expected true or false, got {type_name(node)}")
        return None

    def _whole_value(self, key: str) -> tuple[YNode | None, object]:
        """The key's node and value; a string of digits is read as the whole number it spells."""
        node = self.node(key)
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        return node, value

    def whole(self, key: str, *, minimum: int | None = None) -> int | None:
        node, value = self._whole_value(key)
        if node is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(node, key, f"expected a whole number, got {type_name(node)}")
            return None
        if minimum is not None and value < minimum:
            self.error(node, key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def number(self, key: str) -> float | None:
        node = self.node(key)
        if node is None:
            return None
        value = node.value if isinstance(node, YScalar) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.error(node, key, f"expected a number, got {type_name(node)}")
            return None
        return float(value)

    def int_or_var(self, key: str, *, minimum: int = 0) -> int | str | None:
        """An int, or a whole-value `$VAR`/`${VAR}` reference resolved when the run starts."""
        node, value = self._whole_value(key)
        if node is None:
            return None
        if isinstance(value, str) and _VAR_REF.match(value.strip()):
            return value.strip()
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(node, key, f'expected a whole number or "${{VAR}}", got {type_name(node)}')
            return None
        if value < minimum:
            self.error(node, key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def seconds(self, key: str) -> float | None:
        """A duration: a number of seconds, `"30s"`/`"5m"`/`"200ms"`, or `{secs, nanos}`."""
        node = self.node(key)
        if node is None:
            return None
        seconds, problem = parse_duration(node)
        if problem:
            self.error(node, key, problem)
        return seconds

    def choice(self, key: str, choices: Iterable[str]) -> str | None:
        node = self.node(key)
        if node is None:
            return None
        options = tuple(choices)
        text = scalar_text(node, self.at(key), self.reporter)
        if text is None:
            return None
        if text not in options and text.lower() in options:
            text = text.lower()
        if text not in options:
            listed = ", ".join(options)
            self.error(node, key, f"'{text}' is not one of: {listed}", suggest(text, options))
            return None
        return text

    def str_list(self, key: str) -> tuple[str, ...] | None:
        node = self.node(key)
        if node is None:
            return None
        if isinstance(node, YScalar):
            text = scalar_text(node, self.at(key), self.reporter)
            return None if text is None else (text,)
        if not isinstance(node, YSeq):
            self.error(node, key, f"expected a list of strings, got {type_name(node)}")
            return None
        texts = [
            scalar_text(item, child_path(self.at(key), i), self.reporter)
            for i, item in enumerate(node.items)
        ]
        return tuple(t for t in texts if t is not None)

    def str_map(self, key: str) -> Mapping[str, str] | None:
        node = self.node(key)
        if node is None:
            return None
        if not isinstance(node, YMap):
            self.error(node, key, f"expected a mapping of names to strings, got {type_name(node)}")
            return None
        out: dict[str, str] = {}
        for k, v in node.entries:
            text = scalar_text(v, child_path(self.at(key), str(k.value)), self.reporter)
            if text is not None:
                out[str(k.value)] = text
        return frozen(out)

    def mapping(self, key: str) -> YMap | None:
        node = self.node(key)
        if node is None or isinstance(node, YMap):
            return node
        self.error(node, key, f"expected a mapping, got {type_name(node)}")
        return None

    def finish(self, *, ignore: Iterable[str] = ()) -> None:
        """Warn about every key nobody read: a typo or a field this version does not know."""
        skip = set(ignore) | self._used
        for key_node, _ in self.map.entries:
            name = str(key_node.value)
            if name in skip:
                continue
            report(
                self.reporter,
                key_node,
                child_path(self.path, name),
                f"unknown key '{name}' (ignored)",
                suggestion=suggest(name, self.known),
                severity="warning",
            )
