"""Load the effective configuration from files, the environment and command-line overrides."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from prodigy.app.paths import (
    HOME_VARIABLE,
    global_config_path,
    prodigy_home,
    project_config_path,
)
from prodigy.core.config import (
    DEFAULT_SOURCE,
    KEYS,
    EffectiveConfig,
    Layer,
    LayerName,
    Setting,
    Source,
    resolve,
)
from prodigy.core.errors import ConfigError
from prodigy.runtime.agents import agent_names

__all__ = ["EffectiveConfig", "Source", "env_layers", "load_config", "read_config_file"]

NESTED_PREFIX = "PRODIGY__"
# Generic variables that stand in for a key, below its PRODIGY_* variable.
_FALLBACK_ENV = {"EDITOR": "default_editor"}


def load_config(
    *,
    repo_root: Path | None,
    env: Mapping[str, str],
    overrides: Mapping[str, object] | None = None,
) -> EffectiveConfig:
    """Defaults < $PRODIGY_HOME/config.yml < <repo_root>/.prodigy/config.yml < env < overrides.

    `overrides` maps dotted keys (`claude.executable`) to values from command-line flags;
    strings there are parsed like environment values. Raises ConfigError naming the file
    (or variable) and key of every invalid value.
    """
    home = prodigy_home(env)
    global_path = global_config_path(home)
    layers = [*_file_layer("global", global_path)]
    # A repository at $HOME with the default PRODIGY_HOME has one file for both roles.
    if repo_root is not None and project_config_path(repo_root) != global_path:
        layers += _file_layer("project", project_config_path(repo_root))
    layers += env_layers(env)
    if overrides:
        layers.append(Layer(Source("cli", "command line"), overrides, text=True))
    home_source = Source("env", HOME_VARIABLE) if env.get(HOME_VARIABLE, "").strip() else None
    home_setting = Setting(home_source or DEFAULT_SOURCE, str(home))
    return resolve(layers, fixed={"storage.home": home_setting}, choices={"agents": agent_names()})


def env_layers(env: Mapping[str, str]) -> list[Layer]:
    """One layer per variable, lowest first: EDITOR, PRODIGY__A__B forms, named PRODIGY_* ones.

    Empty variables count as unset, so `PRODIGY_AGENT= prodigy ...` falls back to the files.
    """
    named = list(_FALLBACK_ENV.items())
    named += [
        (name, ".".join(part.lower() for part in name[len(NESTED_PREFIX) :].split("__")))
        for name in sorted(env)
        if name.startswith(NESTED_PREFIX)
    ]
    named += [(var, key) for key, spec in KEYS.items() if (var := _plain_env(spec.info.env))]
    return [
        Layer(Source("env", var), {key: env[var]}, text=True)
        for var, key in named
        if env.get(var, "").strip()
    ]


def _plain_env(name: str | None) -> str:
    # PRODIGY_HOME is resolved by app/paths (with ~ expansion), not parsed as a value.
    return name if name and name != HOME_VARIABLE else ""


def _file_layer(layer: LayerName, path: Path) -> list[Layer]:
    loaded = read_config_file(path)
    if loaded is None:
        return []
    data, lines = loaded
    return [Layer(Source(layer, str(path)), data, lines=lines)]


def read_config_file(path: Path) -> tuple[dict[str, object], dict[str, int]] | None:
    """The file's mapping and the line of each dotted key; None if the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        message = f"{path}: cannot read the configuration file ({exc}); fix or remove it"
        raise ConfigError(message) from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML{_yaml_where(exc)}; fix the syntax") from None
    if data is None:
        return {}, {}
    if not isinstance(data, CommentedMap):
        raise ConfigError(
            f"{path}: must be a mapping of keys to values (like `max_parallel: 4`), "
            f"got {type(data).__name__}"
        )
    return {str(k): _plain(v) for k, v in data.items()}, dict(_lines(data, ""))


def _yaml_where(exc: YAMLError) -> str:
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        return f" at line {exc.problem_mark.line + 1}: {exc.problem}"
    return f": {exc}"


def _lines(data: CommentedMap, prefix: str) -> Iterator[tuple[str, int]]:
    for name, value in data.items():
        key = f"{prefix}{name}"
        yield key, data.lc.key(name)[0] + 1
        if isinstance(value, CommentedMap):
            yield from _lines(value, f"{key}.")


def _plain(value: object) -> object:
    """ruamel's round-trip types (ScalarInt, CommentedMap, ...) as plain Python values, so
    strict validation sees an int as an int."""
    if isinstance(value, CommentedMap):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, CommentedSeq):
        return [_plain(v) for v in value]
    if isinstance(value, ScalarBoolean):  # an anchored `true` is an int subclass
        return bool(value)
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value
