"""The workflow environment's pure rules (docs/environment.md): value forms, profiles, precedence.

`env:` values come in four forms: a string; `{command, cache}` (the command's output);
`{condition, when_true, when_false}` (chosen by a `when:`-style expression); and
`{secret: true, value}` (a value that is masked everywhere). The effects (reading files,
running commands) live in app/session/workflow_env.py; this module decides what they mean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from prodigy.core.errors import ConfigError, UsageError
from prodigy.core.expr import evaluate_when
from prodigy.core.masking import secret_named
from prodigy.core.workflow import Profile, Workflow, all_steps
from prodigy.core.workflow.step_model import EnvValue

EnvForm = Literal["static", "dynamic", "conditional", "secret"]

# Where each name's value came from, lowest precedence first (docs/environment.md).
LAYERS = (
    "process environment",
    "env_files",
    "workflow env",
    "profile",
    "step env",
    "secrets",
)


@dataclass(frozen=True, slots=True)
class Dynamic:
    """`{command, cache}`: the value is the command's stdout, trailing newline removed."""

    command: str
    cache: bool


def env_form(value: EnvValue) -> EnvForm:
    if isinstance(value, str):
        return "static"
    if "command" in value:
        return "dynamic"
    if "condition" in value:
        return "conditional"
    return "secret"


def dynamic(name: str, value: Mapping[str, object]) -> Dynamic:
    command = value.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(f"env.{name}: `command` must be a shell command string")
    return Dynamic(command=command, cache=bool(value.get("cache", False)))


def conditional(name: str, value: Mapping[str, object], variables: Mapping[str, object]) -> str:
    """`when_true` if the condition holds over `variables`, else `when_false` ("" if absent)."""
    condition = value.get("condition")
    if not isinstance(condition, str):
        raise ConfigError(f"env.{name}: `condition` must be an expression string")
    chosen = value.get("when_true" if evaluate_when(condition, variables) else "when_false")
    return "" if chosen is None else _text(chosen)


def secret_value(name: str, value: Mapping[str, object]) -> str:
    """`{secret: true, value: X}`: X, which is then masked like any secret."""
    if "value" not in value:
        raise ConfigError(f"env.{name}: a secret env value needs `value:`")
    return _text(value["value"])


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def select_profile(profiles: Mapping[str, Profile], name: str | None) -> Mapping[str, str]:
    """The variables of profile `name` (none when no profile was asked for)."""
    if name is None:
        return {}
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none are defined"
        raise UsageError(
            f"--profile {name}: the workflow has no such profile (known: {known}); "
            "add it under `profiles:` or pick another"
        )
    return dict(profiles[name].env)


def secret_key_source(provider: str, key: str) -> tuple[Literal["env", "file"], str]:
    """Where a secret is read from: `env`/`file` providers directly; any other provider
    (vault, aws, custom) reads an `env:`/`file:`-prefixed key, else the env var `key`."""
    if provider == "file":
        return "file", key
    if provider == "env":
        return "env", _env_reference(key)
    for prefix in ("file:", "env:"):
        if key.startswith(prefix):
            return prefix[:-1], key[len(prefix) :]  # type: ignore[return-value]
    return "env", _env_reference(key)


_ENV_REFERENCE = re.compile(
    r"^\$\{(?:env[:.])?([A-Za-z_][A-Za-z0-9_]*)\}$|^\$([A-Za-z_][A-Za-z0-9_]*)$"
)


def _env_reference(key: str) -> str:
    """`${env:NAME}` (prodigy's book and examples), `${env.NAME}`, `${NAME}` or `$NAME`
    name the environment variable NAME; anything else is the variable's name itself."""
    found = _ENV_REFERENCE.match(key.strip())
    return (found[1] or found[2]) if found else key


def layered(layers: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str, str]]:
    """name -> (value, layer that set it), applying LAYERS in order (later wins)."""
    out: dict[str, tuple[str, str]] = {}
    for layer in LAYERS:
        for name, value in layers.get(layer, {}).items():
            out[name] = (value, layer)
    return out


def is_secret_entry(name: str, value: EnvValue) -> bool:
    """An env entry whose value is a secret: `{secret: true}`, or named like one (API_KEY ...)."""
    return secret_named(name) or (not isinstance(value, str) and env_form(value) == "secret")


def literal_secrets(workflow: Workflow) -> list[str]:
    """Secret values written in the workflow text itself, wherever an `env:` can be: the
    workflow's, every profile's (chosen or not) and every step's at any depth (setup, map
    agent_template, reduce, merge, handlers, foreach bodies, validators).

    Values holding `${...}` are left out: their text is a reference, not the secret; the
    step fills them in and masks the result when it runs. Masked from the start, so the
    stored workflow text and everything printed hide them.
    """
    entries: list[tuple[str, EnvValue]] = list(workflow.env.items())
    for profile in workflow.profiles.values():
        entries += list(profile.env.items())
    for step in all_steps(workflow):
        entries += list(step.env.items())
    found: list[str] = []
    for name, value in entries:
        if not is_secret_entry(name, value):
            continue
        text = value if isinstance(value, str) else _text(value.get("value", ""))
        if "${" not in text:
            found.append(text)
    return found


_BARE_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def bare_references(text: str) -> list[str]:
    """The `${NAME}` references in an env value (not `${env.NAME}` or `${item.x}`)."""
    return _BARE_REFERENCE.findall(text)


def unset_secret_references(
    env: Mapping[str, object], process_env: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(env name, variable) for each `${VARIABLE}` in a `{secret: true, value: ...}` env value
    that neither the environment nor the workflow's own env sets: such a value would stay
    the literal text, masked, and nobody would notice."""
    unset = []
    for name, value in env.items():
        if isinstance(value, Mapping) and value.get("secret") and "value" in value:
            for ref in bare_references(_text(value["value"])):
                if ref not in process_env and ref not in env:
                    unset.append((name, ref))
    return unset


def unset_reference_warning(name: str, ref: str) -> str:
    return (
        f"env.{name}: ${{{ref}}} is not set in the environment; the value stays the literal"
        f" text `${{{ref}}}` (export {ref} before running prodigy)"
    )
