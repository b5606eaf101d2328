"""The `prodigy` command: the one place that maps errors to exit codes."""

from __future__ import annotations

import sys

from prodigy import __version__
from prodigy.core.errors import EXIT_INTERRUPTED, ProdigyError

_VERSION_FLAGS = (["--version"], ["-V"])


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command tree and turn every outcome into an exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args in _VERSION_FLAGS:
        # Answered before click is imported: the version is what scripts ask most often,
        # and importing click alone costs several bare interpreter starts.
        print(f"prodigy, version {__version__}")
        return 0
    import click

    from prodigy.cli.common import answer_ctrl_c
    from prodigy.cli.tree import cli

    answer_ctrl_c()
    try:
        rv = cli.main(args=args, prog_name="prodigy", standalone_mode=False)
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
