"""Each retried attempt of a step is recorded in the event log, not only shown."""

from __future__ import annotations

import json
import sqlite3

from tests.support.scenario import Scenario


def test_retry_attempts_are_events(sc: Scenario) -> None:
    wf = sc.workflow(
        "retry-events",
        """
        commands:
          - shell: test -f "$HOME/second" || { touch "$HOME/second"; echo boom >&2; exit 1; }
            retry:
              attempts: 3
              initial_delay: 0.1s
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "attempt 1/3 failed" in run.output
    db = sqlite3.connect(sc.home / ".prodigy" / "prodigy.db")
    rows = db.execute(
        "SELECT session_id, payload FROM events WHERE event_type = 'step_retry_scheduled'"
    ).fetchall()
    assert len(rows) == 1
    session, payload = rows[0]
    assert session == run.session_id()
    assert json.loads(payload)["attempt"] == 1
