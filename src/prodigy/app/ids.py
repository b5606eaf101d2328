"""The one place a session or job id typed by a user becomes a stored record.

Every command that takes an id accepts the full id, the id without its `session-` or
`mapreduce-` prefix, or a unique prefix of either. A MapReduce session and its job name
each other, so a command that wants a session also takes its job id and the other way
round. An id that matches nothing, or several records, is a usage error (exit 2) that
lists the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable

from prodigy.core.errors import UsageError
from prodigy.core.records import JobRecord, SessionRecord
from prodigy.store import Store

SESSION_PREFIX = "session-"
JOB_PREFIX = "mapreduce-"
_SHOWN = 10  # candidates listed for an ambiguous prefix


class UnknownIdError(UsageError):
    """An id (or prefix) that matches no stored session or job, or several."""


def _matches(text: str, ids: Iterable[str], prefix: str) -> list[str]:
    wanted = text.strip()
    if not wanted:
        return []
    exact = [i for i in ids if i in (wanted, f"{prefix}{wanted}")]
    if exact:
        return exact
    return [i for i in ids if i.startswith((wanted, f"{prefix}{wanted}"))]


def sessions_matching(store: Store, text: str) -> list[SessionRecord]:
    """Every session `text` could name (by its id or its job's id)."""
    sessions = {s.id: s for s in store.sessions.find()}
    found = dict.fromkeys(_matches(text, sessions, SESSION_PREFIX))
    if not found:  # a job id names its session
        for job_id in _matches(text, [j.id for j in store.jobs.find()], JOB_PREFIX):
            job = store.jobs.get(job_id)
            if job is not None and job.session_id in sessions:
                found[job.session_id] = None
    return [sessions[i] for i in found]


def _candidates(text: str, what: str, lines: list[str]) -> UnknownIdError:
    shown = "\n".join(f"  {line}" for line in lines[:_SHOWN])
    more = f"\n  ... and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    return UnknownIdError(
        f"{text!r} matches {len(lines)} {what}; give more of the id:\n{shown}{more}"
    )


def resolve_session(store: Store, text: str) -> SessionRecord:
    """The session named by `text`: a session id or prefix, or its MapReduce job's id."""
    found = sessions_matching(store, text)
    if len(found) == 1:
        return found[0]
    if not found:
        raise UnknownIdError(
            f"no session {text.strip()!r} in {store.path}; "
            "`prodigy sessions ls --all` lists every session"
        )
    raise _candidates(text, "sessions", [_session_line(s) for s in found])


def _session_line(session: SessionRecord) -> str:
    return f"{session.id}  {session.status}  {session.started_at[:16].replace('T', ' ')}"


def resolve_job(store: Store, text: str) -> JobRecord:
    """The MapReduce job named by `text`: a job id or prefix, or its session's id."""
    jobs = {j.id: j for j in store.jobs.find()}
    found = [jobs[i] for i in _matches(text, jobs, JOB_PREFIX)]
    if not found:
        sessions = sessions_matching(store, text)
        found = [j for s in sessions for j in jobs.values() if j.session_id == s.id]
        if not found and len(sessions) == 1:
            raise UnknownIdError(f"{sessions[0].id} is not a MapReduce session: it has no job")
    if len(found) == 1:
        return found[0]
    if not found:
        raise UnknownIdError(
            f"no MapReduce job {text.strip()!r} in {store.path}; "
            "`prodigy sessions ls --all` lists sessions and their jobs"
        )
    raise _candidates(
        text, "jobs", [f"{j.id}  {j.status}  (session {j.session_id})" for j in found]
    )


def job_filter(store: Store, text: str | None) -> str | None:
    """A `--job` filter as a full job id. A job whose record is gone (its DLQ items or
    events may outlive it) is taken as written, for the command to judge."""
    if text is None:
        return None
    try:
        return resolve_job(store, text).id
    except UnknownIdError as exc:
        if str(exc).startswith("no MapReduce job"):
            return text.strip()
        raise
