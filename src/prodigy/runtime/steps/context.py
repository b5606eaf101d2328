"""Everything a step needs from its run that is not the step itself."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prodigy.core.budget import SpendGate
from prodigy.core.config import Config
from prodigy.core.errors import StepFailedError
from prodigy.core.masking import Masker
from prodigy.core.progress import Reporter
from prodigy.runtime.agents.base import Agent

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class StepContext:
    """The place, environment and services one run hands to each of its steps."""

    worktree: Path  # steps run here; working_dir must stay inside it
    env: Mapping[str, str]  # complete base environment of children (user env + workflow env)
    agent: Agent
    # the configuration agents read their settings from, for steps that name their own `agent:`
    agent_config: Config | None = None
    agent_override: bool = False  # `--agent` was given: it wins over every step's `agent:`
    git_variables: bool = True  # compute ${step.*}/${workflow.*} after each step
    reporter: Reporter
    masker: Masker
    log_dir: Path  # agent stream logs of this session
    # Private scratch space for values too large for the environment (0700, under
    # PRODIGY_HOME, never the shared system temp dir: they can hold secrets). None: the
    # system temp dir, for callers outside a session.
    scratch_dir: Path | None = None
    session_id: str
    default_timeout: float | None = None
    grace_period: float = 5.0
    verbosity: int = 0
    # the budget agent calls are checked against and charged to (None: no budget)
    spend: SpendGate | None = None
    _log_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def log_path(self, label: str) -> Path:
        """A fresh, readable log file name for one agent call of this run."""
        slug = _UNSAFE.sub("-", label).strip("-")[:48] or "step"
        while True:  # a resumed session counts from 1 again: never reuse an earlier log's number
            number = next(self._log_seq)
            if not any(self.log_dir.glob(f"{number:03d}-*")):
                return self.log_dir / f"{number:03d}-{slug}.jsonl"

    def inside(self, relative: str, base: Path | None = None) -> Path:
        """`relative` resolved from base (default: the worktree); leaving the worktree is an error.

        One check covers absolute paths, `..` escapes and symlinks pointing outside.
        """
        root = self.worktree.resolve()
        target = ((base or root) / relative).resolve()
        if target != root and root not in target.parents:
            raise StepFailedError(f"path {relative!r} leaves the worktree {root}")
        return target
