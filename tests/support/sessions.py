"""Real sessions for the inspection command tests: rows in a real store, real git worktrees.

`prodigy run` writes the same rows and worktrees; these helpers write them directly so each
test can set up exactly the state (failed at step 2, crashed, merged, ...) it is about.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.paths import locks_dir, logs_dir, worktrees_dir
from prodigy.core.records import Checkpoint, RunStatus, SessionRecord, StepRecord, UsageRecord
from prodigy.core.records import repo_key as key_of
from prodigy.core.usage import Usage
from prodigy.runtime.locks import LockHandle, acquire_lock, lock_path
from prodigy.store import open_store
from tests.support.repos import commit_file, git, make_repo

WORKFLOW = """\
commands:
  - shell: "echo one"
  - shell: "echo two"
  - claude: "/fix the bug"
"""


def prodigy_home() -> Path:
    return Path(os.environ["PRODIGY_HOME"])


@dataclass(frozen=True)
class Made:
    session: SessionRecord
    repo: Path
    worktree: Path
    branch: str


def new_repo(tmp_path: Path, name: str = "repo") -> Path:
    repo = make_repo(tmp_path / name)
    (repo / "wf.yml").write_text(WORKFLOW)
    git(repo, "add", "wf.yml")
    git(repo, "commit", "-q", "-m", "workflow")
    return repo.resolve()


def make_session(
    repo: Path,
    *,
    status: RunStatus = RunStatus.FAILED,
    done: int = 2,
    failed_step: bool = True,
    worktree: bool = True,
    commits: int = 0,
    tokens: int = 0,
    options: dict[str, object] | None = None,
) -> Made:
    """A session of `repo` that finished `done` steps (and failed the next if failed_step)."""
    home = prodigy_home()
    session_id = f"session-{uuid.uuid4()}"
    key = key_of(str(repo))
    path = worktrees_dir(home) / key / session_id
    branch = f"prodigy-{session_id}"
    workflow = repo / "wf.yml"
    if worktree:
        git(repo, "worktree", "add", "-q", "-b", branch, str(path), "HEAD")
        for n in range(commits):
            commit_file(path, f"work{n}.txt", f"work {n}\n")
    with open_store(home) as store:
        store.repos.ensure(str(repo))
        store.sessions.create(
            session_id=session_id,
            repo_key=key,
            workflow_path=str(workflow),
            workflow_hash=hashlib.sha256(workflow.read_bytes()).hexdigest(),
            worktree_path=str(path),
            branch=branch,
            target_branch="master",
            options=options or {"max_iterations": 1},
            workflow_text=WORKFLOW,
        )
        head = git(repo, "rev-parse", "HEAD").strip()
        for index in range(done):
            step = StepRecord(
                session_id=session_id,
                iteration=1,
                step_index=index,
                step_id=f"shell: echo {index}",
                success=True,
                started_at="2026-11-25T10:00:00Z",
                finished_at="2026-11-25T10:00:01Z",
            )
            cp = Checkpoint(
                session_id=session_id,
                iteration=1,
                next_step_index=index + 1,
                completed_step_ids=(),
                variables={"shell": {"output": "x"}, "secret": "***"},
                git_head=head,
                workflow_hash="h",
            )
            store.checkpoints.save(cp, step=step)
        if failed_step:
            store.checkpoints.record_step(
                StepRecord(
                    session_id=session_id,
                    iteration=1,
                    step_index=done,
                    step_id="claude: /fix the bug",
                    success=False,
                    started_at="2026-11-25T10:00:02Z",
                    finished_at="2026-11-25T10:00:03Z",
                    error="claude exited with status 1\nmore detail",
                )
            )
        if tokens:
            store.usage.record(
                UsageRecord(
                    session_id=session_id,
                    step_id="claude: /fix the bug",
                    usage=Usage(
                        input_tokens=tokens,
                        output_tokens=50,
                        cost_usd=0.0125,
                        model="claude-sonnet",
                    ),
                    log_path=str(logs_dir(home) / key / session_id / "001-claude.jsonl"),
                )
            )
        if status is not RunStatus.RUNNING:
            store.sessions.set_status(session_id, status, error="step 3 failed")
        record = store.sessions.require(session_id)
    return Made(record, repo, path.resolve(), branch)


@contextmanager
def running(session_id: str) -> Iterator[LockHandle]:
    """Holds the session's lock as `prodigy run` does while it works."""
    path = lock_path(locks_dir(prodigy_home()), session_id)
    with acquire_lock(path, owner=f"prodigy run {session_id}") as handle:
        yield handle
