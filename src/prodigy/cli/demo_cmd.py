"""`prodigy demo`: an offline tour that needs no model."""

from __future__ import annotations

import click


@click.command("demo")
def demo() -> None:
    """Run an offline demo workflow in a throwaway repository (no model, no network)."""
    click.echo("prodigy demo: not yet available; it arrives with the scripted agent.")


COMMANDS = [demo]
