"""The document root (any accepted form) -> `Workflow`. The form is told by structure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.env import parse_env, parse_profiles, parse_secrets
from prodigy.core.workflow.error_policy import parse_error_policy
from prodigy.core.workflow.fields import Fields, frozen, report
from prodigy.core.workflow.limits import parse_budget, parse_quota
from prodigy.core.workflow.model import SubWorkflow, Workflow
from prodigy.core.workflow.phases import (
    parse_map,
    parse_merge,
    parse_setup,
    step_block,
)
from prodigy.core.workflow.retry import parse_retry
from prodigy.core.workflow.steps import parse_steps
from prodigy.core.workflow.yaml_source import JsonValue, YMap, YNode, YScalar, YSeq, type_name

COMMON_KEYS = (
    "name",
    "mode",
    "description",
    "env",
    "secrets",
    "env_files",
    "profiles",
    "merge",
    "retry_defaults",
    "agent",
    "budget",
    "quota",
)
STANDARD_KEYS = (*COMMON_KEYS, "commands", "steps")
MAPREDUCE_KEYS = (
    *COMMON_KEYS,
    "setup",
    "map",
    "reduce",
    "error_policy",
    "on_item_failure",
    "continue_on_failure",
    "max_failures",
    "failure_threshold",
    "error_collection",
)
# handled (and removed) by composition before normalization
COMPOSITION_KEYS = ("imports", "extends", "template", "parameters", "defaults", "workflows")


def build_workflow(
    root: YNode | None,
    source: str,
    reporter: DiagnosticCollector,
    *,
    parameters: Mapping[str, JsonValue] | None = None,
    sub_workflows: Mapping[str, SubWorkflow] | None = None,
) -> Workflow | None:
    stem = PurePath(source).stem
    extra: dict[str, Any] = {
        "parameters": frozen(dict(parameters or {})),
        "sub_workflows": frozen(dict(sub_workflows or {})),
    }
    if root is None:
        reporter.add_error_at(
            source,
            "the workflow file is empty; expected a list of steps or a mapping with 'commands:'",
        )
        return None
    if isinstance(root, YSeq):
        return Workflow(
            name=stem,
            mode="standard",
            source=source,
            steps=parse_steps(root, "", reporter),
            **extra,
        )
    if not isinstance(root, YMap):
        report(reporter, root, "", f"expected a list of steps or a mapping, got {type_name(root)}")
        return None
    if _mode(root, reporter) == "mapreduce":
        return _mapreduce(root, source, reporter, extra["parameters"])
    return _standard(root, source, stem, reporter, extra)


def _mode(root: YMap, reporter: DiagnosticCollector) -> str:
    node = root.get("mode")
    if node is None:
        return "mapreduce" if root.get("map") is not None else "standard"
    value = node.value if isinstance(node, YScalar) else None
    if value in ("mapreduce", "standard"):
        return str(value)
    report(reporter, node, "mode", f"expected 'mapreduce' or 'standard', got {value!r}")
    return "mapreduce" if root.get("map") is not None else "standard"


def _common(fields: Fields) -> dict[str, Any]:
    reporter = fields.reporter
    fields.node("mode")
    env = parse_env(fields.node("env"), fields.at("env"), reporter)
    retry_node = fields.node("retry_defaults")
    merge_node = fields.node("merge")
    return {
        "description": fields.text("description"),
        "agent": fields.text("agent"),
        "env": env if env is not None else frozen({}),
        "secrets": parse_secrets(fields.node("secrets"), fields.at("secrets"), reporter),
        "env_files": fields.str_list("env_files") or (),
        "profiles": parse_profiles(fields.node("profiles"), fields.at("profiles"), reporter),
        "merge": None if merge_node is None else parse_merge(merge_node, "merge", reporter),
        "retry_defaults": None
        if retry_node is None
        else parse_retry(retry_node, "retry_defaults", reporter),
        "budget": parse_budget(fields.node("budget"), fields.at("budget"), reporter),
        "quota": parse_quota(fields.node("quota"), fields.at("quota"), reporter),
    }


def _standard(
    root: YMap, source: str, stem: str, reporter: DiagnosticCollector, extra: dict[str, Any]
) -> Workflow:
    fields = Fields(root, "", reporter, STANDARD_KEYS)
    key = "commands"
    if fields.has("steps") and fields.has("commands"):
        fields.error(root, "steps", "give 'commands' or 'steps', not both")
    elif fields.has("steps"):
        key = "steps"
    steps_node = fields.node(key)
    if steps_node is None and not fields.has(key):
        fields.error(root, "commands", "a workflow mapping needs 'commands:' (a list of steps)")
    common = _common(fields)
    workflow = Workflow(
        name=fields.text("name") or stem,
        mode="standard",
        source=source,
        steps=parse_steps(steps_node, key, reporter),
        **common,
        **extra,
    )
    fields.finish(ignore=COMPOSITION_KEYS)
    return workflow


def _mapreduce(
    root: YMap, source: str, reporter: DiagnosticCollector, parameters: Mapping[str, JsonValue]
) -> Workflow:
    fields = Fields(root, "", reporter, MAPREDUCE_KEYS)
    name = fields.text("name")
    if name is None:
        fields.error(root, "name", "a mapreduce workflow needs a 'name'")
    setup_node = fields.node("setup")
    reduce_node = fields.node("reduce")
    reduce, reduce_fields = step_block(reduce_node, "reduce", reporter, deprecated=True)
    if reduce_fields is not None:
        reduce_fields.finish()
    for key in ("commands", "steps"):
        if (ignored := fields.node(key)) is not None:
            fields.warn(
                ignored,
                key,
                f"'{key}' is ignored in a mapreduce workflow; use setup, "
                "map.agent_template and reduce",
            )
    for key in COMPOSITION_KEYS:
        if (node := fields.node(key)) is not None:
            fields.error(node, key, f"'{key}' (composition) works only in standard workflows")
    workflow = Workflow(
        name=name or "",
        mode="mapreduce",
        source=source,
        setup=None if setup_node is None else parse_setup(setup_node, "setup", reporter),
        map=parse_map(fields.node("map"), "map", reporter, root),
        reduce=reduce,
        error_policy=parse_error_policy(fields),
        parameters=parameters,
        **_common(fields),
    )
    fields.finish()
    return workflow
