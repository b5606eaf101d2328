"""What the dashboard shows, computed from the store only (never from processes).

Every function takes a read-only store and `now`, and returns JSON-ready dicts that both the
HTML pages and the JSON API use, so the two can never disagree.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prodigy.app.paths import logs_dir
from prodigy.app.session.state import parse_ts
from prodigy.core.clock import format_ts
from prodigy.store.readonly import ReadOnlyStore, Row

# Gas Town's colours for the time since the last event of something still running:
# green below 2 minutes, yellow up to 5, red ("stuck") beyond.
STUCK_YELLOW_S = 120.0
STUCK_RED_S = 300.0

# Item states that are finished for the job's progress count.
_DONE_STATES = ("merged", "dead_lettered", "failed")
_TAIL_CHARS = 4000
LOG_SCAN = 5000


def staleness(last: str | None, now: datetime, *, running: bool) -> dict[str, Any]:
    """Age of the last activity and its colour; only running things can be stuck."""
    moment = parse_ts(last)
    age = None if moment is None else max(0.0, (now - moment).total_seconds())
    colour = None
    if running and age is not None:
        colour = "green" if age < STUCK_YELLOW_S else "yellow" if age <= STUCK_RED_S else "red"
    return {"last_activity_at": last, "age_s": age, "colour": colour, "stuck": colour == "red"}


def _pause(row: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """A paused session's reason and seconds until it resumes (columns of a later schema)."""
    if row.get("status") != "paused" and not row.get("pause_reason"):
        return None
    resume_at = row.get("resume_at")
    moment = parse_ts(resume_at)
    left = None if moment is None else max(0.0, (moment - now).total_seconds())
    return {"reason": row.get("pause_reason"), "resume_at": resume_at, "resumes_in_s": left}


def job_summary(job: Row, now: datetime) -> dict[str, Any]:
    counts: dict[str, int] = job.get("item_counts") or {}
    total = int(job.get("total_items") or 0)
    done = sum(counts.get(s, 0) for s in _DONE_STATES)
    running = job.get("status") == "running"
    return {
        "id": job["id"],
        "session_id": job["session_id"],
        "workflow": Path(job.get("workflow_path") or "").name,
        "status": job["status"],
        "phase": job["phase"],
        "progress": {"done": done, "total": total},
        "counts": {
            "pending": counts.get("pending", 0),
            "running": counts.get("running", 0),
            "merged": counts.get("merged", 0),
            "failed": counts.get("failed", 0) + counts.get("dead_lettered", 0),
            "dlq": int(job.get("dlq_count") or 0),
        },
        "cost_usd": round(float(job.get("cost_usd") or 0.0), 6),
        "created_at": job["created_at"],
        "finished_at": job.get("finished_at"),
        "error": job.get("error"),
        "paused": _pause({**job, "status": job.get("session_status")}, now) or _pause(job, now),
        "activity": staleness(
            job.get("last_event_at") or job.get("updated_at"), now, running=running
        ),
    }


def session_summary(row: Row, now: datetime) -> dict[str, Any]:
    return {
        "id": row["id"],
        "workflow": Path(row.get("workflow_path") or "").name,
        "mode": row.get("mode"),
        "status": row["status"],
        "job_id": row.get("job_id"),
        "started_at": row["started_at"],
        "finished_at": row.get("finished_at"),
        "cost_usd": round(float(row.get("cost_usd") or 0.0), 6),
        "error": row.get("error"),
        "paused": _pause(row, now),
        "activity": staleness(row.get("updated_at"), now, running=row["status"] == "running"),
    }


def overview(ro: ReadOnlyStore | None, now: datetime, *, limit: int = 100) -> dict[str, Any]:
    """The `/` page and `/api/jobs`: the newest jobs and sessions."""
    if ro is None:
        return {"jobs": [], "sessions": [], "last_event_id": None}
    newest = ro.recent_events(job_id=None, limit=1)
    return {
        "jobs": [job_summary(j, now) for j in ro.jobs(limit)],
        "sessions": [session_summary(s, now) for s in ro.sessions(limit)],
        "last_event_id": newest[-1]["id"] if newest else None,
    }


def job_detail(
    ro: ReadOnlyStore, job_id: str, now: datetime, *, items: int = 500, events: int = 100
) -> dict[str, Any] | None:
    """The `/jobs/JOB` page and `/api/jobs/JOB`: items, merge queue, DLQ, newest events."""
    job = ro.job(job_id)
    if job is None:
        return None
    activity = ro.item_activity(job_id)
    rows = []
    for item in ro.items(job_id, items):
        last = max(filter(None, (activity.get(item["item_id"]), item["updated_at"])))
        rows.append(
            {
                "item_id": item["item_id"],
                "index": item["idx"],
                "state": item["state"],
                "attempts": item["attempts"],
                "agent": item.get("agent_branch"),
                "cost_usd": round(float(item["cost_usd"] or 0.0), 6),
                "error": item.get("error"),
                "merge_commit": item.get("merge_commit"),
                "started_at": item.get("started_at"),
                "finished_at": item.get("finished_at"),
                "activity": staleness(last, now, running=item["state"] == "running"),
            }
        )
    recent = ro.recent_events(job_id=job_id, limit=events)
    return {
        "job": job_summary(job, now),
        "items": rows,
        "items_shown": len(rows),
        # waiting for the merge queue: finished agents whose branch has not landed yet
        "merge_queue": [r for r in rows if r["state"] == "succeeded"],
        "dlq": [dlq_entry(e) for e in ro.dlq(job_id=job_id)],
        "events": [event_json(e) for e in recent],
        "last_event_id": recent[-1]["id"] if recent else None,
    }


def event_json(event: Row) -> dict[str, Any]:
    return {
        "id": event["id"],
        "seq": event["seq"],
        "ts": event["ts"],
        "job_id": event.get("job_id"),
        "session_id": event.get("session_id"),
        "agent_id": event.get("agent_id"),
        "event_type": event["event_type"],
        "payload": event.get("payload"),
    }


def dlq_entry(row: Row) -> dict[str, Any]:
    history = row.get("failure_history") or []
    last = history[-1] if history and isinstance(history[-1], dict) else {}
    return {
        "job_id": row["job_id"],
        "item_id": row["item_id"],
        "failure_count": row["failure_count"],
        "first_attempt": row["first_attempt"],
        "last_attempt": row["last_attempt"],
        "error_signature": row["error_signature"],
        "eligible": bool(row["reprocess_eligible"]),
        "manual_review": bool(row["manual_review_required"]),
        "last_error": str(last.get("error_message", "")),
        "log": last.get("json_log_location"),
        "failure_history": history,
        "item_data": row.get("item_data"),
    }


def dlq_groups(ro: ReadOnlyStore | None, job_id: str | None = None) -> list[dict[str, Any]]:
    """The `/dlq` page: failed items grouped by error signature, biggest group first."""
    if ro is None:
        return []
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in ro.dlq(job_id=job_id):
        groups.setdefault(row["error_signature"], []).append(dlq_entry(row))
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [{"signature": sig, "count": len(entries), "items": entries} for sig, entries in ordered]


def _tail(text: str | None) -> str | None:
    if text is None or len(text) <= _TAIL_CHARS:
        return text
    return "…" + text[-_TAIL_CHARS:]


def log_files(home: Path, repo_key: str, session_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The session's agent logs under `logs/<repo-key>/<session-id>/` (app/inspect/logs.py;
    a MapReduce job's agents log one folder deeper), last written first: a running agent's
    log grows. At most LOG_SCAN entries are looked at."""
    root = logs_dir(home).resolve()
    folder = (root / repo_key / session_id).resolve()
    if folder.parent.parent != root or not folder.is_dir():  # ids are data, never a path
        return []
    found = []
    for path in itertools.islice(folder.rglob("*"), LOG_SCAN):
        with contextlib.suppress(OSError):
            stat = path.stat()
            if path.is_file():
                found.append((stat.st_mtime, path, stat.st_size))
    found.sort(key=lambda entry: (entry[0], str(entry[1])), reverse=True)
    return [
        {
            "name": str(path.relative_to(folder)),
            "path": str(path),
            "size": size,
            "modified": format_ts(datetime.fromtimestamp(mtime, UTC)),
        }
        for mtime, path, size in found[:limit]
    ]


def session_detail(
    ro: ReadOnlyStore, session_id: str, now: datetime, *, home: Path
) -> dict[str, Any] | None:
    """The `/sessions/SESSION` page and `/api/sessions/SESSION`: steps, outputs, agent logs."""
    row = ro.session(session_id)
    if row is None:
        return None
    return {
        "logs": log_files(home, row["repo_key"], session_id),
        "session": session_summary(row, now),
        "workflow_path": row.get("workflow_path"),
        "branch": row.get("branch"),
        "worktree": row.get("worktree_path"),
        "steps": [
            {
                "iteration": s["iteration"],
                "index": s["step_index"],
                "step": s["step_id"],
                "success": bool(s["success"]),
                "started_at": s["started_at"],
                "finished_at": s["finished_at"],
                "output_tail": _tail(s.get("output")),
                "error": _tail(s.get("error")),
            }
            for s in ro.steps(session_id)
        ],
        "agent_runs": [
            {
                "step": u["step_id"],
                "item_id": u.get("item_id"),
                "cost_usd": round(float(u["cost_usd"] or 0.0), 6),
                "tokens": int(u["input_tokens"]) + int(u["output_tokens"]),
                "duration_ms": u["duration_ms"],
                "log": u.get("log_path"),
            }
            for u in ro.usage(session_id)
        ],
    }
