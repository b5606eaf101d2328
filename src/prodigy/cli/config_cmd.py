"""`prodigy config ...`."""

from __future__ import annotations

import click

from prodigy.cli.common import json_option, not_implemented


@click.group("config")
def config() -> None:
    """Show the effective configuration and where each value came from."""


@config.command("show")
@click.argument("key", required=False)
@json_option
def show(**_: object) -> None:
    """Print each effective value and its source (secrets masked)."""
    not_implemented("config show")


@config.command("trace")
@click.argument("key", required=False)
@json_option
def trace(**_: object) -> None:
    """Explain how a value was chosen, layer by layer."""
    not_implemented("config trace")


COMMANDS = [config]
