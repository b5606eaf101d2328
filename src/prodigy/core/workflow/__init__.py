"""Workflow files: the typed model, the loader, and static checks.

    result = load_workflow(Path("wf.yml"), params={"target": "app"})
    result.workflow.steps[0].action          # ShellAction(command=...)
    result.warnings                          # unknown keys, deprecated spellings

Every accepted spelling loads into the same model; see docs/workflow-format.md.
"""

from __future__ import annotations

from prodigy.core.workflow.checks import all_steps, walk_steps
from prodigy.core.workflow.diagnostics import Diagnostic, Severity, WorkflowLoadError
from prodigy.core.workflow.loader import LoadResult, check_workflow, load_workflow
from prodigy.core.workflow.model import (
    CaptureOutputSpec,
    CircuitBreaker,
    ErrorPolicy,
    ItemRetry,
    MapPhase,
    MergeConfig,
    Mode,
    Profile,
    SecretRef,
    SetupPhase,
    SubWorkflow,
    TimeoutConfig,
    Workflow,
)
from prodigy.core.workflow.params import parse_param
from prodigy.core.workflow.step_model import (
    Action,
    AnalyzeAction,
    Backoff,
    CaptureStreams,
    CheckCommand,
    ClaudeAction,
    CommitConfig,
    ForeachAction,
    GoalSeekAction,
    HandlerAction,
    OnFailure,
    OnIncomplete,
    RetryPolicy,
    ShellAction,
    SourceLocation,
    Step,
    StepValidation,
    Validation,
    WriteFileAction,
)
from prodigy.core.workflow.yaml_source import JsonValue

__all__ = [
    "Action",
    "AnalyzeAction",
    "Backoff",
    "CaptureOutputSpec",
    "CaptureStreams",
    "CheckCommand",
    "CircuitBreaker",
    "ClaudeAction",
    "CommitConfig",
    "Diagnostic",
    "ErrorPolicy",
    "ForeachAction",
    "GoalSeekAction",
    "HandlerAction",
    "ItemRetry",
    "JsonValue",
    "LoadResult",
    "MapPhase",
    "MergeConfig",
    "Mode",
    "OnFailure",
    "OnIncomplete",
    "Profile",
    "RetryPolicy",
    "SecretRef",
    "SetupPhase",
    "Severity",
    "ShellAction",
    "SourceLocation",
    "Step",
    "StepValidation",
    "SubWorkflow",
    "TimeoutConfig",
    "Validation",
    "Workflow",
    "WorkflowLoadError",
    "WriteFileAction",
    "all_steps",
    "check_workflow",
    "load_workflow",
    "parse_param",
    "walk_steps",
]
