"""imports / extends / template / parameters / defaults / workflows, resolved on the YAML tree.

Referenced files are read relative to the workflow's directory: the only file I/O in core.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prodigy.core.workflow import params as P
from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, report
from prodigy.core.workflow.model import SubWorkflow
from prodigy.core.workflow.sub_workflows import parse_sub_workflows
from prodigy.core.workflow.yaml_source import (
    JsonValue,
    YMap,
    YNode,
    YScalar,
    YSeq,
    parse_yaml,
    to_plain,
    type_name,
)

KEYS = ("imports", "extends", "template", "parameters", "defaults", "workflows")
_SEARCH = ("bases/{}.yml", "templates/{}.yml", "workflows/{}.yml", "{}.yml", "{}")
REGISTRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a registered template's name
_Trail = tuple[tuple[Path, ...], tuple[Path, ...]]  # (files being composed, template registries)


@dataclass(slots=True)
class _Parts:
    """What composition accumulates from a file and everything it pulls in."""

    root: YMap
    commands: list[YNode] = field(default_factory=list)
    defs: list[P.ParamDef] = field(default_factory=list)
    defaults: dict[str, JsonValue] = field(default_factory=dict)
    workflows: dict[str, YNode] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Composed:
    root: YNode | None
    parameters: Mapping[str, JsonValue]
    sub_workflows: Mapping[str, SubWorkflow]


def compose(
    root: YNode | None,
    path: Path,
    cli_params: Mapping[str, object] | None,
    reporter: DiagnosticCollector,
    template_dirs: tuple[Path, ...] = (),
) -> Composed:
    """`template_dirs`: template registries, searched by name after the workflow's directory."""
    cli = {k: _json(v) for k, v in (cli_params or {}).items()}
    if not isinstance(root, YMap) or not any(k in root.names() for k in KEYS):
        substituted = P.substitute(root, cli) if root is not None and cli else root
        return Composed(substituted, cli, {})
    parts = _resolve(root, path, reporter, (path.resolve(),), template_dirs)
    values: dict[str, JsonValue] = {d.name: d.default for d in parts.defs if d.has_default}
    values.update(parts.defaults)
    template = root.get("template")
    if isinstance(template, YMap) and isinstance(with_node := template.get("with"), YMap):
        values.update(_plain_map(with_node))
    values.update(cli)
    P.check_values(parts.defs, values, str(path), reporter)
    steps = YSeq(tuple(parts.commands), parts.root.pos)
    entries = [(k, v) for k, v in parts.root.entries if k.value not in (*KEYS, "commands")]
    if _mapreduce(root, reporter):
        parts.workflows = {}  # reported: a MapReduce job has no place to run them
    else:
        entries.append((YScalar("commands", parts.root.pos), steps))
    final = P.substitute(YMap(tuple(entries), parts.root.pos), values)
    subs = parse_sub_workflows(parts.workflows, path.parent, reporter)
    return Composed(final, values, subs)


def _mapreduce(root: YMap, reporter: DiagnosticCollector) -> bool:
    """A MapReduce file takes parameters and defaults; the step-merging keys are errors."""
    mode = root.get("mode")
    if not (isinstance(mode, YScalar) and mode.value == "mapreduce"):
        return False
    for key in ("imports", "extends", "template", "workflows"):
        if (node := root.get(key)) is not None:
            report(
                reporter,
                node,
                key,
                f"`{key}:` only works in standard workflows (composition merges `commands:`); "
                "in a MapReduce workflow use `parameters:`/`defaults:` or move the steps "
                "into setup, map.agent_template or reduce",
            )
    return True


def _json(value: object) -> JsonValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return str(value)


def _plain_map(node: YMap) -> dict[str, JsonValue]:
    plain = to_plain(node)
    assert isinstance(plain, dict)
    return plain


def _load(path: Path, at: YNode, where: str, reporter: DiagnosticCollector) -> YMap | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report(reporter, at, where, f"cannot read {path}: {exc.strerror or exc}")
        return None
    node = parse_yaml(text, str(path), reporter)
    if not isinstance(node, YMap):
        report(reporter, at, where, f"{path} must be a workflow mapping with 'commands:'")
        return None
    return node


def _find(base_dir: Path, name: str, patterns: tuple[str, ...]) -> Path | None:
    for pattern in patterns:
        candidate = base_dir / pattern.format(name)
        if candidate.is_file():
            return candidate
    return None


def _resolve(
    root: YMap,
    path: Path,
    reporter: DiagnosticCollector,
    chain: tuple[Path, ...],
    dirs: tuple[Path, ...],
) -> _Parts:
    fields = Fields(root, "", reporter, KEYS)
    commands = fields.node("commands")
    parts = _Parts(root, list(commands.items) if isinstance(commands, YSeq) else [])
    parts.defs = P.parse_definitions(fields.node("parameters"), "parameters", reporter)
    if (defaults := fields.mapping("defaults")) is not None:
        parts.defaults = _plain_map(defaults)
    if (workflows := fields.mapping("workflows")) is not None:
        parts.workflows = {str(k.value): v for k, v in workflows.entries}
    _imports(fields, path, reporter, (chain, dirs), parts)
    if (extends := fields.node("extends")) is not None:
        parts = _extends(extends, path, reporter, (chain, dirs), parts)
    if (template := fields.node("template")) is not None:
        _template(template, path, reporter, (chain, dirs), parts)
    return parts


def _nested(
    target: Path, at: YNode, where: str, reporter: DiagnosticCollector, trail: _Trail
) -> _Parts | None:
    chain, dirs = trail
    resolved = target.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        report(
            reporter,
            at,
            where,
            f"circular composition: {cycle}; a file cannot import or extend itself, "
            "directly or through another file: remove one of these references",
        )
        return None
    node = _load(target, at, where, reporter)
    return None if node is None else _resolve(node, target, reporter, (*chain, resolved), dirs)


def _imports(
    fields: Fields, path: Path, reporter: DiagnosticCollector, trail: _Trail, parts: _Parts
) -> None:
    node = fields.node("imports")
    if node is None:
        return
    if not isinstance(node, YSeq):
        fields.error(node, "imports", f"expected a list of {{path: ...}}, got {type_name(node)}")
        return
    for i, raw in enumerate(node.items):
        at = child_path("imports", i)
        item = raw
        if isinstance(raw, YScalar) and isinstance(raw.value, str):
            item = YMap(((YScalar("path", raw.pos), raw),), raw.pos)
        if not isinstance(item, YMap):
            report(reporter, item, at, "expected {path: file.yml, alias?, selective?}")
            continue
        sub = Fields(item, at, reporter, ("path", "alias", "selective"))
        target, alias, selective = sub.text("path"), sub.text("alias"), sub.str_list("selective")
        sub.finish()
        if target is None:
            report(reporter, item, at, "import needs a 'path'")
            continue
        imported = _nested(path.parent / target, item, at, reporter, trail)
        if imported is None:
            continue
        if alias is not None and selective is None:
            report(
                reporter,
                item,
                at,
                f"import alias '{alias}' is never used: no step can refer "
                "to an aliased import; drop 'alias' to merge its commands",
                severity="warning",
            )
        elif selective is not None:
            for name in _select(selective, imported, parts):
                report(
                    reporter,
                    item,
                    at,
                    f"selective import '{name}' is not a command "
                    "index, sub-workflow or parameter of the imported file",
                )
        else:
            parts.commands.extend(imported.commands)
            parts.defs.extend(imported.defs)
            for key, value in imported.defaults.items():
                parts.defaults.setdefault(key, value)
            for flow_name, flow in imported.workflows.items():
                parts.workflows.setdefault(flow_name, flow)


def _select(names: tuple[str, ...], imported: _Parts, parts: _Parts) -> list[str]:
    """Copy the named pieces; returns the names that match nothing."""
    missing = []
    for name in names:
        if name.isdigit() and int(name) < len(imported.commands):
            parts.commands.append(imported.commands[int(name)])
        elif name in imported.workflows:
            parts.workflows[name] = imported.workflows[name]
        elif name in {d.name for d in imported.defs}:
            parts.defs.extend(d for d in imported.defs if d.name == name)
        else:
            missing.append(name)
    return missing


def _extends(
    node: YNode, path: Path, reporter: DiagnosticCollector, trail: _Trail, child: _Parts
) -> _Parts:
    name = node.value if isinstance(node, YScalar) else None
    if not isinstance(name, str):
        report(reporter, node, "extends", f"expected a base workflow name, got {type_name(node)}")
        return child
    target = _find(path.parent, name, _SEARCH)
    if target is None:
        tried = ", ".join(p.format(name) for p in _SEARCH[:-1])
        report(
            reporter,
            node,
            "extends",
            f"base workflow '{name}' not found (looked for {tried} next to {path.name})",
        )
        return child
    base = _nested(target, node, "extends", reporter, trail)
    if base is None:
        return child
    # the child's own keys win over the base's; env is merged key by key
    entries = {str(k.value): (k, v) for k, v in base.root.entries}
    for key, given in child.root.entries:
        old = entries.get(str(key.value))
        value = given
        if key.value == "env" and old and isinstance(old[1], YMap) and isinstance(given, YMap):
            merged = {str(k.value): (k, v) for k, v in (*old[1].entries, *given.entries)}
            value = YMap(tuple(merged.values()), given.pos)
        entries[str(key.value)] = (key, value)
    defaults = dict(base.defaults)
    defaults.update(child.defaults)
    return _Parts(
        YMap(tuple(entries.values()), child.root.pos),
        commands=child.commands or base.commands,
        defs=base.defs + child.defs,
        defaults=defaults,
        workflows={**base.workflows, **child.workflows},
    )


def _template(
    node: YNode, path: Path, reporter: DiagnosticCollector, trail: _Trail, parts: _Parts
) -> None:
    if not isinstance(node, YMap):
        report(reporter, node, "template", "expected {name, source, with?, override?}")
        return
    fields = Fields(node, "template", reporter, ("name", "source", "with", "override"))
    fields.text("name")
    source_node = fields.node("source")
    source = _source(source_node, fields)
    fields.mapping("with")
    override = fields.mapping("override")
    fields.finish()
    if source is None or source_node is None:
        return
    target = _find(path.parent, source, ("{}", "templates/{}.yml", "templates/{}", "{}.yml"))
    if target is None and REGISTRY_NAME.fullmatch(source):
        target = next((p for d in trail[1] if (p := d / f"{source}.yml").is_file()), None)
    if target is None:
        registries = "".join(f", {d}" for d in trail[1])
        fields.error(
            source_node,
            "source",
            f"template '{source}' not found (looked next to {path.name}{registries}); "
            "give a file path or register it with `prodigy template register FILE`",
        )
        return
    loaded = _nested(target, source_node, "template.source", reporter, trail)
    if loaded is None:
        return
    commands = loaded.commands
    if override is not None:
        sub = Fields(override, "template.override", reporter, ("commands", "env", "merge"))
        replacement = sub.node("commands")
        if isinstance(replacement, YSeq):
            commands = list(replacement.items)
        sub.node("env")
        sub.node("merge")
        sub.finish()
    parts.commands.extend(commands)
    parts.defs.extend(loaded.defs)
    for key, value in loaded.defaults.items():
        parts.defaults.setdefault(key, value)
    _template_env(loaded.root, override, parts)


def _source(node: YNode | None, fields: Fields) -> str | None:
    if isinstance(node, YMap) and isinstance(file_node := node.get("file"), YScalar):
        return str(file_node.value)
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return node.value
    fields.error(node or fields.map, "source", "template needs 'source: path/to/template.yml'")
    return None


def _template_env(template: YMap, override: YMap | None, parts: _Parts) -> None:
    """The template's env (and override.env) fill in names the workflow does not set."""
    layers = [template.get("env"), override.get("env") if override else None, parts.root.get("env")]
    merged: dict[str, tuple[YScalar, YNode]] = {}
    for layer in layers:
        if isinstance(layer, YMap):
            merged.update({str(k.value): (k, v) for k, v in layer.entries})
    if not merged:
        return
    env = YMap(tuple(merged.values()), parts.root.pos)
    entries = [(k, v) for k, v in parts.root.entries if k.value != "env"]
    parts.root = YMap((*entries, (YScalar("env", parts.root.pos), env)), parts.root.pos)
