"""Shared pieces of the click commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from prodigy.core.errors import NotImplementedYetError

F = TypeVar("F", bound=Callable[..., Any])


def not_implemented(command: str) -> NoReturn:
    """Fail loudly for a command a later release builds (exit 2), never exit 0 doing nothing."""
    raise NotImplementedYetError(f"prodigy {command}")


_VERBOSE_KEY = "prodigy.verbose"
VERBOSE_HELP = "More detail: -v commands, -vv live output."


def _count_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    # ctx.meta is shared by the whole command chain, so `prodigy -v sessions -v ls -v`
    # adds up wherever the flags stand.
    ctx.meta[_VERBOSE_KEY] = int(ctx.meta.get(_VERBOSE_KEY, 0)) + int(value or 0)
    return value


def verbose_option() -> click.Option:
    """`-v/--verbose` (repeatable) as every command accepts it; read it with `verbosity`."""
    return click.Option(
        ["-v", "--verbose"],
        count=True,
        expose_value=False,
        callback=_count_verbose,
        help=VERBOSE_HELP,
    )


def accept_verbosity(command: click.Command) -> None:
    """Give `command` and every subcommand the -v flag, so `prodigy resume -vv` works
    like `prodigy -vv resume`; commands that print no progress simply ignore it."""
    if not any(isinstance(p, click.Option) and "-v" in p.opts for p in command.params):
        command.params.append(verbose_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_verbosity(sub)


def verbosity(ctx: click.Context) -> int:
    """The -v count given anywhere on the command line (before or after the subcommand)."""
    return int(ctx.meta.get(_VERBOSE_KEY, 0))


path_option = click.option(
    "-p",
    "--path",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Repository directory to work in (default: the current directory).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def answer_ctrl_c() -> None:
    """Make Ctrl-C (SIGINT) interrupt this command even if our parent ignored SIGINT.

    A process started with SIGINT ignored (background jobs of some shells, test runners)
    would otherwise never stop `events follow`, `logs --tail` or the model server.
    """
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)


def _resolve_job(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    import os

    from prodigy.app.ids import job_filter
    from prodigy.app.paths import prodigy_home
    from prodigy.store import open_store

    with open_store(prodigy_home(dict(os.environ))) as store:
        return job_filter(store, value)


def job_option(
    *names: str,
    required: bool = False,
    help: str = "Only this MapReduce job.",
) -> Callable[[F], F]:
    """`--job JOB` resolved like every id (unique prefix, with or without `mapreduce-`)."""
    return click.option(
        *(names or ("--job", "--job-id")),
        "job_id",
        required=required,
        metavar="JOB",
        callback=_resolve_job,
        help=help,
    )


job_argument = click.argument("job_id", metavar="JOB", callback=_resolve_job)


def executor_options(f: Any) -> Any:
    """--executor and --ray-address: where map agents run (run, resume-job, dlq retry)."""
    f = click.option(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="The Ray cluster for --executor ray, as Ray takes it (default: config, else auto).",
    )(f)
    return click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        default=None,
        help="Where map agents run: here (local) or on a Ray cluster (ray; docs/ray.md).",
    )(f)


def _spend_options(f: F, *, tokens_help: str, cost_help: str) -> F:
    f = click.option(
        "--max-tokens", type=click.IntRange(min=0), default=None, metavar="N", help=tokens_help
    )(f)
    return click.option(
        "--max-cost-usd", type=click.FloatRange(min=0), default=None, metavar="USD", help=cost_help
    )(f)


def limit_options(f: F) -> F:
    """--max-cost-usd and --max-tokens: override (or raise) the workflow's job budget."""
    return _spend_options(
        f,
        tokens_help="Job budget in tokens (input + output; cache reads not counted).",
        cost_help="Job budget in dollars (notional on a subscription); overrides"
        " budget.max_cost_usd.",
    )


def item_cap_options(f: F) -> F:
    """`dlq retry` --max-cost-usd and --max-tokens: a new cap for each retried item."""
    return _spend_options(
        f,
        tokens_help="Cap per retried item in tokens (input + output), for this retry.",
        cost_help="Cap per retried item in dollars, for this retry (e.g. after BudgetExceeded).",
    )
