"""Events are written in the same transaction as the state they describe (issue 18 target 1):
a crash at any point of an item's life leaves no state without its event and no event
without its state, and resuming still lands every item once."""

from __future__ import annotations

import pytest
from tests.support.reliability import CRASH_EXIT, CrashRepo, item_workflow

FAILING_AGENT = """\
- shell: test "${item.id}" != k003
"""


def _items_with(cr: CrashRepo, event_type: str) -> set[str]:
    rows = cr.query(
        "SELECT json_extract(payload, '$.item_id') AS item FROM events"
        " WHERE event_type = ? AND job_id = ?",
        event_type,
        cr.job_id(),
    )
    return {row["item"] for row in rows}


def _items_in(cr: CrashRepo, *states: str) -> set[str]:
    marks = ", ".join("?" * len(states))
    rows = cr.query(
        f"SELECT item_id FROM items WHERE job_id = ? AND state IN ({marks})",
        cr.job_id(),
        *states,
    )
    return {row["item_id"] for row in rows}


def _state_and_events_agree(cr: CrashRepo) -> None:
    assert _items_in(cr, "succeeded", "merged") == _items_with(cr, "agent_completed")
    assert _items_in(cr, "merged") == _items_with(cr, "merge_completed")
    dead = _items_in(cr, "dead_lettered")
    assert dead == _items_with(cr, "d_l_q_item_added")
    dlq = {r["item_id"] for r in cr.query("SELECT item_id FROM dlq WHERE job_id = ?", cr.job_id())}
    assert dead == dlq


@pytest.mark.parametrize(
    ("point", "n"),
    [
        ("after-agent-commit", 2),  # agent state and agent_completed: one transaction
        ("after-merge-before-journal", 2),  # merged state and merge_completed: one transaction
        ("mid-dlq-add", 1),  # DLQ row, state and d_l_q_item_added: one transaction
    ],
)
def test_a_crash_keeps_state_and_its_event_together(cr: CrashRepo, point: str, n: int) -> None:
    cr.numbered(5)
    cr.write_workflow(item_workflow(max_parallel=1, extra_agent=FAILING_AGENT))
    crashed = cr.crash_run(point, n)
    assert crashed.returncode == CRASH_EXIT, crashed.stdout + crashed.stderr
    _state_and_events_agree(cr)
    resumed = cr.resume()
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check = cr.check(expect_items=[f"item_{i}" for i in range(5)])
    assert check.dlq == {"item_2"} and len(check.landed) == 4
    assert _items_in(cr, "dead_lettered") == _items_with(cr, "d_l_q_item_added") == {"item_2"}
