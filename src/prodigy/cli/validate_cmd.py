"""`prodigy validate`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from prodigy.app.validate import validate_workflow
from prodigy.cli.common import json_option
from prodigy.core.errors import EXIT_OK, EXIT_USAGE


@click.command("validate")
@click.argument("workflow", type=click.Path(dir_okay=False, path_type=str))
@click.option("--strict", is_flag=True, help="Treat warnings (unknown keys) as errors.")
@json_option
def validate(workflow: str, strict: bool, as_json: bool) -> int:
    """Check a workflow file and report every problem at once (exit 0 valid, 2 invalid)."""
    report = validate_workflow(Path(workflow), strict=strict)
    code = EXIT_OK if report.valid else EXIT_USAGE
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return code
    if report.valid:
        click.echo(f"✓ Workflow is valid: {workflow}")
    else:
        click.echo(f"✗ Workflow has {len(report.errors)} problem(s):", err=True)
        for diagnostic in report.errors:
            click.echo(f"  {diagnostic}", err=True)
    for diagnostic in report.warnings:
        click.echo(f"  warning: {diagnostic}", err=True)
    return code


COMMANDS = [validate]
