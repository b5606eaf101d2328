"""`on_failure` in every spelling (bool, command, list, detailed, advanced) -> OnFailure."""

from __future__ import annotations

from collections.abc import Callable

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, frozen, location, report
from prodigy.core.workflow.step_model import (
    ClaudeAction,
    OnFailure,
    ShellAction,
    Step,
)
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, to_plain, type_name

StepParser = Callable[[YNode, str, DiagnosticCollector], "Step | None"]


_ADVANCED_KEYS = (
    "claude",
    "shell",
    "fail_workflow",
    "retry_original",
    "max_attempts",
    "max_retries",
    "commit_required",
)


_DETAILED_KEYS = (
    "commands",
    "strategy",
    "timeout",
    "capture",
    "fail_workflow",
    "handler_failure_fatal",
    "max_attempts",
)


def command_step(text: str, node: YNode, path: str) -> Step:
    """A bare handler string: `/cmd` runs Claude, anything else runs the shell."""
    action = ClaudeAction(prompt=text) if text.startswith("/") else ShellAction(command=text)
    return Step(action=action, location=location(node, path))


def handler_list(
    node: YSeq, path: str, reporter: DiagnosticCollector, parse: StepParser
) -> tuple[Step, ...]:
    out: list[Step] = []
    for i, item in enumerate(node.items):
        at = child_path(path, i)
        if isinstance(item, YScalar) and isinstance(item.value, str):
            out.append(command_step(item.value, item, at))
        elif (step := parse(item, at, reporter)) is not None:
            out.append(step)
    return tuple(out)


def parse_on_failure(
    node: YNode, path: str, reporter: DiagnosticCollector, parse: StepParser
) -> OnFailure:
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return OnFailure(fail_workflow=not node.value)
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return OnFailure(handlers=(command_step(node.value, node, path),))
    if isinstance(node, YSeq):
        return OnFailure(handlers=handler_list(node, path, reporter, parse))
    if not isinstance(node, YMap):
        report(
            reporter,
            node,
            path,
            "expected true/false, a command, a list of commands, or "
            "a handler such as {claude: ..., max_attempts: 3}",
        )
        return OnFailure()
    if node.get("commands") is not None:
        return _detailed(Fields(node, path, reporter, _DETAILED_KEYS), parse)
    return _advanced(Fields(node, path, reporter, _ADVANCED_KEYS))


def _detailed(fields: Fields, parse: StepParser) -> OnFailure:
    commands = fields.node("commands")
    handlers: tuple[Step, ...] = ()
    if isinstance(commands, YSeq):
        handlers = handler_list(commands, fields.at("commands"), fields.reporter, parse)
    elif commands is not None:
        fields.error(
            commands, "commands", f"expected a list of commands, got {type_name(commands)}"
        )
    strategy = fields.choice("strategy", ("recovery", "fallback", "cleanup", "custom"))
    capture = fields.mapping("capture")
    plain = to_plain(capture) if capture is not None else None
    result = OnFailure(
        handlers=handlers,
        strategy=strategy or "recovery",  # type: ignore[arg-type]
        timeout=fields.whole("timeout", minimum=1),
        fail_workflow=fields.flag("fail_workflow") or False,
        handler_failure_fatal=fields.flag("handler_failure_fatal") or False,
        max_attempts=fields.whole("max_attempts", minimum=1),
        capture=frozen(plain) if isinstance(plain, dict) else None,
    )
    fields.finish()
    return result


def _advanced(fields: Fields) -> OnFailure:
    handlers = []
    for key in ("shell", "claude"):  # prodigy runs the shell handler first, then Claude
        text = fields.text(key)
        node = fields.node(key)
        if text is not None and node is not None:
            action = ShellAction(command=text) if key == "shell" else ClaudeAction(prompt=text)
            handlers.append(Step(action=action, location=location(node, fields.at(key))))
    attempts = fields.whole("max_attempts", minimum=0)
    retries = fields.whole("max_retries", minimum=0)
    if attempts is not None and retries is not None:
        fields.error(fields.map, "max_retries", "give max_attempts or max_retries, not both")
    elif retries is not None:
        attempts = retries + 1  # retries are re-runs; attempts count the first run too
    result = OnFailure(
        handlers=tuple(handlers),
        fail_workflow=fields.flag("fail_workflow") or False,
        retry_original=fields.flag("retry_original") or False,
        max_attempts=attempts,
        commit_required=fields.flag("commit_required"),
    )
    fields.finish()
    return result
