"""`--help` with the options in named groups (click lists them in one block).

A command built with `cls=GroupedHelpCommand` and `option_groups={title: [param names]}`
prints one section per group, in the given order; options in no group come last under
"Other options", so a new option is never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click


class GroupedHelpCommand(click.Command):
    def __init__(
        self, *args: Any, option_groups: Mapping[str, Sequence[str]] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.option_groups = dict(option_groups or {})

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records: dict[str, tuple[str, str]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is not None and param.name is not None:
                # click names its own --help option internally; groups say "help"
                name = "help" if "--help" in param.opts else param.name
                records[name] = record
        placed: set[str] = set()
        for title, names in self.option_groups.items():
            rows = [records[n] for n in names if n in records]
            placed.update(names)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        rest = [record for name, record in records.items() if name not in placed]
        if rest:
            with formatter.section("Other options"):
                formatter.write_dl(rest)
