"""The dashboard's buttons: retry DLQ items, resume a job, cancel a running job.

Retry and resume run the very command a user would type (`prodigy dlq retry JOB -y`,
`prodigy resume-job JOB -y`) as a background process of its own, detached from the
dashboard, so closing the dashboard does not stop them. Its output goes to a log under
`$PRODIGY_HOME/logs/dashboard/`. The dashboard itself never writes to the store.
Cancel signals the job's running process as `app.session.cancel.cancel_session` describes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodigy.app.paths import logs_dir
from prodigy.app.session.cancel import cancel_session
from prodigy.app.session.state import live_holder
from prodigy.core.clock import utc_now
from prodigy.core.errors import ProdigyError, UsageError
from prodigy.runtime.process import spawn_detached
from prodigy.store.readonly import ReadOnlyStore

# How the background process starts prodigy: this interpreter, so the same installation runs.
PRODIGY_ARGV = (sys.executable, "-m", "prodigy")
_FILE_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UnknownJobError(UsageError):
    """No such job in the store."""


class ConflictError(ProdigyError):
    """The action does not fit the job's state now (e.g. retry while it runs)."""


@dataclass(frozen=True, slots=True)
class Started:
    """A background prodigy process the dashboard started."""

    action: str
    job_id: str
    pid: int
    argv: tuple[str, ...]
    log: str

    def json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "job_id": self.job_id,
            "pid": self.pid,
            "command": " ".join(["prodigy", *self.argv[len(PRODIGY_ARGV) :]]),
            "log": self.log,
        }


def _job(ro: ReadOnlyStore | None, job_id: str) -> dict[str, Any]:
    job = ro.job(job_id) if ro is not None else None
    if job is None:
        raise UnknownJobError(f"no MapReduce job {job_id!r}")
    return job


def _not_running(home: Path, job: Mapping[str, Any], what: str) -> None:
    holder = live_holder(home, job["session_id"])
    if holder is not None:
        raise ConflictError(
            f"cannot {what} {job['id']}: a prodigy process is running it ({holder.describe()});"
            " wait for it or cancel it"
        )


def _start(
    ro: ReadOnlyStore,
    action: str,
    job: Mapping[str, Any],
    args: Sequence[str],
    *,
    home: Path,
    env: Mapping[str, str],
) -> Started:
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%f")
    log = logs_dir(home) / "dashboard" / f"{action}-{_FILE_SAFE.sub('_', job['id'])}-{stamp}.log"
    repo = ro.repo_path(job["repo_key"])
    cwd = Path(repo) if repo and Path(repo).is_dir() else home
    argv = (*PRODIGY_ARGV, *args)
    pid = spawn_detached(list(argv), cwd=cwd, env=env, log_path=log)
    return Started(action, job["id"], pid, argv, str(log))


def retry(
    ro: ReadOnlyStore | None,
    home: Path,
    env: Mapping[str, str],
    job_id: str,
    item_ids: Sequence[str] = (),
) -> Started:
    """`prodigy dlq retry JOB [--item ID ...] -y` in the background, after the same checks."""
    job = _job(ro, job_id)
    assert ro is not None
    entries = {e["item_id"]: e for e in ro.dlq(job_id=job_id)}
    unknown = [i for i in item_ids if i not in entries]
    if unknown:
        raise UsageError(f"not in the DLQ of {job_id}: {', '.join(map(repr, unknown))}")
    chosen = [entries[i] for i in item_ids] or list(entries.values())
    if not any(e["reprocess_eligible"] for e in chosen):
        raise ConflictError(f"nothing to retry in {job_id}: no eligible item in its DLQ")
    _not_running(home, job, "retry items of")
    args = ["dlq", "retry", job_id, "-y"]
    for item in dict.fromkeys(item_ids):
        args += ["--item", item]
    return _start(ro, "retry", job, args, home=home, env=env)


def resume(ro: ReadOnlyStore | None, home: Path, env: Mapping[str, str], job_id: str) -> Started:
    """`prodigy resume-job JOB -y` in the background."""
    job = _job(ro, job_id)
    assert ro is not None
    if job["session_status"] in {"completed", "cancelled"}:
        raise ConflictError(f"{job_id} is {job['session_status']}: nothing to resume")
    _not_running(home, job, "resume")
    return _start(ro, "resume", job, ["resume-job", job_id, "-y"], home=home, env=env)


def cancel(ro: ReadOnlyStore | None, home: Path, job_id: str) -> dict[str, Any]:
    """Stop the process running the job (it records the job as interrupted)."""
    job = _job(ro, job_id)
    holder = cancel_session(home, job["session_id"])
    return {"action": "cancel", "job_id": job_id, "pid": holder.pid, "signal": "SIGTERM"}
