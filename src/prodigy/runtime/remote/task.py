"""What crosses the wire for one remote attempt: plain data both ways (picklable, no paths of
the coordinator, no secret values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prodigy.core.variables import JsonValue
from prodigy.core.workflow import Step
from prodigy.runtime.agents.base import AgentSettings


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a node finds a secret: `env` = a variable of the node's environment (that of
    `ray start`), `file` = a file (relative paths from the node's PRODIGY_HOME)."""

    provider: str
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteTask:
    """One attempt at one item, as a worker node needs it."""

    job_id: str
    item_id: str
    index: int
    item: JsonValue
    attempt: int
    session_id: str
    repo_key: str  # the coordinator's repository: one cache repository per key on each node
    base: str  # the commit the agent starts from (the parent's HEAD at submission)
    root: str  # the commit the job's full bundle carries
    bundle: bytes | None  # base's commits not in root (None when base is root)
    template: tuple[Step, ...]
    variables: Mapping[str, JsonValue]  # workflow variables without `env` (the node's own)
    env: Mapping[str, str]  # workflow env and setup captures; never a secret value
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)  # resolved on the node
    agent: str = "claude"
    agent_settings: AgentSettings | None = None  # the backend's own (executable, args, model)
    timeout: float | None = None  # the whole agent (agent_timeout_secs)
    step_timeout: float | None = None
    grace_period: float = 5.0
    git_variables: bool = True
    verbosity: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteResult:
    """The attempt's outcome (AgentOutcome.to_json()), where it ran, and its commits."""

    outcome: Mapping[str, Any]
    node: str
    bundle: bytes | None = None  # the agent's commits on top of task.base


@dataclass(frozen=True, slots=True)
class RemoteEvent:
    """What a node reports while the agent runs, already masked there: a step starting
    (`label`, `index`, `total`) or a line of output (`line`)."""

    kind: str  # "step" | "line"
    label: str = ""
    index: int = 0
    total: int = 0
    line: str = ""
