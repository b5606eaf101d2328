"""`prodigy dashboard`: the live web view of jobs, items, the DLQ and events (docs/dashboard.md)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from prodigy.core.errors import EXIT_INTERRUPTED, UsageError

EXTRA_MODULES = ("starlette", "uvicorn", "jinja2")


def missing_extra() -> list[str]:
    """The dashboard's optional dependencies that are not installed."""
    from importlib.util import find_spec

    return [name for name in EXTRA_MODULES if find_spec(name) is None]


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"--token-file {path}: cannot read it ({exc.strerror})") from None
    if len(token) < 16 or any(c.isspace() for c in token):
        raise UsageError(
            f"--token-file {path}: the token must be one word of at least 16 characters"
        )
    if path.stat().st_mode & 0o077:
        click.echo(
            f"warning: {path} can be read by other users; `chmod 600 {path}` keeps the token yours",
            err=True,
        )
    return token


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: reachable from this machine only."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _can_open_browser() -> bool:
    """Only a graphical browser, or the one $BROWSER names: a console browser picked by
    default (lynx, w3m) would take over this terminal."""
    if sys.platform in ("darwin", "win32") or os.environ.get("BROWSER"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option("--no-open", is_flag=True, help="Do not open the browser.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the access token from this file instead of making a new one.",
)
def dashboard(host: str, port: int, no_open: bool, token_file: Path | None) -> int:
    """Watch jobs, items, the DLQ and events live in a browser; retry or resume from there.

    Prints `Dashboard: http://HOST:PORT/?token=TOKEN` and serves until Ctrl-C. The dashboard
    reads the state store and never writes it; its buttons start `prodigy dlq retry` or
    `prodigy resume-job` as background processes.
    """
    missing = missing_extra()
    if missing:
        raise UsageError(
            f"prodigy dashboard needs the optional `dashboard` dependencies ({', '.join(missing)}"
            " missing); install them with: pip install 'prodigy[dashboard]'"
        )
    import secrets
    import webbrowser

    from prodigy.app.paths import prodigy_home
    from prodigy.web.serve import serve
    from prodigy.web.server import Settings, create_app

    token = read_token(token_file) if token_file else secrets.token_urlsafe(24)
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}, not only on this machine: anyone who can reach it"
            " and learns the token can see your jobs and retry them; the traffic is plain HTTP",
            err=True,
        )
    try:
        sock = socket.create_server((host, port), family=_family(host))
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port (0: any free)"
        ) from None
    env = dict(os.environ)
    settings = Settings(home=prodigy_home(env), token=token, env=env)
    app = create_app(settings)
    bound = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound}/?token={token}"
    click.echo(f"Dashboard: {url}")
    sys.stdout.flush()
    if not no_open:
        if _can_open_browser():
            webbrowser.open(url)
        else:
            click.echo("No graphical browser here: open the address above yourself.", err=True)
    try:
        serve(app, sock, settings.stopping)
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down
        click.echo("Dashboard stopped.", err=True)
        return EXIT_INTERRUPTED
    return 0


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


COMMANDS = [dashboard]
