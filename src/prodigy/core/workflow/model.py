"""The normalized workflow: one immutable value that every later layer consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from prodigy.core.budget import Budget
from prodigy.core.quota import QuotaPolicy
from prodigy.core.workflow.step_model import EnvValue, RetryPolicy, SourceLocation, Step
from prodigy.core.workflow.yaml_source import JsonValue

Mode = Literal["standard", "mapreduce"]


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRef:
    """Where a secret's value comes from; never the value itself."""

    provider: str = "env"  # env | file | vault | aws | custom name
    key: str
    version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    description: str | None = None
    env: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureOutputSpec:
    """One entry of `setup.capture_outputs`."""

    command_index: int
    source: Literal["stdout", "stderr", "both", "combined"] = "stdout"
    max_size: int = 1_048_576
    pattern: str | None = None
    multiline: Literal["preserve", "join", "first_line", "last_line", "array"] = "preserve"
    json_path: str | None = None
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupPhase:
    steps: tuple[Step, ...]
    timeout: int | str | None = None  # seconds, or "$VAR"/"${VAR}"
    capture_outputs: Mapping[str, CaptureOutputSpec] = field(default_factory=_empty)
    location: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeoutConfig:
    agent_timeout_secs: int | None = None
    command_timeouts: Mapping[str, int] = field(default_factory=_empty)
    timeout_policy: Literal["PerAgent", "PerCommand", "Hybrid"] = "PerAgent"
    cleanup_grace_period_secs: int = 30
    timeout_action: Literal["Dlq", "Skip", "Fail", "GracefulTerminate"] = "Dlq"
    enable_monitoring: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class MapPhase:
    input: str  # a file (JSON) or a shell command printing items
    agent_template: tuple[Step, ...]
    json_path: str | None = None
    filter: str | None = None
    sort_by: str | None = None
    distinct: str | None = None
    offset: int | None = None
    max_items: int | None = None
    max_parallel: int | str = 10  # or "$VAR"/"${VAR}", resolved when the run starts
    agent_timeout_secs: int | str | None = None
    timeout_config: TimeoutConfig | None = None
    location: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeConfig:
    steps: tuple[Step, ...]
    timeout: int | None = None
    location: SourceLocation


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreaker:
    failure_threshold: int = 5
    success_threshold: int = 3
    timeout: float = 30.0
    half_open_requests: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRetry:
    max_attempts: int = 3
    backoff: Mapping[str, JsonValue] | None = None  # the backoff as written (kind -> params)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorPolicy:
    """MapReduce item-failure policy; top-level shortcuts load into the same fields."""

    on_item_failure: str = "dlq"  # dlq | retry | skip | stop | <custom handler name>
    continue_on_failure: bool = True
    max_failures: int | None = None
    failure_threshold: float | None = None  # 0.0 - 1.0
    error_collection: Literal["aggregate", "immediate", "batched"] = "aggregate"
    batch_size: int | None = None
    circuit_breaker: CircuitBreaker | None = None
    retry_config: ItemRetry | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubWorkflow:
    source: str
    parameters: Mapping[str, JsonValue] = field(default_factory=_empty)
    inputs: Mapping[str, JsonValue] = field(default_factory=_empty)
    outputs: tuple[str, ...] = ()
    parallel: bool = False
    continue_on_error: bool = False
    timeout: float | None = None
    working_dir: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    name: str
    mode: Mode
    source: str  # the workflow file path, as given
    steps: tuple[Step, ...] = ()  # standard workflows
    setup: SetupPhase | None = None
    map: MapPhase | None = None
    reduce: tuple[Step, ...] = ()
    merge: MergeConfig | None = None
    env: Mapping[str, EnvValue] = field(default_factory=_empty)
    secrets: Mapping[str, SecretRef] = field(default_factory=_empty)
    env_files: tuple[str, ...] = ()
    profiles: Mapping[str, Profile] = field(default_factory=_empty)
    error_policy: ErrorPolicy = field(default_factory=ErrorPolicy)
    retry_defaults: RetryPolicy | None = None
    parameters: Mapping[str, JsonValue] = field(default_factory=_empty)
    sub_workflows: Mapping[str, SubWorkflow] = field(default_factory=_empty)
    description: str | None = None
    agent: str | None = None  # the agent for claude: steps (claude, scripted); --agent wins
    budget: Budget = field(default_factory=Budget)  # `budget:`; CLI flags override
    quota: QuotaPolicy = field(default_factory=QuotaPolicy)  # `quota:`; --on-quota overrides
