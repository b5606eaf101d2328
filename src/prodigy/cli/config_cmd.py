"""`prodigy config show|trace`: the effective configuration and where each value came from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from prodigy.app.config import EffectiveConfig, load_config
from prodigy.app.inspect.env_report import EnvLine, workflow_environment
from prodigy.app.paths import find_repo_root
from prodigy.cli.common import json_option
from prodigy.core.config import KEYS, SECTIONS, Setting, Source, masked, unknown_key_message
from prodigy.core.errors import UsageError
from prodigy.core.masking import Masker


@click.group("config")
def config() -> None:
    """Show the effective configuration and where each value came from."""


@config.command("show")
@click.argument("key", required=False)
@click.option(
    "--workflow",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also show the environment this workflow gives its steps and where each value wins.",
)
@click.option("--profile", default=None, help="With --workflow: the profile to activate.")
@json_option
def show(key: str | None, workflow: Path | None, profile: str | None, as_json: bool) -> None:
    """Print each effective value and its source (secrets masked).

    With KEY (e.g. max_parallel, claude.executable), print only that value;
    with a section name (e.g. claude), print the keys in it.
    """
    effective = _load()
    keys = _select(key)
    masker = Masker(effective.secrets())
    values = {k: _shown(k, effective.trace[k][-1].value, masker) for k in keys}
    env_lines = _workflow_env(workflow, profile) if workflow is not None else None
    if as_json:
        document: dict[str, object] = {
            "values": values,
            "sources": {k: _source_json(effective.sources[k]) for k in keys},
            "warnings": list(effective.warnings),
        }
        if env_lines is not None:
            document["workflow_env"] = [
                {"name": e.name, "value": e.value, "layer": e.layer, "overrides": list(e.overrides)}
                for e in env_lines
            ]
        click.echo(json.dumps(document, indent=2))
        return
    if key is not None and key in KEYS:
        click.echo(_text(values[key]))
    else:
        for k in keys:
            click.echo(f"{k} = {_text(values[k])}   ({effective.sources[k]})")
    if env_lines is not None:
        shown_profile = f", profile {profile}" if profile else ""
        click.echo(f"workflow environment ({workflow}{shown_profile}), later layers win:")
        for e in env_lines:
            over = f"; over {', '.join(e.overrides)}" if e.overrides else ""
            click.echo(f"  {e.name} = {e.value}   ({e.layer}{over})")


def _workflow_env(path: Path, profile: str | None) -> list[EnvLine]:
    from prodigy.cli.asyncrun import run_async
    from prodigy.cli.display import make_display

    display = make_display(0)
    try:
        return run_async(
            workflow_environment(
                path,
                profile=profile,
                process_env=os.environ,
                base_dir=find_repo_root(Path.cwd()) or Path.cwd(),
                reporter=display,
            )
        )
    finally:
        display.close()


@config.command("trace")
@click.argument("key", required=False)
@json_option
def trace(key: str | None, as_json: bool) -> None:
    """For each key, every layer that set it, lowest first, and the one that won."""
    effective = _load()
    keys = _select(key)
    masker = Masker(effective.secrets())
    if as_json:
        document = {
            "keys": {k: _trace_json(k, effective.trace[k], masker) for k in keys},
            "warnings": list(effective.warnings),
        }
        click.echo(json.dumps(document, indent=2))
        return
    for k in keys:
        settings = effective.trace[k]
        click.echo(f"{k} = {_text(_shown(k, settings[-1].value, masker))}")
        for index, setting in enumerate(settings):
            won = "   <- wins" if index == len(settings) - 1 else ""
            value = _text(_shown(k, setting.value, masker))
            click.echo(f"  {setting.source.layer:<8} {value}   ({setting.source.location}){won}")


def _load() -> EffectiveConfig:
    """The configuration for the repository around the current directory; warnings to stderr."""
    effective = load_config(repo_root=find_repo_root(Path.cwd()), env=os.environ)
    for warning in effective.warnings:
        click.echo(f"warning: {warning}", err=True)
    return effective


def _select(key: str | None) -> list[str]:
    """All keys, one key, or the keys of one section; UsageError (exit 2) for unknown names."""
    if key is None:
        return sorted(KEYS)
    if key in KEYS:
        return [key]
    if key in SECTIONS:
        return sorted(k for k in KEYS if k.startswith(f"{key}."))
    raise UsageError(f"prodigy config: {unknown_key_message(key)}")


def _shown(key: str, value: object, masker: Masker) -> object:
    """The value as JSON-ready data with secrets masked: by key name, and any secret value
    that turns up elsewhere (say an API key inside claude.args)."""
    shown = masker.value(masked(key, value))
    return list(shown) if isinstance(shown, tuple) else shown


def _text(value: object) -> str:
    return value if isinstance(value, str) and value else json.dumps(value)


def _source_json(source: Source) -> dict[str, str]:
    return {"layer": source.layer, "location": source.location}


def _trace_json(key: str, settings: tuple[Setting, ...], masker: Masker) -> dict[str, object]:
    return {
        "value": _shown(key, settings[-1].value, masker),
        "winner": _source_json(settings[-1].source),
        "layers": [
            {**_source_json(setting.source), "value": _shown(key, setting.value, masker)}
            for setting in settings
        ],
    }


COMMANDS = [config]
