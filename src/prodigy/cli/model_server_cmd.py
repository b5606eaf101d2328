"""`prodigy model-server`: serve the scripted model on loopback for the real Claude Code CLI."""

from __future__ import annotations

import click

from prodigy.cli.common import answer_ctrl_c
from prodigy.runtime.model_server import ModelServer, ServerOptions
from prodigy.runtime.model_server.wire import ERROR_TYPES


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
def model_server(host: str, port: int, errors: tuple[str, ...], delay: float) -> None:
    """Serve the Anthropic, OpenAI Responses and Gemini APIs, answering @directives as tool calls.

    Point Claude Code at it with the printed ANTHROPIC_BASE_URL (Codex and Gemini CLI as
    printed); it then performs a prompt's @write/@run/@commit lines itself, offline. Stop
    it with Ctrl-C.
    """
    answer_ctrl_c()
    options = ServerOptions(host=host, port=port, errors=tuple(map(int, errors)), delay=delay)
    server = ModelServer(options)
    click.echo(f"scripted model server listening on {server.base_url}")
    click.echo("use it with:")
    for name, value in server.client_env().items():
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
