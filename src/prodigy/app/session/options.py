"""How a run was asked for; saved with the session so resume runs it the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from prodigy.core.budget import Limits
from prodigy.core.errors import UsageError
from prodigy.core.quota import OnLimit
from prodigy.core.workflow import Workflow


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    workflow: Path
    repo: Path | None = None  # -p; default: the current directory
    yes: bool = False
    max_iterations: int = 1
    args: tuple[str, ...] = ()
    map_globs: tuple[str, ...] = ()
    dry_run: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    agent: str | None = None
    verbosity: int = 0
    profile: str | None = None  # --profile: the workflow's environment profile
    executor: str | None = None  # --executor: local | ray (default: config `executor`)
    ray_address: str | None = None  # --ray-address (default: config `ray.address`)
    # --max-cost-usd / --max-tokens / --on-quota: override the workflow's budget and quota
    max_cost_usd: float | None = None
    max_tokens: int | None = None
    on_quota: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What resume needs again (the workflow path is stored with the session)."""
        return {
            "max_iterations": self.max_iterations,
            "args": list(self.args),
            "map_globs": list(self.map_globs),
            "params": dict(self.params),
            "agent": self.agent,
            "profile": self.profile,
            "executor": self.executor,
            "ray_address": self.ray_address,
            "max_cost_usd": self.max_cost_usd,
            "max_tokens": self.max_tokens,
            "on_quota": self.on_quota,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, workflow: Path, **overrides: Any) -> RunOptions:
        return cls(
            workflow=workflow,
            max_iterations=int(data.get("max_iterations", 1)),
            args=tuple(data.get("args", ())),
            map_globs=tuple(data.get("map_globs", ())),
            params=dict(data.get("params", {})),
            agent=data.get("agent"),
            profile=data.get("profile"),
            **{
                "executor": data.get("executor"),
                "ray_address": data.get("ray_address"),
                **{name: data.get(name) for name in _LIMITS},
                **{k: v for k, v in overrides.items() if v is not None or k not in _KEPT},
            },
        )


_EXECUTION = ("executor", "ray_address")  # resume keeps the run's unless given again
# the same for the budget and quota overrides: resume --max-cost-usd raises the saved limit
_LIMITS = ("max_cost_usd", "max_tokens", "on_quota")
_KEPT = (*_EXECUTION, *_LIMITS)


def with_run_limits(workflow: Workflow, options: RunOptions) -> Workflow:
    """The workflow's `budget:` and `quota:` with the run's CLI overrides applied."""
    budget, quota = workflow.budget, workflow.quota
    if options.max_cost_usd is not None or options.max_tokens is not None:
        job = budget.job
        budget = replace(
            budget,
            job=Limits(
                max_cost_usd=options.max_cost_usd
                if options.max_cost_usd is not None
                else job.max_cost_usd,
                max_tokens=options.max_tokens if options.max_tokens is not None else job.max_tokens,
            ),
        )
    if options.on_quota is not None:
        quota = replace(quota, on_limit=cast(OnLimit, options.on_quota))
    return replace(workflow, budget=budget, quota=quota)


def passes(options: RunOptions, inputs: list[str]) -> list[tuple[int, str | None]]:
    """The passes over the workflow: one per `--map` input, else `-n` iterations.

    Returns (pass number from 1, the pass's input or None).
    """
    if inputs:
        return [(n, value) for n, value in enumerate(inputs, start=1)]
    return [(n, None) for n in range(1, options.max_iterations + 1)]


def map_inputs(repo: Path, patterns: tuple[str, ...]) -> list[str]:
    """`--map GLOB`: each match's file stem up to the first `-` (prodigy's rule)."""
    inputs: list[str] = []
    for pattern in patterns:
        matches = sorted(str(p.relative_to(repo)) for p in repo.glob(pattern))
        inputs.extend(Path(m).stem.split("-", 1)[0] for m in matches)
    if patterns and not inputs:
        raise UsageError(f"no files match --map {' '.join(patterns)} in {repo}")
    return inputs
