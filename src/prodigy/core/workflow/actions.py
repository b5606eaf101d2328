"""The action of a step (claude, shell, write_file, foreach, legacy forms...) -> typed Action."""

from __future__ import annotations

from typing import Any

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, frozen, location, report
from prodigy.core.workflow.on_failure import StepParser, parse_on_failure
from prodigy.core.workflow.step_model import (
    Action,
    AnalyzeAction,
    ClaudeAction,
    ForeachAction,
    GoalSeekAction,
    HandlerAction,
    ShellAction,
    Step,
    WriteFileAction,
)
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, YSeq, to_plain, type_name

ACTION_KEYS = (
    "claude",
    "shell",
    "write_file",
    "foreach",
    "test",
    "goal_seek",
    "analyze",
    "handler",
    "command",
)
# prodigy's built-in registry: legacy commands that do not need to commit
_NO_COMMIT_LEGACY = frozenset({"prodigy-lint"})


def legacy_command(text: str, node: YNode, path: str) -> Step:
    """`- prodigy-lint --fix`: a Claude slash command, as in prodigy's oldest format."""
    prompt = text if text.startswith("/") else f"/{text}"
    name = prompt[1:].split()[0] if prompt[1:].split() else prompt[1:]
    return Step(
        action=ClaudeAction(prompt=prompt),
        location=location(node, path),
        commit_required=name not in _NO_COMMIT_LEGACY,
    )


def structured_legacy(fields: Fields) -> tuple[Action | None, dict[str, Any]]:
    """`{name: cmd, args: [...]}` with no action key: Claude `/cmd args...`."""
    name = fields.text("name")
    args = fields.str_list("args") or ()
    options = fields.node("options")
    if options is not None:
        fields.warn(
            options,
            "options",
            "legacy 'options' are not passed to the command; put them in the prompt",
        )
    if not name:
        return None, {}
    prompt = " ".join((name if name.startswith("/") else f"/{name}", *args))
    return ClaudeAction(prompt=prompt), {"commit_required": name not in _NO_COMMIT_LEGACY}


def parse_action(
    key: str, fields: Fields, parse: StepParser
) -> tuple[Action | None, dict[str, Any]]:
    node = fields.node(key)
    if node is None:
        fields.error(fields.map, key, f"'{key}' needs a value")
        return None, {}
    at, reporter = fields.at(key), fields.reporter
    if key in ("claude", "command"):
        if key == "command":
            fields.warn(node, key, "legacy 'command:' runs a Claude command; write 'claude:'")
        prompt = fields.text(key) if isinstance(node, YScalar) else _not_text(node, at, reporter)
        return (ClaudeAction(prompt=prompt) if prompt is not None else None), {}
    if key == "shell":
        command = fields.text(key) if isinstance(node, YScalar) else _not_text(node, at, reporter)
        return (ShellAction(command=command) if command is not None else None), {}
    if key == "test":
        return _test(node, at, reporter, parse)
    if not isinstance(node, YMap):
        fields.error(node, key, f"expected a mapping, got {type_name(node)}")
        return None, {}
    if key == "write_file":
        return _write_file(Fields(node, at, reporter, _WRITE_KEYS)), {}
    if key == "foreach":
        return _foreach(Fields(node, at, reporter, _FOREACH_KEYS), parse), {}
    if key == "handler":
        sub = Fields(node, at, reporter, ("name", "attributes"))
        name, attrs = sub.text("name"), sub.mapping("attributes")
        sub.finish()
        plain = to_plain(attrs) if attrs is not None else {}
        assert isinstance(plain, dict)
        return (HandlerAction(name=name, attributes=frozen(plain)) if name else None), {}
    config = to_plain(node)
    assert isinstance(config, dict)
    if key == "goal_seek":
        fields.warn(
            node,
            key,
            "goal_seek was removed in prodigy 0.4.1 (validate with on_incomplete replaces"
            " it); this release still runs it as the manual documents",
        )
        return GoalSeekAction(config=frozen(config)), {}
    fields.warn(node, key, "analyze was removed in prodigy 0.3; the step will fail when run")
    return AnalyzeAction(config=frozen(config)), {}


def _not_text(node: YNode, path: str, reporter: DiagnosticCollector) -> str | None:
    report(reporter, node, path, f"expected a string, got {type_name(node)}")
    return None


def _test(
    node: YNode, path: str, reporter: DiagnosticCollector, parse: StepParser
) -> tuple[Action | None, dict[str, Any]]:
    """Deprecated `test: {command, on_failure}` = shell + on_failure."""
    report(
        reporter,
        node,
        path,
        "'test:' is deprecated; write 'shell:' with 'on_failure:'",
        severity="warning",
    )
    if not isinstance(node, YMap):
        report(reporter, node, path, f"expected {{command, on_failure}}, got {type_name(node)}")
        return None, {}
    fields = Fields(node, path, reporter, ("command", "on_failure"))
    command = fields.text("command")
    failure = fields.node("on_failure")
    fields.finish()
    if command is None:
        report(reporter, node, path, "'test' needs a 'command'")
        return None, {}
    extra: dict[str, Any] = {"deprecated_test": True}
    if failure is not None:
        extra["on_failure"] = parse_on_failure(
            failure, child_path(path, "on_failure"), reporter, parse
        )
    return ShellAction(command=command), extra


_WRITE_KEYS = ("path", "content", "format", "mode", "create_dirs")
_FOREACH_KEYS = ("foreach", "items", "input", "parallel", "continue_on_error", "max_items", "do")


def _write_file(fields: Fields) -> Action | None:
    path = fields.text("path")
    content_node = fields.node("content")
    fmt = fields.choice("format", ("text", "json", "yaml")) or "text"
    mode = fields.text("mode") or "0644"
    create_dirs = fields.flag("create_dirs") or False
    fields.finish()
    if not set(mode) <= set("01234567") or len(mode) > 4:
        fields.error(fields.map, "mode", f'file mode must be octal like "0644", got {mode!r}')
    if path is None:
        fields.error(fields.map, "path", "write_file needs a 'path'")
        return None
    content = to_plain(content_node) if content_node is not None else ""
    return WriteFileAction(
        path=path,
        content=content,
        format=fmt,  # type: ignore[arg-type]
        mode=mode,
        create_dirs=create_dirs,
    )


def _foreach(fields: Fields, parse: StepParser) -> Action | None:
    key = next((k for k in ("foreach", "items", "input") if fields.has(k)), "foreach")
    if key != "foreach":
        fields.warn(
            fields.map,
            key,
            f"'{key}' is an alias; prodigy reads the list from a nested 'foreach:' key",
        )
    source = fields.node(key)
    items: tuple[str, ...] | None = None
    command: str | None = None
    if isinstance(source, YSeq):
        items = fields.str_list(key)
    elif isinstance(source, YScalar) and isinstance(source.value, str):
        command = source.value
    else:
        where = source if source is not None else fields.map
        fields.error(where, key, "foreach needs a list of items or a command that prints them")
    parallel_node = fields.node("parallel")
    parallel = 1
    if isinstance(parallel_node, YScalar) and isinstance(parallel_node.value, bool):
        parallel = 10 if parallel_node.value else 1
    elif parallel_node is not None:
        value = parallel_node.value if isinstance(parallel_node, YScalar) else None
        if isinstance(value, int) and value >= 1:
            parallel = value
        else:
            fields.error(parallel_node, "parallel", "expected true, false or a number >= 1")
    continue_on_error = fields.flag("continue_on_error") or False
    max_items = fields.whole("max_items", minimum=0)
    do_node = fields.node("do")
    if do_node is None:
        fields.error(fields.map, "do", "foreach needs a 'do' list of steps")
    do_items = do_node.items if isinstance(do_node, YSeq) else ()
    if do_node is not None and not isinstance(do_node, YSeq):
        fields.error(do_node, "do", f"expected a list of steps, got {type_name(do_node)}")
    parsed = (
        parse(item, child_path(fields.at("do"), i), fields.reporter)
        for i, item in enumerate(do_items)
    )
    do = tuple(step for step in parsed if step is not None)
    fields.finish()
    if items is None and command is None:
        return None
    return ForeachAction(
        items=items,
        command=command,
        do=do,
        parallel=parallel,
        continue_on_error=continue_on_error,
        max_items=max_items,
    )
