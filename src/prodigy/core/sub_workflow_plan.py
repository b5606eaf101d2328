"""Sub-workflows (`workflows:`) loaded and ordered before a run, and their outputs read back.

A parent's sub-workflows run before its own `commands`, in the order written; consecutive
entries with `parallel: true` form one group that runs concurrently. Each child is a
standard workflow file, loaded with the entry's `parameters` as its `--param` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prodigy.core.errors import WorkflowError
from prodigy.core.retry import with_retry_defaults
from prodigy.core.workflow import Workflow, load_workflow
from prodigy.core.workflow.model import SubWorkflow


@dataclass(frozen=True, slots=True)
class PlannedSub:
    """One `workflows:` entry with its loaded child and the child's own sub-workflows."""

    name: str
    spec: SubWorkflow
    path: Path
    workflow: Workflow
    children: tuple[PlannedSub, ...]

    @property
    def where(self) -> str:
        return f"sub-workflow '{self.name}' ({self.path})"


def plan_sub_workflows(
    workflow: Workflow, template_dirs: tuple[Path, ...] = (), chain: tuple[Path, ...] = ()
) -> tuple[PlannedSub, ...]:
    """Load every sub-workflow of `workflow`, recursively; raises on any problem.

    Sources are relative to the directory of the file that names them; `template_dirs`
    are the template registries, as for the loader.
    """
    own = Path(workflow.source).resolve()
    chain = (*chain, own)
    planned = []
    for name, spec in workflow.sub_workflows.items():
        path = (own.parent / spec.source).resolve()
        where = f"{workflow.source}: workflows.{name}"
        if path in chain:
            cycle = " -> ".join(p.name for p in (*chain, path))
            raise WorkflowError(
                f"{where}: sub-workflows run in a circle ({cycle}); "
                "a workflow cannot run itself, directly or through its sub-workflows"
            )
        loaded = load_workflow(path, params=dict(spec.parameters), template_dirs=template_dirs)
        child = with_retry_defaults(loaded.workflow)
        if child.mode != "standard":
            raise WorkflowError(
                f"{where}: {spec.source} is a MapReduce workflow; a sub-workflow must be a "
                "standard workflow with `commands:`"
            )
        children = plan_sub_workflows(child, template_dirs, chain)
        planned.append(PlannedSub(name, spec, path, child, children))
    return tuple(planned)


def run_groups(planned: tuple[PlannedSub, ...]) -> list[tuple[PlannedSub, ...]]:
    """Consecutive `parallel: true` entries together; every other entry alone, in order."""
    groups: list[tuple[PlannedSub, ...]] = []
    for sub in planned:
        if sub.spec.parallel and groups and groups[-1][-1].spec.parallel:
            groups[-1] = (*groups[-1], sub)
        else:
            groups.append((sub,))
    return groups


def output_file_values(text: str) -> dict[str, str]:
    """`NAME=VALUE` lines a child wrote to `$PRODIGY_OUTPUT`; later lines win."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            values[name.strip()] = value
    return values
