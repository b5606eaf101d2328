"""The normalized step: exactly one action plus every documented option.

All spellings of a field (legacy, deprecated, alternative) load into these same types; see
docs/workflow-format.md for the mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from prodigy.core.workflow.yaml_source import JsonValue


def _no_entries() -> Mapping[Any, Any]:
    return MappingProxyType({})


CaptureFormat = Literal["string", "json", "lines", "number", "boolean"]
WriteFormat = Literal["text", "json", "yaml"]
Strategy = Literal["recovery", "fallback", "cleanup", "custom"]
BackoffKind = Literal["fixed", "linear", "exponential", "fibonacci", "custom"]
EnvValue: TypeAlias = "str | Mapping[str, JsonValue]"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a step was written, so runtime errors can point at it."""

    file: str
    line: int
    column: int
    yaml_path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.yaml_path}"


# --- actions (a step has exactly one) -------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ShellAction:
    command: str
    kind: Literal["shell"] = "shell"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaudeAction:
    prompt: str
    kind: Literal["claude"] = "claude"


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteFileAction:
    path: str
    content: JsonValue
    format: WriteFormat = "text"
    mode: str = "0644"
    create_dirs: bool = False
    kind: Literal["write_file"] = "write_file"


@dataclass(frozen=True, slots=True, kw_only=True)
class ForeachAction:
    items: tuple[str, ...] | None  # a static list ...
    command: str | None  # ... or a shell command whose stdout lines are the items
    do: tuple[Step, ...]
    parallel: int = 1  # `false` = 1, `true` = 10
    continue_on_error: bool = False
    max_items: int | None = None
    kind: Literal["foreach"] = "foreach"


@dataclass(frozen=True, slots=True, kw_only=True)
class GoalSeekAction:
    """`goal_seek:` as documented: core/goal_seek.py reads its config, runtime/steps runs it."""

    config: Mapping[str, JsonValue]
    kind: Literal["goal_seek"] = "goal_seek"


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyzeAction:
    """Removed functionality (prodigy 0.3); carried so the runtime can reject it by location."""

    config: Mapping[str, JsonValue]
    kind: Literal["analyze"] = "analyze"


@dataclass(frozen=True, slots=True, kw_only=True)
class HandlerAction:
    name: str
    attributes: Mapping[str, JsonValue]
    kind: Literal["handler"] = "handler"


Action: TypeAlias = (
    ShellAction
    | ClaudeAction
    | WriteFileAction
    | ForeachAction
    | GoalSeekAction
    | AnalyzeAction
    | HandlerAction
)


# --- options ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureStreams:
    stdout: bool = True
    stderr: bool = False
    exit_code: bool = True
    success: bool = True
    duration: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class OnFailure:
    """Every `on_failure` spelling, normalized.

    `handlers` run in order after a failure; `max_attempts` counts runs of the original step
    (first run included), None = the engine's default; `fail_workflow` says whether a step that
    is still failed after handling stops the workflow.
    """

    handlers: tuple[Step, ...] = ()
    fail_workflow: bool = False
    max_attempts: int | None = None
    retry_original: bool = False
    strategy: Strategy = "recovery"
    handler_failure_fatal: bool = False
    timeout: int | None = None
    commit_required: bool | None = None
    capture: Mapping[str, JsonValue] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    kind: BackoffKind = "exponential"
    base: float = 2.0
    increment: float | None = None  # linear, seconds
    delays: tuple[float, ...] = ()  # custom, seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    initial_delay: float = 1.0
    max_delay: float = 30.0
    jitter: bool = False
    jitter_factor: float = 0.3
    retry_on: tuple[str, ...] = ()  # network | timeout | server_error | rate_limit; () = all
    retry_on_patterns: tuple[str, ...] = ()  # regexes matched against the error message
    retry_on_exit_codes: tuple[int, ...] = ()  # `{exit_code: N}` entries
    retry_budget: float | None = None
    on_failure: str = "stop"  # stop | continue | fallback
    fallback_command: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OnIncomplete:
    handlers: tuple[Step, ...] = ()
    prompt: str | None = None
    max_attempts: int = 2
    fail_workflow: bool = True
    commit_required: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Validation:
    """`validate:` — the completeness check run after a successful step."""

    commands: tuple[Step, ...] = ()  # the validation steps (shell/claude/commands forms)
    result_file: str | None = None
    threshold: float = 100.0
    timeout: int | None = None
    on_incomplete: OnIncomplete | None = None
    expected_schema: JsonValue = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckCommand:
    command: str
    command_type: Literal["shell", "claude"] = "shell"
    expect_output: str | None = None
    expect_exit_code: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StepValidation:
    """`step_validate:` — checks that must pass after the step succeeded."""

    commands: tuple[CheckCommand, ...]
    success_criteria: Literal["all", "any", "at_least"] = "all"
    at_least: int | None = None
    max_attempts: int = 1
    retry_delay: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitConfig:
    message_template: str | None = None
    message_pattern: str | None = None
    sign: bool = False
    author: str | None = None
    include_files: tuple[str, ...] = ()
    exclude_files: tuple[str, ...] = ()
    squash: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step. Options that are None take the default of the phase that runs the step."""

    action: Action
    location: SourceLocation
    name: str | None = None
    id: str | None = None
    agent: str | None = None  # this claude: step's agent, over the run's (e.g. scripted)
    commit_required: bool | None = None
    capture_output: bool | None = None  # default capture into `<kind>.output`
    capture: str | None = None  # named variable (`capture:` or `capture_output: "name"`)
    capture_format: CaptureFormat = "string"
    capture_streams: CaptureStreams = field(default_factory=CaptureStreams)
    output_file: str | None = None
    timeout: int | None = None
    env: Mapping[str, EnvValue] = field(default_factory=_no_entries)
    working_dir: str | None = None
    when: str | None = None
    on_success: Step | None = None
    on_failure: OnFailure | None = None
    on_exit_code: Mapping[int, Step] = field(default_factory=_no_entries)
    retry: RetryPolicy | None = None
    validate: Validation | None = None
    step_validate: StepValidation | None = None
    skip_validation: bool = False
    validation_timeout: int | None = None
    ignore_validation_failure: bool = False
    auto_commit: bool = False
    commit_config: CommitConfig | None = None
    continue_on_error: bool = False  # only meaningful for handler commands
    # values spliced into a shell: command as text (they are shell code); default: data
    shell_trusted_vars: bool = False
    outputs: Mapping[str, str] = field(
        default_factory=_no_entries
    )  # output name -> file_pattern (legacy structured)
    analysis: Mapping[str, JsonValue] | None = None  # parsed for compatibility, unused
    deprecated_test: bool = False  # written as `test:`; runs as shell + on_failure
