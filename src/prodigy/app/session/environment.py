"""The environment and the variables a run starts with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prodigy.core.interpolation import interpolate
from prodigy.core.variables import JsonValue, Scope, env_values, positional_values
from prodigy.core.workflow import Workflow


def initial_scope(
    workflow: Workflow, *, args: Sequence[str], process_env: Mapping[str, str]
) -> Scope:
    """Variables before the first step: positional args, workflow env, `${env.*}`.

    Workflow env values are interpolated once, so `${ARG_1}` inside them works.
    """
    values: dict[str, JsonValue] = {}
    values.update(env_values(process_env))
    values.update(positional_values(list(args), current=args[0] if args else None))
    scope = Scope(values)
    resolved = {name: interpolate(str(value), scope) for name, value in workflow.env.items()}
    return scope.with_values(resolved)


def workflow_env(workflow: Workflow, scope: Scope) -> dict[str, str]:
    """The workflow's `env:` with its values resolved from the scope."""
    return {name: str(scope.get(name, value)) for name, value in workflow.env.items()}


def child_env(
    process_env: Mapping[str, str],
    workflow: Workflow,
    scope: Scope,
    *,
    session_id: str,
    worktree: str,
) -> dict[str, str]:
    """What every step's process gets: the user's env (API keys must reach Claude) and ours."""
    env = dict(process_env)
    env.update(workflow_env(workflow, scope))
    env["PRODIGY_AUTOMATION"] = "true"
    env["PRODIGY_SESSION_ID"] = session_id
    env["PRODIGY_WORKTREE"] = worktree
    arg = scope.get("ARG")
    if isinstance(arg, str):
        env["PRODIGY_ARG"] = arg
    return env
