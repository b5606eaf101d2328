"""The configuration model and the pure merge of its layers, remembering where each value came from.

Layers, lowest first: built-in defaults, global file, project file, environment, command line.
Reading files and the environment is app/config.py's job; this module only merges values.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from prodigy.core.errors import ConfigError, UsageError
from prodigy.core.masking import MASK

LayerName = Literal["default", "global", "project", "env", "cli"]
RESERVED = "reserved, not used yet"
# A key whose last part contains one of these is a secret: shown as *** and never logged.
_SECRET_WORDS = ("api_key", "apikey", "token", "secret", "password")


@dataclass(frozen=True)
class Key:
    """What a key accepts (for error messages), its environment variable and who reads it."""

    expect: str
    env: str | None = None
    consumer: str = RESERVED
    readonly: bool = False
    # the name of a list of allowed values the caller of resolve() supplies (e.g. the agent
    # registry, which lives outside core); `expect` then describes the list in general
    choices: str | None = None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Seconds = Annotated[float, Field(gt=0)]
_SECONDS = "a number of seconds > 0"
_BOOL = "true or false"
_TEXT = "a string"


class ClaudeSettings(_Frozen):
    """How the `claude` agent starts Claude Code."""

    executable: Annotated[
        str,
        Field(min_length=1),
        Key("a non-empty command name or path", "PRODIGY_CLAUDE", "runtime/agents (claude agent)"),
    ] = "claude"
    args: Annotated[
        tuple[str, ...],
        Key("a list of strings", "PRODIGY_CLAUDE_ARGS", "runtime/agents (claude agent argv)"),
    ] = ()
    timeout: Annotated[
        Seconds | None, Key(_SECONDS, "PRODIGY_CLAUDE_TIMEOUT", "runtime steps (claude: steps)")
    ] = None


class AgentCliSettings(_Frozen):
    """How one agent CLI starts: config `agents.<name>.executable|args|model`."""

    executable: Annotated[
        Annotated[str, Field(min_length=1)] | None,
        Key("a non-empty command name or path", None, "runtime/agents (agent executable)"),
    ] = None
    args: Annotated[
        tuple[str, ...], Key("a list of strings", None, "runtime/agents (agent argv)")
    ] = ()
    model: Annotated[
        Annotated[str, Field(min_length=1)] | None,
        Key("a model name", None, "runtime/agents (agent model flag)"),
    ] = None


class AgentsSettings(_Frozen):
    """Per-agent settings; `agents.claude.*` wins over the older `claude.*` keys."""

    claude: AgentCliSettings = Field(default_factory=AgentCliSettings)
    codex: AgentCliSettings = Field(default_factory=AgentCliSettings)
    gemini: AgentCliSettings = Field(default_factory=AgentCliSettings)


class ProjectSettings(_Frozen):
    """Project metadata kept from prodigy 0.4.4; nothing reads it yet."""

    name: Annotated[Annotated[str, Field(min_length=1)] | None, Key("a non-empty string")] = None
    description: Annotated[str | None, Key(_TEXT)] = None
    version: Annotated[str | None, Key(_TEXT)] = None
    spec_dir: Annotated[
        Annotated[str, Field(pattern=r"^[^/~]")] | None, Key("a path relative to the repository")
    ] = None
    claude_api_key: Annotated[str | None, Key(_TEXT)] = None
    auto_commit: Annotated[bool | None, Key(_BOOL)] = None
    variables: Annotated[
        dict[str, str | int | float | bool],
        Key("a mapping of names to strings, numbers or booleans"),
    ] = Field(default_factory=dict)


class StorageSettings(_Frozen):
    """Where state lives; shown for reference, set only through PRODIGY_HOME."""

    home: Annotated[
        str, Key("a directory", "PRODIGY_HOME", "app/paths (every stored file)", readonly=True)
    ] = "~/.prodigy"


class DlqSettings(_Frozen):
    """Dead letter queue limits."""

    capacity: Annotated[
        int, Field(ge=1), Key("an integer >= 1", "PRODIGY_DLQ_CAPACITY", "store/dlq (max items)")
    ] = 1000


class RaySettings(_Frozen):
    """Where `executor: ray` runs map agents (docs/ray.md)."""

    address: Annotated[
        str,
        Field(min_length=1),
        Key("a Ray address (host:port, or auto)", "PRODIGY_RAY_ADDRESS", "app/ray_runner"),
    ] = "auto"
    resources: Annotated[
        dict[str, float],
        Key('a JSON object of resource amounts, e.g. {"CPU": 1}', None, "app/ray_runner"),
    ] = Field(default_factory=lambda: {"CPU": 1.0})


class Config(_Frozen):
    """The effective configuration: every value typed and validated."""

    log_level: Annotated[
        Literal["trace", "debug", "info", "warn", "error"],
        Key("one of trace, debug, info, warn, error", "PRODIGY_LOG_LEVEL", "cli (log file level)"),
    ] = "info"
    claude_api_key: Annotated[
        str | None, Key(_TEXT, "PRODIGY_CLAUDE_API_KEY", "runtime/agents (ANTHROPIC_API_KEY)")
    ] = None
    max_concurrent_specs: Annotated[
        int, Field(ge=1, le=100), Key("an integer from 1 to 100", "PRODIGY_MAX_CONCURRENT")
    ] = 4
    auto_commit: Annotated[bool, Key(_BOOL, "PRODIGY_AUTO_COMMIT")] = True
    default_editor: Annotated[str | None, Key(_TEXT, "PRODIGY_EDITOR")] = None
    agent: Annotated[
        str,
        Field(min_length=1),
        Key(
            "the name of a registered agent",
            "PRODIGY_AGENT",
            "app/run (agent for claude: steps)",
            choices="agents",
        ),
    ] = "claude"
    max_parallel: Annotated[
        int,
        Field(ge=1),
        Key("an integer >= 1", "PRODIGY_MAX_PARALLEL", "runtime map phase (default parallelism)"),
    ] = 10
    step_timeout: Annotated[
        Seconds | None, Key(_SECONDS, "PRODIGY_STEP_TIMEOUT", "runtime steps (default timeout)")
    ] = None
    merge_timeout: Annotated[
        Seconds | None, Key(_SECONDS, "PRODIGY_MERGE_TIMEOUT", "runtime merge (merge back)")
    ] = None
    grace_period: Annotated[
        Seconds, Key(_SECONDS, "PRODIGY_GRACE_PERIOD", "runtime/process (SIGTERM to SIGKILL)")
    ] = 5.0
    retention_days: Annotated[
        int,
        Field(ge=1),
        Key("an integer >= 1", "PRODIGY_RETENTION_DAYS", "app clean (events, DLQ, logs)"),
    ] = 30
    auto_cleanup: Annotated[
        bool, Key(_BOOL, "PRODIGY_AUTO_CLEANUP", "app/run (remove worktree after merge)")
    ] = True
    claude: ClaudeSettings = Field(default_factory=ClaudeSettings)
    agents: AgentsSettings = Field(default_factory=AgentsSettings)
    project: ProjectSettings = Field(default_factory=ProjectSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    dlq: DlqSettings = Field(default_factory=DlqSettings)
    executor: Annotated[
        Literal["local", "ray"],
        Key("one of local, ray", "PRODIGY_EXECUTOR", "app/mapreduce (where map agents run)"),
    ] = "local"
    ray: RaySettings = Field(default_factory=RaySettings)


@dataclass(frozen=True)
class KeySpec:
    """One settable dotted key: its documentation, default and validator."""

    key: str
    info: Key
    default: object
    adapter: TypeAdapter[Any]
    kind: Literal["scalar", "list", "mapping"]


def _collect(model: type[BaseModel], prefix: str = "") -> Iterator[KeySpec]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _collect(annotation, f"{prefix}{name}.")
            continue
        key_info = next(m for m in info.metadata if isinstance(m, Key))
        origin = get_origin(annotation)
        kind: Literal["scalar", "list", "mapping"] = (
            "list" if origin is tuple else "mapping" if origin is dict else "scalar"
        )
        yield KeySpec(
            key=f"{prefix}{name}",
            info=key_info,
            default=info.get_default(call_default_factory=True),
            adapter=TypeAdapter(Annotated[(annotation, *info.metadata)]),  # type: ignore[arg-type]
            kind=kind,
        )


KEYS: Mapping[str, KeySpec] = {spec.key: spec for spec in _collect(Config)}
# every proper prefix of a key: `claude`, `agents`, `agents.codex`, ...
SECTIONS = frozenset(
    ".".join(parts[:end]) for parts in (k.split(".") for k in KEYS) for end in range(1, len(parts))
)
# Keys of prodigy 0.4.4 that mean nothing here; they warn instead of failing old config files.
_LEGACY = {
    "prodigy_home": "set the PRODIGY_HOME environment variable instead",
    "storage.backend": "state is always stored in SQLite under PRODIGY_HOME",
    "storage.base_path": "set the PRODIGY_HOME environment variable instead",
    "storage.compression_level": "remove it",
    "plugins": "plugins do not exist in this version; remove it",
}


@dataclass(frozen=True)
class Source:
    """Where a value came from: the layer and the file or variable that set it."""

    layer: LayerName
    location: str

    def __str__(self) -> str:
        return "default" if self.layer == "default" else f"{self.layer}: {self.location}"


DEFAULT_SOURCE = Source("default", "built-in")


@dataclass(frozen=True)
class Setting:
    """One layer's value for a key."""

    source: Source
    value: object


@dataclass(frozen=True)
class Layer:
    """Raw values from one place. `text` layers (env, flags) hold strings to be parsed."""

    source: Source
    data: Mapping[str, object]
    text: bool = False
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EffectiveConfig:
    """The merged configuration, the layer that set each key, and every layer's say."""

    values: Config
    sources: Mapping[str, Source]
    trace: Mapping[str, tuple[Setting, ...]]
    warnings: tuple[str, ...] = ()

    def get(self, key: str) -> object:
        """The effective value of a dotted key; UsageError with a suggestion if unknown."""
        if key not in KEYS:
            raise UsageError(unknown_key_message(key))
        return self.trace[key][-1].value

    def secrets(self) -> tuple[str, ...]:
        """Every secret value any layer set, for the masker of output, logs and events."""
        found = [
            secret
            for key, settings in self.trace.items()
            for setting in settings
            for secret in _secret_values(key, setting.value)
        ]
        return tuple(dict.fromkeys(found))


def _secret_values(key: str, value: object) -> list[str]:
    if isinstance(value, Mapping):
        return [secret for k, v in value.items() for secret in _secret_values(str(k), v)]
    return [str(value)] if is_secret(key) and value not in (None, "") else []


def is_secret(key: str) -> bool:
    """Whether a key (dotted or a plain name) holds a secret by its name."""
    last = key.rpartition(".")[2].lower()
    return any(word in last for word in _SECRET_WORDS)


def masked(key: str, value: object) -> object:
    """The value as it may be shown: secrets become ***, also inside mappings."""
    if isinstance(value, Mapping):
        return {str(k): masked(str(k), v) for k, v in value.items()}
    if is_secret(key) and value not in (None, ""):
        return MASK
    return value


def suggest(key: str) -> str | None:
    """The known key or section closest to a misspelled one."""
    wanted = key.lower()
    close = difflib.get_close_matches(wanted, [*KEYS, *SECTIONS], n=1, cutoff=0.6)
    if close:
        return close[0]
    leaf = wanted.rpartition(".")[2]
    by_leaf = {k.rpartition(".")[2]: k for k in KEYS}
    near = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.75)
    return by_leaf[near[0]] if near else None


def unknown_key_message(key: str, line: str = "") -> str:
    """`unknown key 'x' (line 3); did you mean 'y'?` for config files, errors and warnings."""
    hint = suggest(key)
    did = f"; did you mean '{hint}'?" if hint else "; `prodigy config show` lists every key"
    return f"unknown key '{key}'{line}{did}"


def resolve(
    layers: Sequence[Layer],
    fixed: Mapping[str, Setting] | None = None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> EffectiveConfig:
    """Merge layers over the defaults; every invalid value is reported in one ConfigError.

    `fixed` holds values the program computes (storage.home); no layer may set them.
    `choices` holds the allowed values of keys whose `Key.choices` names them.
    """
    problems: list[str] = []
    warnings: list[str] = []
    trace = {key: [Setting(DEFAULT_SOURCE, spec.default)] for key, spec in KEYS.items()}
    for layer in layers:
        for key, raw in _flatten(layer, layer.data, "", problems, warnings):
            setting = _check(layer, KEYS[key], raw, problems, choices or {})
            if setting is not None:
                trace[key].append(setting)
    for key, setting in (fixed or {}).items():
        trace[key] = [setting] if setting.source.layer == "default" else [*trace[key], setting]
    if problems:
        raise ConfigError("\n".join(problems))
    values = Config.model_validate(_nest({k: s[-1].value for k, s in trace.items()}))
    return EffectiveConfig(
        values=values,
        sources={key: settings[-1].source for key, settings in trace.items()},
        trace={key: tuple(settings) for key, settings in trace.items()},
        warnings=tuple(warnings),
    )


def _where(layer: Layer, key: str) -> tuple[str, str]:
    line = layer.lines.get(key)
    return layer.source.location, f" (line {line})" if line else ""


def _flatten(
    layer: Layer, data: Mapping[str, object], prefix: str, problems: list[str], warns: list[str]
) -> Iterator[tuple[str, object]]:
    for name, value in data.items():
        key = f"{prefix}{name}"
        where, line = _where(layer, key)
        if key in KEYS:
            yield key, value
        elif key in SECTIONS and isinstance(value, Mapping):
            yield from _flatten(layer, value, f"{key}.", problems, warns)
        elif key in SECTIONS and value is not None:
            problems.append(f"{where}: {key}: must be a mapping, got {value!r}{line}")
        elif key in SECTIONS:
            continue  # an empty `claude:` section sets nothing
        elif layer.source.layer == "cli":
            problems.append(f"{where}: {unknown_key_message(key, line)}")
        elif key in _LEGACY or key.partition(".")[0] in _LEGACY:
            fix = _LEGACY.get(key) or _LEGACY[key.partition(".")[0]]
            warns.append(f"{where}: '{key}' is a prodigy 0.4.4 setting not used here{line}; {fix}")
        else:
            warns.append(f"{where}: {unknown_key_message(key, line)}")


def _check(
    layer: Layer,
    spec: KeySpec,
    raw: object,
    problems: list[str],
    choices: Mapping[str, Sequence[str]],
) -> Setting | None:
    where, line = _where(layer, spec.key)
    if spec.info.readonly:
        problems.append(
            f"{where}: {spec.key}: is read-only; set the {spec.info.env} environment variable"
        )
        return None
    try:
        value = _validate(spec, raw, text=layer.text)
    except ValueError:
        got = masked(spec.key, raw)  # an error message must not leak a secret either
        problems.append(f"{where}: {spec.key}: must be {spec.info.expect}, got {got!r}{line}")
        return None
    allowed = choices.get(spec.info.choices or "")
    if allowed is not None and value not in allowed:
        got = masked(spec.key, raw)
        problems.append(
            f"{where}: {spec.key}: must be one of {', '.join(allowed)}, got {got!r}{line}"
        )
        return None
    return Setting(layer.source, value)


def _validate(spec: KeySpec, raw: object, *, text: bool) -> object:
    """Files are typed YAML and validated strictly; env and flag text is parsed first."""
    if text and isinstance(raw, str):
        return spec.adapter.validate_python(parse_text(spec, raw))
    if spec.kind == "list" and isinstance(raw, list):
        raw = tuple(raw)
    return spec.adapter.validate_python(raw, strict=True)


def parse_text(spec: KeySpec, raw: str) -> object:
    """Text from an environment variable or flag: lists as JSON or comma-separated."""
    stripped = raw.strip()
    if spec.kind == "mapping" or (spec.kind == "list" and stripped.startswith("[")):
        parsed: object = json.loads(stripped)
        return tuple(parsed) if isinstance(parsed, list) else parsed
    if spec.kind == "list":
        return tuple(part.strip() for part in stripped.split(",") if part.strip())
    return stripped


def _nest(flat: Mapping[str, object]) -> dict[str, object]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *heads, leaf = key.split(".")
        target = nested
        for head in heads:
            target = target.setdefault(head, {})
        target[leaf] = value
    return nested
