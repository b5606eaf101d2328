"""`prodigy model-server`: serve the scripted model on loopback for the real Claude Code CLI."""

from __future__ import annotations

import click

from prodigy.cli.common import answer_ctrl_c
from prodigy.runtime.model_server import ModelServer, QuotaWarning, QuotaWindow, ServerOptions
from prodigy.runtime.model_server.limits import LIMIT_TYPES
from prodigy.runtime.model_server.wire import ERROR_TYPES


def _quota_window(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> QuotaWindow | None:
    if value is None:
        return None
    parts = value.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError("expected N:SECONDS or N:SECONDS:TYPE")
        kind = parts[2] if len(parts) == 3 else "five_hour"
        return QuotaWindow(int(parts[0]), float(parts[1]), kind)
    except ValueError as err:
        raise click.BadParameter(f"{value!r}: {err} (TYPE: {', '.join(LIMIT_TYPES)})") from err


@click.command("model-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, help="Port; 0 lets the OS pick one.")
@click.option(
    "--error",
    "errors",
    multiple=True,
    type=click.Choice([str(status) for status in sorted(ERROR_TYPES)]),
    help="Answer the next message request with this HTTP error (repeatable, in order).",
)
@click.option("--delay", default=0.0, type=click.FloatRange(min=0), help="Seconds before answers.")
@click.option(
    "--input-tokens",
    type=click.IntRange(min=0),
    help="Report this many input tokens per answer (default: estimated from the request).",
)
@click.option(
    "--output-tokens",
    type=click.IntRange(min=0),
    help="Report this many output tokens per answer (default: estimated from the answer).",
)
@click.option(
    "--quota-window",
    callback=_quota_window,
    metavar="N:SECONDS[:TYPE]",
    help="Subscription limit: reject message requests from the Nth for SECONDS "
    "(TYPE five_hour or seven_day). Claude Code must use CLAUDE_CODE_OAUTH_TOKEN.",
)
@click.option(
    "--quota-warning",
    type=click.IntRange(min=1),
    metavar="N",
    help="From the Nth message request on, answers carry a 90% usage warning.",
)
@click.option(
    "--subscription",
    is_flag=True,
    help="Print CLAUDE_CODE_OAUTH_TOKEN instead of ANTHROPIC_API_KEY (needed for quotas).",
)
def model_server(  # noqa: PLR0917 - one parameter per option
    host: str,
    port: int,
    errors: tuple[str, ...],
    delay: float,
    input_tokens: int | None,
    output_tokens: int | None,
    quota_window: QuotaWindow | None,
    quota_warning: int | None,
    subscription: bool,
) -> None:
    """Serve the Anthropic, OpenAI Responses and Gemini APIs, answering @directives as tool calls.

    Point Claude Code at it with the printed ANTHROPIC_BASE_URL (Codex and Gemini CLI as
    printed); it then performs a prompt's @write/@run/@commit lines itself, offline. Stop
    it with Ctrl-C.
    """
    answer_ctrl_c()
    options = ServerOptions(
        host=host,
        port=port,
        errors=tuple(map(int, errors)),
        delay=delay,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        quota_window=quota_window,
        quota_warning=QuotaWarning(quota_warning) if quota_warning else None,
    )
    server = ModelServer(options)
    click.echo(f"scripted model server listening on {server.base_url}")
    click.echo("use it with:")
    for name, value in server.client_env(subscription=subscription).items():
        click.echo(f"  export {name}={value}")
    click.echo(
        f"Codex: a model provider with base_url = {server.base_url}/v1 and wire_api = "
        '"responses" in $CODEX_HOME/config.toml; Gemini CLI: GOOGLE_GEMINI_BASE_URL='
        f"{server.base_url} GEMINI_API_KEY=scripted and API-key auth in its settings "
        '(docs/agents.md, "Offline test setup")'
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("model server stopped")


COMMANDS = [model_server]
