"""`prodigy validate`."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented


@click.command("validate")
@click.argument("workflow", type=click.Path(dir_okay=False, path_type=str))
@click.option("--strict", is_flag=True, help="Treat warnings (unknown keys) as errors.")
@json_option
def validate(**_: object) -> None:
    """Check a workflow file and report every problem at once (exit 0 valid, 2 invalid)."""
    not_implemented("validate")


COMMANDS = [validate]
