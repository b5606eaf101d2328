"""`prodigy demo`: an offline tour that needs no model."""

from __future__ import annotations

import os
from pathlib import Path

import click

from prodigy.cli.common import verbosity


@click.command("demo")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--agent",
    type=click.Choice(["scripted", "claude", "codex", "gemini"]),
    default="scripted",
    show_default=True,
    help="Who fixes the issues: the scripted agent, or a real agent CLI answered by a "
    "scripted model server on loopback (offline, free; the CLI must be installed).",
)
@click.pass_context
def demo(ctx: click.Context, /, directory: Path | None, agent: str) -> int:
    """Run an offline demo in a new sample repository (no model, no network).

    Creates DIRECTORY (default: a new temporary directory) with a few source files that
    carry ISSUE comments and a workflow that fixes them with the scripted agent (or, with
    --agent, a real agent CLI talking to prodigy's scripted model server), runs it in a
    session worktree and merges the result.
    """
    from prodigy.app.demo import run_demo
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.display import make_display
    from prodigy.cli.run_cmd import read_line

    display = make_display(verbosity(ctx))
    try:
        env = dict(os.environ)
        return run_async(
            run_demo(directory, display, env, read_line, agent, program=program_path(env))
        )
    finally:
        display.close()


def program_path(env: dict[str, str]) -> str:
    """`prodigy` when that name on PATH starts this very program, else the path that does
    (say `/home/me/app/.venv/bin/prodigy`: absolute, the suggestions start with a `cd`)."""
    import shutil
    import sys

    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if running is None or running.name not in ("prodigy", "__main__.py"):
        running = Path(sys.executable).parent / "prodigy"
    if running.name == "__main__.py":  # python -m prodigy
        return f"{sys.executable} -m prodigy"
    found = shutil.which("prodigy", path=env.get("PATH"))
    if found is not None and Path(found).resolve() == running.resolve():
        return "prodigy"
    return str(running)


COMMANDS = [demo]
