"""Refuse, before anything is created, a workflow that uses a feature this release lacks.

Silently skipping a documented field is the failure this project exists to fix, so every
feature the runtime does not implement yet is named here, with where it is written.
"""

from __future__ import annotations

from pathlib import Path

from prodigy.core.env_resolution import env_form
from prodigy.core.errors import NotImplementedYetError
from prodigy.core.goal_seek import parse_goal_seek
from prodigy.core.sub_workflow_plan import PlannedSub, plan_sub_workflows
from prodigy.core.workflow import Step, Workflow, walk_steps
from prodigy.core.workflow.step_model import GoalSeekAction

_REMOVED = {
    "analyze": "`analyze:` was removed from prodigy in 0.3; use a claude or shell step",
    "handler": "`handler:` steps never ran in prodigy; use a claude or shell step",
}


def _step_gaps(step: Step) -> list[str]:
    where = str(step.location)
    gaps: list[str] = []
    kind = step.action.kind
    if kind in _REMOVED:
        gaps.append(f"{where}: {_REMOVED[kind]}")
    if isinstance(step.action, GoalSeekAction):
        parse_goal_seek(step.action.config, where)  # a bad loop fails before anything starts
    if any(not isinstance(v, str) and env_form(v) != "secret" for v in step.env.values()):
        gaps.append(f"{where}: dynamic or conditional `env:` values")
    if step.commit_config is not None and (
        step.commit_config.squash
        or step.commit_config.sign
        or step.commit_config.author
        or step.commit_config.include_files
        or step.commit_config.exclude_files
        or step.commit_config.message_pattern
    ):
        gaps.append(f"{where}: `commit_config:` beyond message_template")
    return gaps


def unsupported(workflow: Workflow, template_dirs: tuple[Path, ...] = ()) -> list[str]:
    """Every feature in the workflow this release cannot run yet, with its location."""
    # `budget:` and `quota:` are enforced (app/spending.py, quota_gate.py): nothing to refuse
    gaps: list[str] = []
    steps = (*workflow.steps, *_merge_steps(workflow), *_mapreduce_steps(workflow))
    for step in walk_steps(steps):
        gaps.extend(_step_gaps(step))
    # loads every child, so a broken sub-workflow fails here, before anything is created
    for sub in plan_sub_workflows(workflow, template_dirs):
        gaps.extend(_sub_workflow_gaps(sub, template_dirs))
    return gaps


def _sub_workflow_gaps(sub: PlannedSub, template_dirs: tuple[Path, ...]) -> list[str]:
    child = sub.workflow
    where = f"{sub.where}"
    top = {"merge": child.merge is not None, "profiles": bool(child.profiles)}
    gaps = [
        f"{where}: `{key}:` (a sub-workflow runs inside its parent's session; "
        "set it in the parent workflow)"
        for key, used in top.items()
        if used
    ]
    return gaps + unsupported(child, template_dirs)


def _mapreduce_steps(workflow: Workflow) -> tuple[Step, ...]:
    setup = workflow.setup.steps if workflow.setup is not None else ()
    template = workflow.map.agent_template if workflow.map is not None else ()
    return (*setup, *template, *workflow.reduce)


def _merge_steps(workflow: Workflow) -> tuple[Step, ...]:
    return workflow.merge.steps if workflow.merge is not None else ()


def ensure_supported(workflow: Workflow, template_dirs: tuple[Path, ...] = ()) -> None:
    """Raise NotImplementedYetError (exit 2) naming every unsupported feature in use."""
    gaps = unsupported(workflow, template_dirs)
    if gaps:
        listing = "\n  ".join(gaps)
        raise NotImplementedYetError(
            f"this workflow uses features this release cannot run yet:\n  {listing}\n"
            "Nothing was started"
        )
