"""Helpers for step-language runtime tests: load steps from YAML, run them in a real repo."""

from __future__ import annotations

import asyncio
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from prodigy.cli.display import describe
from prodigy.core.masking import Masker
from prodigy.core.progress import ProgressEvent, RetryScheduled
from prodigy.core.variables import Scope
from prodigy.core.workflow import Step, Workflow, load_workflow
from prodigy.runtime.agents import get_agent
from prodigy.runtime.agents.base import AgentSettings
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.runner import StepOutcome, run_step
from tests.support.repos import make_repo


@dataclass
class Recorder:
    """A Reporter that keeps every event."""

    events: list[ProgressEvent] = field(default_factory=list)

    def emit(self, event: ProgressEvent) -> None:
        self.events.append(event)

    def texts(self) -> list[str]:
        """Note texts, and retry attempts as the display shows them."""
        return [
            describe(e, 0) or "" if isinstance(e, RetryScheduled) else str(getattr(e, "text", ""))
            for e in self.events
        ]


def load(tmp: Path, text: str) -> Workflow:
    path = tmp / "wf.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_workflow(path).workflow


def steps(tmp: Path, text: str) -> tuple[Step, ...]:
    return load(tmp, text).steps


def context(worktree: Path, reporter: Recorder | None = None, secrets: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """A StepContext on `worktree` with the scripted agent and the test process env."""
    return StepContext(
        worktree=worktree,
        env=dict(os.environ),
        agent=get_agent("scripted", AgentSettings()),
        reporter=reporter or Recorder(),
        masker=Masker(secrets),
        log_dir=worktree.parent / "logs",
        session_id="session-test",
        grace_period=0.5,
    )


EMPTY = Scope({})


def run_first_step(
    tmp: Path, yaml: str, scope: Scope = EMPTY, reporter: Recorder | None = None
) -> tuple[Path, StepOutcome, Recorder]:
    """Run the first step of the workflow `yaml` in a fresh repository tmp/repo."""
    repo = make_repo(tmp / "repo")
    reporter = reporter or Recorder()
    step = steps(tmp, yaml)[0]
    return repo, asyncio.run(run_step(step, scope, context(repo, reporter), index=0)), reporter
