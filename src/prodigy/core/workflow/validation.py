"""`validate:` / `on_incomplete:`, `step_validate:` and `commit_config:` -> typed options."""

from __future__ import annotations

from typing import Literal

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, location, report, scalar_text
from prodigy.core.workflow.on_failure import StepParser, handler_list
from prodigy.core.workflow.retry import seconds_or
from prodigy.core.workflow.step_model import (
    CheckCommand,
    ClaudeAction,
    CommitConfig,
    OnIncomplete,
    ShellAction,
    Step,
    StepValidation,
    Validation,
)
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, to_plain, type_name


def parse_validation(
    node: YNode, path: str, reporter: DiagnosticCollector, parse: StepParser
) -> Validation:
    if isinstance(node, YSeq):
        return Validation(commands=handler_list(node, path, reporter, parse))
    if not isinstance(node, YMap):
        report(
            reporter,
            node,
            path,
            f"expected a validation mapping such as {{shell: ...,"
            f" threshold: 90}} or a list of steps, got {type_name(node)}",
        )
        return Validation()
    fields = Fields(
        node,
        path,
        reporter,
        (
            "shell",
            "command",
            "claude",
            "commands",
            "result_file",
            "threshold",
            "timeout",
            "on_incomplete",
            "expected_schema",
        ),
    )
    commands = _one_command_form(fields, parse, ("commands", "claude", "shell", "command"))
    if not commands:
        report(
            reporter,
            node,
            path,
            "validate has no shell, claude or commands; it will always "
            "report 'No validation command specified'",
            severity="warning",
        )
    threshold = fields.number("threshold")
    if threshold is not None and not 0 <= threshold <= 100:
        fields.error(fields.map, "threshold", f"threshold is a percentage 0-100, got {threshold}")
    incomplete = fields.node("on_incomplete")
    schema = fields.node("expected_schema")
    result = Validation(
        commands=commands,
        result_file=fields.text("result_file"),
        threshold=100.0 if threshold is None else threshold,
        timeout=fields.whole("timeout", minimum=1),
        on_incomplete=(
            None
            if incomplete is None
            else _on_incomplete(incomplete, fields.at("on_incomplete"), reporter, parse)
        ),
        expected_schema=None if schema is None else to_plain(schema),
    )
    fields.finish()
    return result


def _one_command_form(fields: Fields, parse: StepParser, keys: tuple[str, ...]) -> tuple[Step, ...]:
    given = [k for k in keys if fields.has(k)]
    if len(given) > 1:
        fields.error(fields.map, given[1], f"give only one of {', '.join(given)}")
    if not given:
        return ()
    key = given[0]
    node = fields.node(key)
    if node is None:
        return ()
    if key == "commands":
        if isinstance(node, YSeq):
            return handler_list(node, fields.at(key), fields.reporter, parse)
        fields.error(node, key, f"expected a list of steps, got {type_name(node)}")
        return ()
    if key == "command":
        fields.warn(node, key, "'command' is deprecated here; write 'shell'")
    text = scalar_text(node, fields.at(key), fields.reporter)
    if text is None:
        return ()
    action = ClaudeAction(prompt=text) if key == "claude" else ShellAction(command=text)
    return (Step(action=action, location=location(node, fields.at(key))),)


def _on_incomplete(
    node: YNode, path: str, reporter: DiagnosticCollector, parse: StepParser
) -> OnIncomplete:
    if isinstance(node, YSeq):
        return OnIncomplete(handlers=handler_list(node, path, reporter, parse))
    if not isinstance(node, YMap):
        report(
            reporter, node, path, f"expected a mapping or a list of steps, got {type_name(node)}"
        )
        return OnIncomplete()
    fields = Fields(
        node,
        path,
        reporter,
        (
            "claude",
            "shell",
            "commands",
            "prompt",
            "max_attempts",
            "fail_workflow",
            "commit_required",
        ),
    )
    handlers = _one_command_form(fields, parse, ("commands", "claude", "shell"))
    attempts = fields.whole("max_attempts", minimum=0)
    fail = fields.flag("fail_workflow")
    commit = fields.flag("commit_required")
    result = OnIncomplete(
        handlers=handlers,
        prompt=fields.text("prompt"),
        max_attempts=2 if attempts is None else attempts,
        fail_workflow=True if fail is None else fail,
        commit_required=commit or False,
    )
    fields.finish()
    return result


def _check(text: str) -> CheckCommand:
    for prefix in ("claude:", "shell:"):
        if text.startswith(prefix):
            return CheckCommand(command=text[len(prefix) :].strip(), command_type=prefix[:-1])  # type: ignore[arg-type]
    return CheckCommand(command=text)


def parse_step_validation(
    node: YNode, path: str, reporter: DiagnosticCollector
) -> StepValidation | None:
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return StepValidation(commands=(_check(node.value),))
    if isinstance(node, YSeq):
        texts = [
            scalar_text(item, child_path(path, i), reporter) for i, item in enumerate(node.items)
        ]
        return StepValidation(commands=tuple(_check(t) for t in texts if t is not None))
    if not isinstance(node, YMap):
        report(reporter, node, path, "expected a command, a list of commands or {commands: ...}")
        return None
    fields = Fields(
        node, path, reporter, ("commands", "success_criteria", "max_attempts", "retry_delay")
    )
    checks: list[CheckCommand] = []
    commands = fields.node("commands")
    for i, item in enumerate(commands.items if isinstance(commands, YSeq) else ()):
        at = child_path(fields.at("commands"), i)
        if isinstance(item, YScalar) and isinstance(item.value, str):
            checks.append(_check(item.value))
            continue
        if not isinstance(item, YMap):
            report(reporter, item, at, "expected {command: ..., expect_exit_code: 0}")
            continue
        sub = Fields(
            item, at, reporter, ("command", "expect_output", "expect_exit_code", "command_type")
        )
        command = sub.text("command")
        kind = sub.choice("command_type", ("shell", "claude")) or "shell"
        if command is not None:
            checks.append(
                CheckCommand(
                    command=command,
                    command_type=kind,  # type: ignore[arg-type]
                    expect_output=sub.text("expect_output"),
                    expect_exit_code=sub.whole("expect_exit_code") or 0,
                )
            )
        sub.finish()
    criteria, at_least = _criteria(fields)
    result = StepValidation(
        commands=tuple(checks),
        success_criteria=criteria,
        at_least=at_least,
        max_attempts=fields.whole("max_attempts", minimum=1) or 1,
        retry_delay=seconds_or(fields.seconds("retry_delay"), 5.0),
    )
    fields.finish()
    return result


def _criteria(fields: Fields) -> tuple[Literal["all", "any", "at_least"], int | None]:
    node = fields.node("success_criteria")
    if node is None:
        return "all", None
    if isinstance(node, YScalar) and node.value == "any":
        return "any", None
    if isinstance(node, YScalar) and node.value == "all":
        return "all", None
    count = node.get("atleast") if isinstance(node, YMap) else None
    if isinstance(count, YScalar) and isinstance(count.value, int):
        return "at_least", count.value
    fields.error(node, "success_criteria", "expected all, any or {atleast: N}")
    return "all", None


def parse_commit_config(
    node: YNode, path: str, reporter: DiagnosticCollector
) -> CommitConfig | None:
    if not isinstance(node, YMap):
        report(reporter, node, path, f"expected a mapping, got {type_name(node)}")
        return None
    fields = Fields(
        node,
        path,
        reporter,
        (
            "message_template",
            "message_pattern",
            "sign",
            "author",
            "include_files",
            "exclude_files",
            "squash",
        ),
    )
    config = CommitConfig(
        message_template=fields.text("message_template"),
        message_pattern=fields.text("message_pattern"),
        sign=fields.flag("sign") or False,
        author=fields.text("author"),
        include_files=fields.str_list("include_files") or (),
        exclude_files=fields.str_list("exclude_files") or (),
        squash=fields.flag("squash") or False,
    )
    fields.finish()
    return config
