"""The command tree: which module defines each command, loaded only when it is needed.

Every command module imports the application code behind it (pydantic workflow models, the
store, the runtime); importing all of them made every `prodigy ...` pay for all of them.
"""

from __future__ import annotations

import importlib

import click

from prodigy import __version__
from prodigy.cli.common import accept_verbosity

# Command name -> the module of prodigy.cli whose COMMANDS defines it, in the order users
# need them (the order `prodigy --help` lists). tests/test_cli_tree.py checks this table
# against every module's COMMANDS, so a new command cannot be forgotten here.
COMMAND_MODULES: dict[str, str] = {
    "run": "run_cmd",
    "cook": "run_cmd",
    "exec": "run_cmd",
    "batch": "run_cmd",
    "resume": "resume_cmd",
    "resume-job": "resume_cmd",
    "worktree": "worktree_cmd",
    "sessions": "sessions_cmd",
    "events": "events_cmd",
    "dlq": "dlq_cmd",
    "dashboard": "dashboard_cmd",
    "checkpoints": "checkpoints_cmd",
    "logs": "logs_cmd",
    "init": "init_cmd",
    "validate": "validate_cmd",
    "template": "template_cmd",
    "config": "config_cmd",
    "demo": "demo_cmd",
    "model-server": "model_server_cmd",
}


def load_command(name: str) -> click.Command | None:
    """The command `name`, its module imported now; None for a name that is not a command."""
    module_name = COMMAND_MODULES.get(name)
    if module_name is None:
        return None
    module = importlib.import_module(f"prodigy.cli.{module_name}")
    commands: list[click.Command] = module.COMMANDS
    for command in commands:
        if command.name == name:
            accept_verbosity(command)
            return command
    raise LookupError(f"prodigy.cli.{module_name} defines no command {name!r}")


class _LazyGroup(click.Group):
    """Imports a command's module only when that command runs or help lists it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="prodigy")
def cli() -> None:
    """Run reviewed YAML workflows that drive Claude Code in isolated git worktrees.

    Start with `prodigy run workflow.yml`; see `prodigy <command> --help` for each command.
    """


accept_verbosity(cli)
