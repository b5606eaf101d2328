"""Before a MapReduce run: the checks that need no worktree, and the `--dry-run` plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prodigy.app.mapreduce.inputs import selection
from prodigy.core.mapreduce.failure_policy import check_policy
from prodigy.core.mapreduce.items import check_selection
from prodigy.core.mapreduce.job_plan import MapLimits, map_limits
from prodigy.core.progress import Note, Reporter
from prodigy.core.variables import Scope
from prodigy.core.workflow import MapPhase as MapConfig
from prodigy.core.workflow import Workflow
from prodigy.runtime.steps.sequence import shown_command


def map_config(workflow: Workflow) -> MapConfig:
    assert workflow.map is not None, "the loader guarantees a map section in mapreduce mode"
    return workflow.map


def check_mapreduce(workflow: Workflow, scope: Scope, env: Mapping[str, str]) -> MapLimits:
    """Every MapReduce setting that can be wrong, checked before anything is created."""
    phase = map_config(workflow)
    check_policy(workflow.error_policy, workflow.source)
    check_selection(selection(phase))
    return map_limits(phase, lookup_env(scope, env))


def lookup_env(scope: Scope, env: Mapping[str, str]) -> dict[str, str]:
    """Where `${VAR}` settings look: the workflow env first, then the process env."""
    return {**env, **{k: v for k, v in scope.items() if isinstance(v, str)}}


def dry_run_mapreduce(workflow: Workflow, scope: Scope, limits: MapLimits, out: Reporter) -> int:
    """The plan of a MapReduce run; nothing is created or run."""
    phase = map_config(workflow)
    say: Callable[[str], None] = lambda text: out.emit(Note("info", f"[DRY RUN] {text}"))  # noqa: E731 - a one-line helper
    say(f"{workflow.name}: MapReduce workflow")
    for index, step in enumerate(workflow.setup.steps if workflow.setup else (), start=1):
        say(f"setup {index}: {shown_command(step, scope)}")
    say(f"map input: {phase.input}")
    for key in ("json_path", "filter", "sort_by", "distinct", "offset", "max_items"):
        value = getattr(phase, key)
        if value is not None:
            say(f"  {key}: {value}")
    timeout = f", agent timeout {limits.agent_timeout:g} s" if limits.agent_timeout else ""
    say(f"  up to {limits.max_parallel} agents in parallel{timeout}")
    for index, step in enumerate(phase.agent_template, start=1):
        say(f"agent step {index}: {shown_command(step, scope)}")
    for index, step in enumerate(workflow.reduce, start=1):
        say(f"reduce {index}: {shown_command(step, scope)}")
    say(f"on item failure: {workflow.error_policy.on_item_failure}")
    say("nothing was created or run")
    return 0
