"""What is fixed about a session once it exists, and how its steps get their context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.paths import locks_dir, logs_dir, prodigy_home, scratch_dir
from prodigy.app.session.environment import child_env
from prodigy.app.session.event_recorder import RecordingReporter
from prodigy.app.session.merge_plan import MergePlan
from prodigy.app.session.options import RunOptions
from prodigy.core.config import Config
from prodigy.core.git_var_use import uses_git_variables
from prodigy.core.progress import Reporter
from prodigy.core.records import SessionRecord
from prodigy.core.variables import Scope
from prodigy.core.workflow import ClaudeAction, Workflow, all_steps
from prodigy.runtime.agents import agent_from_config, check_agent_available
from prodigy.runtime.steps.context import StepContext
from prodigy.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSetup:
    """Everything fixed about a session once it exists."""

    store: Store
    repo: Path
    workflow: Workflow
    workflow_hash: str
    session_id: str
    worktree: Path
    branch: str
    target: str
    options: RunOptions
    config: Config
    env: Mapping[str, str]
    log_dir: Path

    @property
    def agent_name(self) -> str:
        """--agent, else the workflow's `agent:`, else configuration."""
        return self.options.agent or self.workflow.agent or self.config.agent

    def agent_names(self) -> set[str]:
        """The agents this session's `claude:` steps run with (--agent wins over a step's)."""
        return {
            self.options.agent or s.agent or self.agent_name
            for s in all_steps(self.workflow)
            if isinstance(s.action, ClaudeAction)
        }

    async def check_agent(self) -> None:
        """Fail before anything is created when an agent of a `claude:` step cannot run
        (an unknown name, or a backend that is not installed)."""
        for name in sorted(self.agent_names()):
            await check_agent_available(name, self.config, self.env, label=self.workflow.name)

    def context(self, reporter: Reporter) -> StepContext:
        return StepContext(
            agent_config=self.config,
            git_variables=uses_git_variables(self.workflow),
            worktree=self.worktree,
            env=self.env,
            agent=agent_from_config(self.agent_name, self.config),
            agent_override=self.options.agent is not None,
            reporter=RecordingReporter(reporter, self.store, self.session_id),
            masker=self.store.masker,
            log_dir=self.log_dir,
            scratch_dir=scratch_dir(prodigy_home(self.env), self.session_id),
            session_id=self.session_id,
            default_timeout=self.config.step_timeout,
            grace_period=self.config.grace_period,
            verbosity=self.options.verbosity,
        )

    def plan(self) -> MergePlan:
        return MergePlan(
            repo=self.repo,
            worktree=self.worktree,
            branch=self.branch,
            target=self.target,
            session_id=self.session_id,
            lock_dir=locks_dir(prodigy_home(self.env)),
        )


def setup_from_record(  # noqa: PLR0917 - mirrors SessionSetup's fields
    store: Store,
    record: SessionRecord,
    repo: Path,
    workflow: Workflow,
    options: RunOptions,
    config: Config,
    env: Mapping[str, str],
    scope: Scope,
) -> SessionSetup:
    """The setup of an existing session, for resume and for merging a kept worktree."""
    worktree = Path(str(record.worktree_path))
    return SessionSetup(
        store=store,
        repo=repo,
        workflow=workflow,
        workflow_hash=record.workflow_hash,
        session_id=record.id,
        worktree=worktree,
        branch=str(record.branch),
        target=str(record.target_branch),
        options=options,
        config=config,
        env=child_env(env, workflow, scope, session_id=record.id, worktree=str(worktree)),
        log_dir=logs_dir(prodigy_home(env)) / record.repo_key / record.id,
    )
