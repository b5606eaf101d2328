"""Resolving a workflow's environment once per run: env_files, env forms, profile, secrets.

The result keeps two things apart: the workflow with plain-string `env:` (env, dynamic and
conditional values, then the active profile; these are also `${NAME}` variables), and what
only the child processes see: env_files values and secrets. Secrets are never variables,
so they never reach a checkpoint; their values are handed to the masker.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

from prodigy.core.env_resolution import (
    conditional,
    dynamic,
    env_form,
    literal_secrets,
    secret_key_source,
    secret_value,
    select_profile,
    unset_reference_warning,
    unset_secret_references,
)
from prodigy.core.errors import ConfigError
from prodigy.core.interpolation import interpolate
from prodigy.core.masking import secret_named
from prodigy.core.progress import Note, Reporter
from prodigy.core.variables import Scope, env_values, positional_values
from prodigy.core.workflow import Workflow
from prodigy.runtime.process import ProcessRequest, run_process

DYNAMIC_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class ResolvedEnvironment:
    workflow: Workflow  # `env:` now holds plain strings only (profile applied)
    files: Mapping[str, str] = field(default_factory=dict)  # env_files, later files win
    secrets: Mapping[str, str] = field(default_factory=dict)  # `secrets:` by name
    masked: tuple[str, ...] = ()  # every value to mask: secrets and `{secret: true}` values
    layers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by core LAYERS name

    def apply(self, child: Mapping[str, str]) -> dict[str, str]:
        """A child environment built from the workflow env, with env_files under the
        workflow's own names and secrets over everything (docs/environment.md)."""
        out = dict(child)
        for name, value in self.files.items():
            if name not in self.workflow.env and not name.startswith("PRODIGY_"):
                out[name] = value
        out.update(self.secrets)
        return out


async def resolve_environment(
    workflow: Workflow,
    *,
    process_env: Mapping[str, str],
    base_dir: Path,
    profile: str | None,
    args: tuple[str, ...] = (),
    reporter: Reporter,
) -> ResolvedEnvironment:
    """Read env_files and secrets (paths relative to `base_dir`), run dynamic env commands
    there, evaluate conditional values, and apply the profile."""
    files = read_env_files(workflow.env_files, base_dir, reporter)
    for name, ref in unset_secret_references(workflow.env, {**process_env, **files}):
        reporter.emit(Note("warn", unset_reference_warning(name, ref)))
    variables = Scope({**env_values({**process_env, **files}), **positional_values(list(args))})
    env: dict[str, str] = {}
    masked: list[str] = []
    for name, value in workflow.env.items():
        form = env_form(value)
        if isinstance(value, str):
            env[name] = value
        elif form == "dynamic":
            env[name] = await _run_dynamic(name, value, process_env, base_dir)
        elif form == "conditional":
            env[name] = conditional(name, value, variables.with_values(env))
        else:
            # `${GITHUB_TOKEN}` as prodigy's own examples write it: a bare name in a secret
            # value is read from the environment, like `${env.GITHUB_TOKEN}`.
            bare = variables.with_values({**process_env, **files})
            env[name] = interpolate(secret_value(name, value), bare)
            masked.append(env[name])
    own = dict(env)
    chosen = select_profile(workflow.profiles, profile)
    env.update(chosen)
    secrets = {
        name: _secret(name, ref.provider, ref.key, process_env, base_dir)
        for name, ref in workflow.secrets.items()
    }
    # a secret wins over an env entry of the same name, and secrets are never variables
    env = {name: value for name, value in env.items() if name not in secrets}
    # values of variables named like secrets (API_KEY, DB_PASSWORD ...), whichever layer set them
    for layer in (process_env, files, own, chosen):
        masked += [value for name, value in layer.items() if secret_named(name)]
    # and every secret written in the file (other profiles, steps' own env): the stored
    # workflow text and every output hide them from the start (issue 12 item 9)
    masked += literal_secrets(workflow)
    return ResolvedEnvironment(
        workflow=replace(workflow, env=env),
        files=files,
        secrets=secrets,
        masked=(*secrets.values(), *masked),
        layers={"env_files": files, "workflow env": own, "profile": chosen, "secrets": secrets},
    )


def read_env_files(paths: tuple[str, ...], base_dir: Path, reporter: Reporter) -> dict[str, str]:
    """dotenv files in order, later ones winning; values are taken literally (no `${}`)."""
    values: dict[str, str] = {}
    for written in paths:
        path = base_dir / written
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            reporter.emit(Note("warn", f"env_files: {path} does not exist; skipped"))
            continue
        except OSError as exc:
            raise ConfigError(f"env_files: cannot read {path}: {exc.strerror}") from exc
        parsed = dotenv_values(stream=io.StringIO(text), interpolate=False)
        values.update({k: v for k, v in parsed.items() if v is not None})
    return values


async def _run_dynamic(
    name: str, value: Mapping[str, object], process_env: Mapping[str, str], base_dir: Path
) -> str:
    spec = dynamic(name, value)
    done = await run_process(
        ProcessRequest(
            argv=("bash", "-c", spec.command),
            cwd=base_dir,
            env=dict(process_env),
            timeout=DYNAMIC_TIMEOUT,
        )
    )
    if not done.ok:
        why = "timed out" if done.timed_out else f"exit code {done.returncode}"
        raise ConfigError(
            f"env.{name}: command {spec.command!r} failed ({why}): {done.tail(3)}; "
            "fix the command or give a static value"
        )
    return done.stdout.removesuffix("\n")


def _secret(
    name: str, provider: str, key: str, process_env: Mapping[str, str], base_dir: Path
) -> str:
    source, where = secret_key_source(provider, key)
    if source == "env":
        if where not in process_env:
            raise ConfigError(
                f"secrets.{name}: environment variable {where} is not set; "
                f"export {where} before running prodigy"
            )
        return process_env[where]
    path = base_dir / where
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"secrets.{name}: cannot read {path} ({exc.strerror}); create it or fix `key:`"
        ) from exc
