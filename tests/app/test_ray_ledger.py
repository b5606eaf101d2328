"""The Ray runner accepts only the attempt the item's ledger row names (no Ray needed)."""

from __future__ import annotations

from pathlib import Path

from prodigy.app.mapreduce.ray_runner import is_current
from prodigy.core.records import ItemState
from prodigy.runtime.remote.coordinator import incoming_ref
from prodigy.store import open_store


def test_a_stale_attempts_result_is_not_current(tmp_path: Path) -> None:
    with open_store(tmp_path / "home") as store:
        repo = store.repos.ensure("/work/demo")
        store.sessions.create(
            session_id="s", repo_key=repo.key, workflow_path="/work/demo/wf.yml", workflow_hash="h"
        )
        store.jobs.create(job_id="job", session_id="s")
        store.items.add("job", [("item_0", {"n": 0})])
        assert not is_current(store, "job", "item_0", 1)  # not submitted yet

        store.items.transition(
            "job", "item_0", ItemState.RUNNING, agent_branch=incoming_ref("job", "item_0", 1)
        )
        assert is_current(store, "job", "item_0", 1)

        # attempt 1 was given up (lost node, watchdog); attempt 2 is submitted
        store.items.transition("job", "item_0", ItemState.FAILED)
        store.items.transition("job", "item_0", ItemState.PENDING)
        store.items.transition(
            "job", "item_0", ItemState.RUNNING, agent_branch=incoming_ref("job", "item_0", 2)
        )

        assert not is_current(store, "job", "item_0", 1)  # attempt 1's late result: ignored
        assert is_current(store, "job", "item_0", 2)
