"""Static check of `shell:` commands: placeholders where bash evaluates the text (issue 12).

At run time such a value is refused unless it is an integer (arithmetic) or a variable name;
`validate` says so up front, naming the line and the bash construct, so a workflow that
would fail on a non-numeric item is noticed before it runs.
"""

from __future__ import annotations

from prodigy.core.shell_contexts import Need, scan
from prodigy.core.workflow.checks import all_steps
from prodigy.core.workflow.diagnostics import Diagnostic, DiagnosticCollector
from prodigy.core.workflow.model import Workflow
from prodigy.core.workflow.step_model import ForeachAction, ShellAction, SourceLocation

# Variables that always hold an integer: nothing to warn about in arithmetic.
_INTEGERS = frozenset({"map.total", "map.successful", "map.failed", "item_index", "index", "total"})


def check_shell_contexts(workflow: Workflow, reporter: DiagnosticCollector) -> None:
    for step in all_steps(workflow):
        commands = []
        if isinstance(step.action, ShellAction):
            commands.append(("shell", step.action.command))
        elif isinstance(step.action, ForeachAction) and step.action.command:
            commands.append(("foreach", step.action.command))
        if step.step_validate is not None:
            commands.extend(
                ("step_validate", c.command)
                for c in step.step_validate.commands
                if c.command_type == "shell"
            )
        for key, command in commands:
            _check(command, key, step.location, reporter)


def _check(command: str, key: str, where: SourceLocation, reporter: DiagnosticCollector) -> None:
    for site in scan(command).sites:
        path = site.placeholder.path
        if site.need is Need.TEXT or path in _INTEGERS or path.endswith(".exit_code"):
            continue
        line = command.count("\n", 0, site.placeholder.start) + 1
        reporter.add(
            Diagnostic(
                file=where.file,
                line=where.line,
                column=where.column,
                yaml_path=f"{where.yaml_path}.{key}" if where.yaml_path else key,
                message=(
                    f"{site.placeholder.text} (line {line} of the command) stands in "
                    f"{site.where}, where bash evaluates the text: only {site.need.value} is "
                    "accepted there, any other value fails the step"
                ),
                severity="warning",
            )
        )
