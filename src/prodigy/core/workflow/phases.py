"""MapReduce sections (setup, map, reduce, merge, error policy) -> typed phases."""

from __future__ import annotations

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, frozen, location, report
from prodigy.core.workflow.model import (
    CaptureOutputSpec,
    MapPhase,
    MergeConfig,
    SetupPhase,
    TimeoutConfig,
)
from prodigy.core.workflow.step_model import Step
from prodigy.core.workflow.steps import parse_steps
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, type_name

MAP_KEYS = (
    "input",
    "json_path",
    "agent_template",
    "max_parallel",
    "filter",
    "sort_by",
    "max_items",
    "offset",
    "distinct",
    "agent_timeout_secs",
    "timeout_config",
)


def step_block(
    node: YNode | None,
    path: str,
    reporter: DiagnosticCollector,
    *,
    deprecated: bool,
    extra: tuple[str, ...] = (),
) -> tuple[tuple[Step, ...], Fields | None]:
    """A step list, or the `{commands: [...], ...}` object form of the same list."""
    if node is None or isinstance(node, YSeq):
        return parse_steps(node, path, reporter), None
    if not isinstance(node, YMap):
        report(reporter, node, path, f"expected a list of steps, got {type_name(node)}")
        return (), None
    fields = Fields(node, path, reporter, ("commands", *extra))
    commands = fields.node("commands")
    if commands is None:
        report(reporter, node, path, "expected a list of steps or {commands: [...]}")
    elif deprecated:
        report(
            reporter,
            commands,
            fields.at("commands"),
            "nested 'commands:' is deprecated; write the steps directly as a list",
            severity="warning",
        )
    return parse_steps(commands, fields.at("commands"), reporter), fields


def parse_setup(node: YNode, path: str, reporter: DiagnosticCollector) -> SetupPhase:
    steps, fields = step_block(
        node, path, reporter, deprecated=False, extra=("timeout", "capture_outputs")
    )
    timeout = None
    captures: dict[str, CaptureOutputSpec] = {}
    if fields is not None:
        timeout = fields.int_or_var("timeout", minimum=1)
        captures = _capture_outputs(
            fields.node("capture_outputs"), fields.at("capture_outputs"), reporter, len(steps)
        )
        fields.finish()
    return SetupPhase(
        steps=steps,
        timeout=timeout,
        capture_outputs=frozen(captures),
        location=location(node, path),
    )


def _capture_outputs(
    node: YNode | None, path: str, reporter: DiagnosticCollector, count: int
) -> dict[str, CaptureOutputSpec]:
    out: dict[str, CaptureOutputSpec] = {}
    if node is None:
        return out
    if not isinstance(node, YMap):
        report(reporter, node, path, "expected a mapping of variable names to step indexes")
        return out
    for key, value in node.entries:
        name, at = str(key.value), child_path(path, str(key.value))
        if isinstance(value, YScalar) and isinstance(value.value, int):
            spec: CaptureOutputSpec | None = CaptureOutputSpec(command_index=value.value)
        elif isinstance(value, YMap):
            spec = _capture_spec(
                Fields(
                    value,
                    at,
                    reporter,
                    (
                        "command_index",
                        "source",
                        "max_size",
                        "pattern",
                        "multiline",
                        "json_path",
                        "default",
                    ),
                )
            )
        else:
            report(reporter, value, at, "expected a step index or {command_index: N, ...}")
            continue
        if spec is None:
            continue
        if not 0 <= spec.command_index < max(count, 1):
            report(
                reporter,
                value,
                at,
                f"command_index {spec.command_index} is outside the "
                f"{count} setup step(s) (indexes start at 0)",
            )
        out[name] = spec
    return out


def _capture_spec(fields: Fields) -> CaptureOutputSpec | None:
    index = fields.whole("command_index", minimum=0)
    if index is None:
        fields.error(fields.map, "command_index", "capture needs a 'command_index'")
        fields.finish()
        return None
    json_path = fields.text("json_path")
    if json_path is not None:
        json_path = json_path.removeprefix("$").removeprefix(".")  # the manual writes "$.a"
    spec = CaptureOutputSpec(
        command_index=index,
        source=fields.choice("source", ("stdout", "stderr", "both", "combined"))  # type: ignore[arg-type]
        or "stdout",
        max_size=fields.whole("max_size", minimum=1) or 1_048_576,
        pattern=fields.text("pattern"),
        multiline=fields.choice(
            "multiline",
            (
                "preserve",
                "join",
                "first_line",  # type: ignore[arg-type]
                "last_line",
                "array",
            ),
        )
        or "preserve",
        json_path=json_path,
        default=fields.text("default"),
    )
    fields.finish()
    return spec


def parse_map(
    node: YNode | None, path: str, reporter: DiagnosticCollector, at: YNode
) -> MapPhase | None:
    if node is None:
        report(
            reporter,
            at,
            path,
            "a mapreduce workflow needs a 'map' section with 'input' and 'agent_template'",
        )
        return None
    if not isinstance(node, YMap):
        report(reporter, node, path, f"expected a mapping, got {type_name(node)}")
        return None
    fields = Fields(node, path, reporter, MAP_KEYS)
    source = fields.text("input")
    if source is None and not fields.has("input"):
        fields.error(node, "input", "map needs an 'input' (a JSON file or a command)")
    template_node = fields.node("agent_template")
    if template_node is None:
        fields.error(node, "agent_template", "map needs an 'agent_template' list of steps")
    template, _ = step_block(template_node, fields.at("agent_template"), reporter, deprecated=True)
    written = template_node.get("commands") if isinstance(template_node, YMap) else template_node
    if isinstance(written, YSeq) and not written.items:  # bad steps were reported already
        fields.error(template_node or node, "agent_template", "agent_template has no steps")
    agent_timeout = fields.int_or_var("agent_timeout_secs", minimum=1)
    if (legacy := fields.node("timeout_per_agent")) is not None:
        fields.warn(legacy, "timeout_per_agent", "deprecated; write 'agent_timeout_secs'")
        if agent_timeout is None:
            agent_timeout = fields.int_or_var("timeout_per_agent", minimum=1)
    phase = MapPhase(
        input=source or "",
        agent_template=template,
        json_path=fields.text("json_path"),
        filter=fields.text("filter"),
        sort_by=fields.text("sort_by"),
        distinct=fields.text("distinct"),
        offset=fields.whole("offset", minimum=0),
        max_items=fields.whole("max_items", minimum=0),
        max_parallel=_or_default(fields.int_or_var("max_parallel", minimum=1), 10),
        agent_timeout_secs=agent_timeout,
        timeout_config=_timeout_config(fields),
        location=location(node, path),
    )
    fields.finish()
    return phase if source is not None and template_node is not None else None


def _or_default(value: int | str | None, default: int) -> int | str:
    return default if value is None else value


def _timeout_config(parent: Fields) -> TimeoutConfig | None:
    node = parent.mapping("timeout_config")
    if node is None:
        return None
    fields = Fields(
        node,
        parent.at("timeout_config"),
        parent.reporter,
        (
            "agent_timeout_secs",
            "command_timeouts",
            "timeout_policy",
            "cleanup_grace_period_secs",
            "timeout_action",
            "enable_monitoring",
        ),
    )
    commands: dict[str, int] = {}
    command_node = fields.mapping("command_timeouts")
    for key, value in command_node.entries if command_node else ():
        if isinstance(value, YScalar) and isinstance(value.value, int):
            commands[str(key.value)] = value.value
        else:
            report(
                parent.reporter,
                value,
                child_path(fields.at("command_timeouts"), str(key.value)),
                "expected seconds",
            )
    enable = fields.flag("enable_monitoring")
    grace = fields.whole("cleanup_grace_period_secs", minimum=0)
    config = TimeoutConfig(
        agent_timeout_secs=fields.whole("agent_timeout_secs", minimum=1),
        command_timeouts=frozen(commands),
        timeout_policy=fields.choice(
            "timeout_policy",  # type: ignore[arg-type]
            ("PerAgent", "PerCommand", "Hybrid"),
        )
        or "PerAgent",
        cleanup_grace_period_secs=30 if grace is None else grace,
        timeout_action=fields.choice(
            "timeout_action",
            (  # type: ignore[arg-type]
                "Dlq",
                "Skip",
                "Fail",
                "GracefulTerminate",
            ),
        )
        or "Dlq",
        enable_monitoring=True if enable is None else enable,
    )
    fields.finish()
    return config


def parse_merge(node: YNode, path: str, reporter: DiagnosticCollector) -> MergeConfig:
    steps, fields = step_block(node, path, reporter, deprecated=False, extra=("timeout",))
    timeout = None
    if fields is not None:
        seconds = fields.seconds("timeout")
        timeout = None if seconds is None else max(1, round(seconds))
        fields.finish()
    return MergeConfig(steps=steps, timeout=timeout, location=location(node, path))
