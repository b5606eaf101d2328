"""A prodigy store with one repository, session and MapReduce job, for the benchmarks that
fill the DLQ or the event log directly (the same store calls a running job makes)."""

from __future__ import annotations

from pathlib import Path

from prodigy.store import Store, open_store

JOB_ID = "mapreduce-20261125_120000-bench1"
SESSION_ID = "session-00000000-0000-4000-8000-00000000bench"


def job_store(home: Path, repo: Path) -> Store:
    store = open_store(home)
    repo_key = store.repos.ensure(str(repo)).key
    store.sessions.create(
        session_id=SESSION_ID,
        repo_key=repo_key,
        workflow_path=str(repo / "wf.yml"),
        workflow_hash="0" * 64,
        mode="mapreduce",
    )
    store.jobs.create(job_id=JOB_ID, session_id=SESSION_ID)
    return store


def item_events(index: int, failed: bool) -> list[tuple[str, dict[str, object]]]:
    """The five events one item's agent leaves in a job's log (prodigy's payload shapes)."""
    agent, item = f"agent-{index}", f"item_{index}"
    base = {"job_id": JOB_ID, "agent_id": agent, "item_id": item}
    duration = {"secs": 1 + index % 7, "nanos": 250_000_000}
    usage = {
        "input_tokens": 1200,
        "output_tokens": 300,
        "cache_read_input_tokens": 0,
        "cost_usd": 0.0042,
    }
    started = ("agent_started", {**base, "worktree": f"/w/{agent}", "attempt": 1})
    if failed:
        return [
            started,
            (
                "agent_failed",
                {
                    **base,
                    "error": "step 1 (shell: make test) exited 2",
                    "failure_reason": {"CommandFailed": {"exit_code": 2}},
                    "retry_eligible": True,
                    "duration": duration,
                    "attempt": 1,
                    "json_log_location": None,
                    "usage": usage,
                },
            ),
            (
                "d_l_q_item_added",
                {
                    "job_id": JOB_ID,
                    "item_id": item,
                    "failure_count": 1,
                    "error_signature": "CommandFailed::step 1 exited 2",
                },
            ),
            ("worktree_cleaned", {**base, "kept": True}),
            ("agent_progress", {**base, "step": "shell: make test", "progress_pct": 100.0}),
        ]
    return [
        started,
        (
            "agent_completed",
            {
                **base,
                "duration": duration,
                "commits": ["0123abcd" * 5],
                "json_log_location": None,
                "attempt": 1,
                "usage": usage,
            },
        ),
        ("merge_started", {**base, "branch": f"prodigy-agent-{JOB_ID}-{index}"}),
        (
            "merge_completed",
            {**base, "branch": f"prodigy-agent-{JOB_ID}-{index}", "commit": "4567cdef" * 5},
        ),
        ("worktree_cleaned", {**base, "kept": False}),
    ]
