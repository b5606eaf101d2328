"""`prodigy run` (alias `cook`), `exec` and `batch`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from prodigy.cli.common import executor_options, limit_options, path_option, verbosity
from prodigy.cli.help_groups import GroupedHelpCommand
from prodigy.runtime.agents import agents_help

F = TypeVar("F", bound=Callable[..., object])

AGENT_HELP = f"Agent for every claude: step, over the workflow's and steps' agent: {agents_help()}."

# `prodigy run --help` in sections a reader can scan (click has no option groups).
RUN_OPTION_GROUPS = {
    "Running": ["path", "yes", "args", "map_globs", "dry_run", "resume_id"],
    "Limits": ["max_iterations", "fail_fast", "max_cost_usd", "max_tokens", "on_quota"],
    "Workflow inputs": ["params", "param_file", "profile"],
    "Agents": ["agent", "executor", "ray_address"],
    "Output": ["verbose", "help"],
}


def _run_options(f: F) -> F:
    options = [
        click.argument("workflow", type=click.Path(dir_okay=False, path_type=str)),
        path_option,
        click.option(
            "-y", "--yes", is_flag=True, help="Merge the session into your branch without asking."
        ),
        click.option(
            "-n",
            "--max-iterations",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Run the whole workflow N times in the same session.",
        ),
        click.option(
            "-a",
            "--args",
            "args",
            multiple=True,
            metavar="VALUE",
            help="Positional input (repeatable): $ARG_1...$ARG_N in order, $ARG is the first.",
        ),
        click.option(
            "-m",
            "--map",
            "map_globs",
            multiple=True,
            metavar="GLOB",
            help="Run once per matching file, $ARG = its name up to the first '-' (repeatable).",
        ),
        click.option(
            "--dry-run", is_flag=True, help="Print the resolved plan; create and run nothing."
        ),
        click.option(
            "--fail-fast", is_flag=True, help="With --args/--map: stop at the first failing input."
        ),
        click.option(
            "--resume",
            "resume_id",
            metavar="SESSION_ID",
            default=None,
            help="Continue an interrupted session (same as `prodigy resume SESSION_ID`).",
        ),
        click.option(
            "--param",
            "params",
            multiple=True,
            metavar="KEY=VALUE",
            help="Template parameter for composable workflows (repeatable).",
        ),
        click.option(
            "--param-file",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="JSON or YAML file of template parameters; --param overrides it.",
        ),
        click.option(
            "--profile",
            default=None,
            help="Activate an environment profile defined in the workflow.",
        ),
        click.option(
            "--agent",
            default=None,
            metavar="NAME",
            help=AGENT_HELP,
        ),
        click.option(
            "--on-quota",
            type=click.Choice(["wait", "pause", "fail"]),
            default=None,
            help="When the agent's usage limit is hit: wait for the reset (default), pause"
            " (exit 75), or fail; overrides quota.on_limit.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    wrapped: F = executor_options(limit_options(f))
    return wrapped


def _start(ctx: click.Context, kw: dict[str, Any]) -> int:
    import os

    from prodigy.app.run import start_run
    from prodigy.app.session.options import RunOptions
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.map_display import make_run_display
    from prodigy.core.errors import UsageError
    from prodigy.core.workflow import parse_param

    if kw["resume_id"]:
        raise UsageError(f"use `prodigy resume {kw['resume_id']}` to continue a session")
    if kw["fail_fast"] and not kw["map_globs"]:
        raise UsageError("--fail-fast only applies with --map (runs always stop at a failure)")
    params: dict[str, Any] = {}
    if kw["param_file"]:
        params.update(_param_file(kw["param_file"]))
    params.update(dict(parse_param(text) for text in kw["params"]))
    options = RunOptions(
        workflow=Path(kw["workflow"]).expanduser().resolve(),
        repo=Path(kw["path"]) if kw["path"] else None,
        yes=kw["yes"],
        max_iterations=kw["max_iterations"],
        args=tuple(kw["args"]),
        map_globs=tuple(kw["map_globs"]),
        dry_run=kw["dry_run"],
        params=params,
        agent=kw["agent"],
        verbosity=verbosity(ctx),
        profile=kw["profile"],
        executor=kw["executor"],
        ray_address=kw["ray_address"],
        max_cost_usd=kw["max_cost_usd"],
        max_tokens=kw["max_tokens"],
        on_quota=kw["on_quota"],
    )
    display = make_run_display(options.verbosity)
    try:
        return run_async(start_run(options, display, dict(os.environ), read_line))
    finally:
        display.close()


def read_line(prompt: str) -> str:
    click.echo(prompt, nl=False)
    import sys

    line = sys.stdin.readline()
    if not sys.stdin.isatty():
        click.echo(line.rstrip("\n"))  # a piped answer is not echoed by a terminal
    if not line:
        raise EOFError
    return line


def _param_file(path: str) -> dict[str, Any]:
    import json

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from prodigy.core.errors import UsageError

    text = Path(path).read_text(encoding="utf-8")
    try:
        try:
            data = json.loads(text)
        except ValueError:
            data = YAML(typ="safe").load(text)
    except RecursionError:
        raise UsageError(f"{path}: --param-file is nested too deeply") from None
    except YAMLError as exc:
        raise UsageError(f"{path}: --param-file is neither JSON nor YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: --param-file must hold a mapping of parameter names to values")
    return data


@click.command("run", cls=GroupedHelpCommand, option_groups=RUN_OPTION_GROUPS)
@_run_options
@click.pass_context
def run(ctx: click.Context, /, **kw: Any) -> int:
    """Run a workflow file in an isolated git worktree, then offer to merge it back.

    Every run gets a session id, a worktree under $PRODIGY_HOME/worktrees and a branch
    prodigy-<session-id> started from your current branch's committed HEAD (uncommitted
    changes are not carried over). When all steps succeed you are asked
    `Merge session-<id> to <branch> [Y/n]`; -y answers yes. A failed or interrupted run
    keeps its worktree and prints the `prodigy resume` command.
    """
    return _start(ctx, kw)


@click.command("cook", cls=GroupedHelpCommand, option_groups=RUN_OPTION_GROUPS)
@_run_options
@click.pass_context
def cook(ctx: click.Context, /, **kw: Any) -> int:
    """Alias of `prodigy run`."""
    return _start(ctx, kw)


@click.command("exec")
@click.argument("command")
@click.option(
    "--retry", type=click.IntRange(min=1), default=1, show_default=True, help="Attempts in total."
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds before an attempt is killed.",
)
@path_option
@click.option("--agent", default=None, metavar="NAME", help=AGENT_HELP)
@click.pass_context
def exec_(ctx: click.Context, /, **kw: Any) -> int:
    """Run one command as a one-step workflow in a session worktree, then merge it.

    COMMAND is `claude: /cmd args`, `shell: cmd`, `/cmd args` (Claude) or any other
    shell line. It runs like `prodigy run -y`: its own worktree and branch, merged back
    into your branch when it succeeds.
    """
    import os

    from prodigy.app.exec_batch import ExecRequest, run_exec
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.map_display import make_run_display

    request = ExecRequest(
        command=kw["command"],
        retry=kw["retry"],
        timeout=kw["timeout"],
        repo=Path(kw["path"]) if kw["path"] else None,
        agent=kw["agent"],
        verbosity=verbosity(ctx),
    )
    display = make_run_display(request.verbosity)
    try:
        return run_async(run_exec(request, display, dict(os.environ), read_line))
    finally:
        display.close()


@click.command("batch")
@click.argument("pattern")
@click.option(
    "--command",
    "command",
    required=True,
    help="Step to run per matching file; ${item.path} (or ${item.item}) is the file.",
)
@click.option(
    "--parallel", type=click.IntRange(min=1), default=5, show_default=True, help="Agents at once."
)
@click.option(
    "--retry",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Attempts in total per file.",
)
@click.option(
    "--timeout", type=click.IntRange(min=1), default=None, help="Seconds per attempt per file."
)
@path_option
@click.option(
    "-y", "--yes", is_flag=True, help="Merge the results into your branch without asking."
)
@click.option("--agent", default=None, metavar="NAME", help=AGENT_HELP)
@click.pass_context
def batch(ctx: click.Context, /, **kw: Any) -> int:
    """Run a command on every committed file matching PATTERN, as a MapReduce job.

    PATTERN without '/' matches file names at any depth ('*.py'); with '/' it is a path
    pattern where ** spans directories ('src/**/*.py'). Each file is one work item run by
    its own agent in its own worktree; what the command changes is committed and merged.
    """
    import os

    from prodigy.app.exec_batch import BatchRequest, run_batch
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.map_display import make_run_display

    request = BatchRequest(
        pattern=kw["pattern"],
        command=kw["command"],
        parallel=kw["parallel"],
        retry=kw["retry"],
        timeout=kw["timeout"],
        repo=Path(kw["path"]) if kw["path"] else None,
        yes=kw["yes"],
        agent=kw["agent"],
        verbosity=verbosity(ctx),
    )
    display = make_run_display(request.verbosity)
    try:
        return run_async(run_batch(request, display, dict(os.environ), read_line))
    finally:
        display.close()


COMMANDS = [run, cook, exec_, batch]
