"""The schema as versioned migrations. Append new ones; never edit a released one.

Migration N brings `PRAGMA user_version` from N-1 to N; each runs in one transaction.
JSON columns hold JSON text; timestamps are fixed-width RFC 3339 UTC strings.
"""

from __future__ import annotations

_V1 = (
    """CREATE TABLE repositories (
        key TEXT PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        repo_key TEXT NOT NULL REFERENCES repositories(key),
        workflow_path TEXT NOT NULL,
        workflow_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        mode TEXT NOT NULL,
        worktree_path TEXT,
        branch TEXT,
        target_branch TEXT,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        error TEXT,
        iteration INTEGER NOT NULL DEFAULT 1,
        job_id TEXT
    )""",
    "CREATE INDEX sessions_by_repo ON sessions(repo_key, started_at)",
    """CREATE TABLE steps (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        step_index INTEGER NOT NULL,
        step_id TEXT NOT NULL,
        success INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        output TEXT,
        error TEXT,
        captured TEXT NOT NULL,
        PRIMARY KEY (session_id, iteration, step_index)
    )""",
    """CREATE TABLE checkpoints (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        next_step_index INTEGER NOT NULL,
        completed_step_ids TEXT NOT NULL,
        variables TEXT NOT NULL,
        git_head TEXT,
        workflow_hash TEXT NOT NULL,
        saved_at TEXT NOT NULL
    )""",
    "CREATE INDEX checkpoints_by_session ON checkpoints(session_id, seq)",
    """CREATE TABLE usage (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        job_id TEXT,
        item_id TEXT,
        step_id TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        turns INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_creation_input_tokens INTEGER NOT NULL,
        cache_read_input_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        model TEXT,
        claude_session_id TEXT,
        log_path TEXT,
        recorded_at TEXT NOT NULL
    )""",
    "CREATE INDEX usage_by_session ON usage(session_id)",
    "CREATE INDEX usage_by_job ON usage(job_id, item_id)",
    """CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        phase TEXT NOT NULL,
        status TEXT NOT NULL,
        setup_captures TEXT NOT NULL,
        parent_worktree TEXT,
        parent_branch TEXT,
        parent_head TEXT,
        total_items INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        error TEXT
    )""",
    """CREATE TABLE items (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        agent_branch TEXT,
        agent_worktree TEXT,
        result TEXT NOT NULL DEFAULT 'null',
        error TEXT,
        merge_commit TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        PRIMARY KEY (job_id, item_id),
        UNIQUE (job_id, idx)
    )""",
    "CREATE INDEX items_by_state ON items(job_id, state)",
    """CREATE TABLE dlq (
        job_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        item_data TEXT NOT NULL,
        first_attempt TEXT NOT NULL,
        last_attempt TEXT NOT NULL,
        failure_count INTEGER NOT NULL,
        failure_history TEXT NOT NULL,
        error_signature TEXT NOT NULL,
        worktree_artifacts TEXT NOT NULL,
        reprocess_eligible INTEGER NOT NULL,
        manual_review_required INTEGER NOT NULL,
        PRIMARY KEY (job_id, item_id)
    )""",
    "CREATE INDEX dlq_by_last_attempt ON dlq(last_attempt)",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        ts TEXT NOT NULL,
        job_id TEXT,
        session_id TEXT,
        agent_id TEXT,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL
    )""",
    "CREATE INDEX events_by_job ON events(job_id, seq)",
    "CREATE INDEX events_by_type ON events(event_type, seq)",
    "CREATE INDEX events_by_ts ON events(ts)",
    """CREATE TABLE worktrees (
        path TEXT PRIMARY KEY,
        repo_key TEXT NOT NULL,
        branch TEXT NOT NULL,
        state TEXT NOT NULL,
        session_id TEXT,
        job_id TEXT,
        item_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX worktrees_by_repo ON worktrees(repo_key, state)",
)

# The DLQ outlives its job on purpose (retry after `clean`), so it has no foreign key to jobs.
# v2: what resume needs to run a session again exactly as started: the run's options (args,
# iterations, params, agent) and the workflow text it started from (masked), for the diff
# shown when the file changed.
_V2 = (
    "ALTER TABLE sessions ADD COLUMN options TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE sessions ADD COLUMN workflow_text TEXT",
)

# v3 (issue 12): sealed copies of values that held a secret, so re-execution gets the real
# value while the readable columns stay masked (store/sealing.py).
_V3 = (
    "ALTER TABLE checkpoints ADD COLUMN sealed_variables BLOB",
    "ALTER TABLE jobs ADD COLUMN sealed_setup_captures BLOB",
    "ALTER TABLE items ADD COLUMN sealed_data BLOB",
    "ALTER TABLE items ADD COLUMN sealed_result BLOB",
)

# v4 (issue 12): the run's options sealed too: `--args` holding a secret must reach a
# resumed run as the real value.
_V4 = ("ALTER TABLE sessions ADD COLUMN sealed_options BLOB",)

# v5: agents other than Claude (issue 15): reasoning tokens, and whether a cost was reported
# by the agent, estimated from prodigy's price table, or unknown.
_V5 = (
    "ALTER TABLE usage ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE usage ADD COLUMN cost_source TEXT",
)

# v6: the process group of every step that is running (setup, reduce, sequential, merge),
# written before the step starts, so a resume after a crash stops a step the dead run left
# running instead of running it a second time beside it. `marker` is also in the step's
# environment; `start_ticks` (from /proc) tells the group's leader from a recycled pid.
_V6 = (
    """CREATE TABLE step_processes (
        marker TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        pgid INTEGER,
        start_ticks INTEGER,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX step_processes_by_session ON step_processes(session_id)",
)

# v7 (issue 14): a session paused by its budget or by the agent's usage limit (quota):
# why, and for a quota, when the limit resets (ISO UTC); `resume-job` reads both.
_V7 = (
    "ALTER TABLE sessions ADD COLUMN pause_reason TEXT",
    "ALTER TABLE sessions ADD COLUMN resume_at TEXT",
)

# v8 (issue 18): each job's DLQ size, kept by triggers in the transaction that changes it.
# The map phase asks "is the DLQ full?" before every dead-lettering; a COUNT(*) walks the
# job's index entries, so the 10,000th add paid for 10,000. (An upsert that records a repeat
# failure takes its DO UPDATE path: no INSERT trigger fires, and the size is unchanged.)
_V8 = (
    "CREATE TABLE dlq_sizes (job_id TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO dlq_sizes SELECT job_id, COUNT(*) FROM dlq GROUP BY job_id",
    """CREATE TRIGGER dlq_size_up AFTER INSERT ON dlq BEGIN
        INSERT INTO dlq_sizes (job_id, size) VALUES (NEW.job_id, 1)
        ON CONFLICT (job_id) DO UPDATE SET size = size + 1;
    END""",
    """CREATE TRIGGER dlq_size_down AFTER DELETE ON dlq BEGIN
        UPDATE dlq_sizes SET size = size - 1 WHERE job_id = OLD.job_id;
    END""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
SCHEMA_VERSION = len(MIGRATIONS)
