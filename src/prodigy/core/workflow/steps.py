"""A YAML step (any accepted spelling) -> the normalized `Step`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from prodigy.core.workflow.actions import (
    ACTION_KEYS,
    legacy_command,
    parse_action,
    structured_legacy,
)
from prodigy.core.workflow.diagnostics import DiagnosticCollector, suggest
from prodigy.core.workflow.env import parse_env
from prodigy.core.workflow.fields import Fields, child_path, frozen, location, report
from prodigy.core.workflow.on_failure import parse_on_failure
from prodigy.core.workflow.retry import parse_retry
from prodigy.core.workflow.step_model import (
    CaptureStreams,
    Step,
)
from prodigy.core.workflow.validation import (
    parse_commit_config,
    parse_step_validation,
    parse_validation,
)
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, to_plain, type_name

OPTION_KEYS = (
    "name",
    "id",
    "agent",
    "commit_required",
    "capture_output",
    "capture",
    "capture_format",
    "capture_streams",
    "output_file",
    "timeout",
    "env",
    "working_dir",
    "when",
    "on_success",
    "on_failure",
    "on_exit_code",
    "retry",
    "retry_config",
    "validate",
    "step_validate",
    "skip_validation",
    "validation_timeout",
    "ignore_validation_failure",
    "auto_commit",
    "commit_config",
    "continue_on_error",
    "shell_trusted_vars",
    "outputs",
    "analysis",
    "args",
    "options",
)
CAPTURE_FORMATS = ("string", "json", "lines", "number", "boolean")


def parse_steps(node: YNode | None, path: str, reporter: DiagnosticCollector) -> tuple[Step, ...]:
    """A list of steps; each bad entry is reported and skipped so the rest is still checked."""
    if node is None:
        return ()
    if not isinstance(node, YSeq):
        report(reporter, node, path, f"expected a list of steps, got {type_name(node)}")
        return ()
    steps = (parse_step(item, child_path(path, i), reporter) for i, item in enumerate(node.items))
    return tuple(s for s in steps if s is not None)


def parse_step(node: YNode, path: str, reporter: DiagnosticCollector) -> Step | None:
    if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
        return legacy_command(node.value.strip(), node, path)
    if not isinstance(node, YMap):
        report(
            reporter,
            node,
            path,
            f"expected a step (a mapping such as {{shell: ...}}), got {type_name(node)}",
        )
        return None
    fields = Fields(node, path, reporter, ACTION_KEYS + OPTION_KEYS)
    present = [k for k in ACTION_KEYS if fields.has(k)]
    if len(present) > 1:
        listed = " and ".join(f"'{k}'" for k in present)
        report(
            reporter,
            node,
            path,
            f"step has {len(present)} actions ({listed}); "
            "a step runs exactly one: split it into separate steps",
        )
        return None
    if not present and not fields.has("name"):
        unknown = [k for k in node.names() if k not in OPTION_KEYS]
        hint = next((s for s in (suggest(k, ACTION_KEYS) for k in unknown) if s), None)
        report(
            reporter,
            node,
            path,
            "step has no action: expected one of claude, shell, "
            "write_file, foreach (or a legacy command name)",
            suggestion=hint,
        )
        return None
    if present:
        action, extra = parse_action(present[0], fields, parse_step)
        for key in ("args", "options"):
            if (legacy := fields.node(key)) is not None:
                fields.warn(
                    legacy,
                    key,
                    f"'{key}' only applies to legacy {{name: ...}} "
                    "commands; put it in the command text",
                )
    else:
        action, extra = structured_legacy(fields)
    if action is None:
        fields.finish()
        return None
    step = Step(action=action, location=location(node, path), **extra)
    return _options(step, fields, reporter)


def _options(step: Step, fields: Fields, reporter: DiagnosticCollector) -> Step:
    opts: dict[str, Any] = {}
    for key in ("name", "id", "agent", "output_file", "working_dir", "when"):
        if (value := fields.text(key)) is not None:
            opts[key] = value
    for key in (
        "commit_required",
        "skip_validation",
        "ignore_validation_failure",
        "auto_commit",
        "continue_on_error",
        "shell_trusted_vars",
    ):
        if (flag := fields.flag(key)) is not None:
            opts[key] = flag
    for key in ("timeout", "validation_timeout"):
        seconds = fields.seconds(key)
        if seconds is not None and seconds < 1:
            fields.error(fields.map, key, f"must be at least 1 second, got {seconds:g}")
        elif seconds is not None:
            opts[key] = round(seconds)
    opts.update(_capture(fields))
    if (env := parse_env(fields.node("env"), fields.at("env"), reporter)) is not None:
        opts["env"] = env
    if (node := fields.node("on_success")) is not None:
        opts["on_success"] = parse_step(node, fields.at("on_success"), reporter)
    if (node := fields.node("on_failure")) is not None:
        opts["on_failure"] = parse_on_failure(node, fields.at("on_failure"), reporter, parse_step)
    if (node := fields.node("on_exit_code")) is not None:
        opts["on_exit_code"] = _on_exit_code(node, fields.at("on_exit_code"), reporter)
    retry_key = "retry" if fields.has("retry") or not fields.has("retry_config") else "retry_config"
    if (node := fields.node(retry_key)) is not None:
        if retry_key == "retry_config":
            fields.warn(node, retry_key, "'retry_config' is the manual's old name; write 'retry'")
        opts["retry"] = parse_retry(node, fields.at(retry_key), reporter)
    if (node := fields.node("validate")) is not None:
        opts["validate"] = parse_validation(node, fields.at("validate"), reporter, parse_step)
    if (node := fields.node("step_validate")) is not None:
        opts["step_validate"] = parse_step_validation(node, fields.at("step_validate"), reporter)
    if (node := fields.node("commit_config")) is not None:
        opts["commit_config"] = parse_commit_config(node, fields.at("commit_config"), reporter)
    if (node := fields.node("outputs")) is not None:
        opts["outputs"] = _outputs(node, fields.at("outputs"), reporter)
    if (analysis := fields.mapping("analysis")) is not None:
        plain = to_plain(analysis)
        assert isinstance(plain, dict)
        opts["analysis"] = frozen(plain)
    fields.finish(ignore=("args", "options"))
    return replace(step, **opts)


def _capture(fields: Fields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = fields.node("capture_output")
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        out["capture_output"] = node.value
    elif isinstance(node, YScalar) and isinstance(node.value, str):
        out["capture_output"], out["capture"] = True, node.value
    elif node is not None:
        fields.error(
            node,
            "capture_output",
            f"expected true, false or a variable name, got {type_name(node)}",
        )
    if (name := fields.text("capture")) is not None:
        out["capture"] = name
    fmt_node = fields.node("capture_format")
    if isinstance(fmt_node, YScalar) and fmt_node.value == "text":
        fields.warn(fmt_node, "capture_format", "'text' is read as 'string'")
        out["capture_format"] = "string"
    elif fmt_node is not None:
        out["capture_format"] = fields.choice("capture_format", CAPTURE_FORMATS) or "string"
    streams = fields.node("capture_streams")
    if streams is not None:
        out["capture_streams"] = _streams(streams, fields)
    return out


def _streams(node: YNode, fields: Fields) -> CaptureStreams:
    if isinstance(node, YScalar) and node.value in ("stdout", "stderr", "both"):
        return CaptureStreams(stdout=node.value != "stderr", stderr=node.value != "stdout")
    if isinstance(node, YMap):
        sub = Fields(
            node,
            fields.at("capture_streams"),
            fields.reporter,
            ("stdout", "stderr", "exit_code", "success", "duration"),
        )
        values = {k: sub.flag(k) for k in sub.known}
        sub.finish()
        return CaptureStreams(**{k: v for k, v in values.items() if v is not None})
    fields.error(
        node,
        "capture_streams",
        "expected stdout, stderr, both or a mapping such as {stdout: true, stderr: true}",
    )
    return CaptureStreams()


def _on_exit_code(node: YNode, path: str, reporter: DiagnosticCollector) -> Mapping[int, Step]:
    if not isinstance(node, YMap):
        report(
            reporter,
            node,
            path,
            f"expected a mapping of exit codes to steps, got {type_name(node)}",
        )
        return frozen({})
    out: dict[int, Step] = {}
    for key, value in node.entries:
        code = key.value
        if isinstance(code, str) and code.lstrip("-").isdigit():
            code = int(code)
        if not isinstance(code, int) or isinstance(code, bool):
            report(
                reporter,
                key,
                child_path(path, str(key.value)),
                "exit code keys must be whole numbers",
            )
            continue
        step = parse_step(value, child_path(path, code), reporter)
        if step is not None:
            out[code] = step
    return frozen(out)


def _outputs(node: YNode, path: str, reporter: DiagnosticCollector) -> Mapping[str, str]:
    out: dict[str, str] = {}
    if not isinstance(node, YMap):
        report(reporter, node, path, "expected a mapping such as {spec: {file_pattern: '*.md'}}")
        return frozen(out)
    for key, value in node.entries:
        name = str(key.value)
        pattern = value.get("file_pattern") if isinstance(value, YMap) else None
        if isinstance(pattern, YScalar) and isinstance(pattern.value, str):
            out[name] = pattern.value
        else:
            report(reporter, value, child_path(path, name), "expected {file_pattern: '<glob>'}")
    return frozen(out)
