"""The `prodigy` command: the one place that maps errors to exit codes."""

from __future__ import annotations

import sys

import click

from prodigy import __version__
from prodigy.cli import (
    checkpoints_cmd,
    config_cmd,
    dashboard_cmd,
    demo_cmd,
    dlq_cmd,
    events_cmd,
    init_cmd,
    logs_cmd,
    model_server_cmd,
    resume_cmd,
    run_cmd,
    sessions_cmd,
    template_cmd,
    validate_cmd,
    worktree_cmd,
)
from prodigy.cli.common import accept_verbosity, answer_ctrl_c
from prodigy.core.errors import EXIT_INTERRUPTED, ProdigyError


class _Group(click.Group):
    """Lists commands in the order they were added, which is the order users need them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="prodigy")
def cli() -> None:
    """Run reviewed YAML workflows that drive Claude Code in isolated git worktrees.

    Start with `prodigy run workflow.yml`; see `prodigy <command> --help` for each command.
    """


for module in (
    run_cmd,
    resume_cmd,
    worktree_cmd,
    sessions_cmd,
    events_cmd,
    dlq_cmd,
    dashboard_cmd,
    checkpoints_cmd,
    logs_cmd,
    init_cmd,
    validate_cmd,
    template_cmd,
    config_cmd,
    demo_cmd,
    model_server_cmd,
):
    for command in module.COMMANDS:
        cli.add_command(command)
accept_verbosity(cli)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command tree and turn every outcome into an exit code."""
    answer_ctrl_c()
    try:
        rv = cli.main(args=argv, prog_name="prodigy", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except ProdigyError as exc:
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
