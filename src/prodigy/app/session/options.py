"""How a run was asked for; saved with the session so resume runs it the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prodigy.core.errors import UsageError


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

    def to_json(self) -> dict[str, Any]:
        """What resume needs again (the workflow path is stored with the session)."""
        return {
            "max_iterations": self.max_iterations,
            "args": list(self.args),
            "map_globs": list(self.map_globs),
            "params": dict(self.params),
            "agent": self.agent,
            "profile": self.profile,
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
            **overrides,
        )


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
