"""Secrets never reach the database files: every write goes through the store's Masker."""

from __future__ import annotations

import base64
from pathlib import Path

from prodigy.core.masking import Masker
from prodigy.core.records import Checkpoint, ItemState, StepRecord
from prodigy.store import open_store

SECRET = "sk-live-51HcQ2xTOPSECRET"
LATE_SECRET = "ghp_latesecret0123456789"


def _all_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.iterdir()) if p.is_file())


def _write_everything(home: Path, secret: str) -> None:
    with open_store(home, masker=Masker([secret])) as store:
        _write_with(store, secret)


def _write_with(store, secret: str) -> None:  # type: ignore[no-untyped-def]
    repo = store.repos.ensure("/src/app")
    sid = f"s-{len(store.sessions.find())}"
    store.sessions.create(session_id=sid, repo_key=repo.key, workflow_path="/src/app/wf.yml",
                          workflow_hash="h")  # fmt: skip
    store.checkpoints.save(
        Checkpoint(session_id=sid, iteration=1, next_step_index=1, completed_step_ids=("s0",),
                   variables={"token": secret, "note": f"Bearer {secret}"}, git_head=None,
                   workflow_hash="h"),
        step=StepRecord(session_id=sid, iteration=1, step_index=0, step_id="shell: deploy",
                        success=True, started_at="t0", finished_at="t1",
                        output=f"using {secret}", captured={"token": secret}),
    )  # fmt: skip
    job = f"job-{sid}"
    store.jobs.create(job_id=job, session_id=sid)
    store.jobs.set_setup_captures(job, {"key": secret})
    store.items.add(job, [("a", {"cred": secret})])
    store.items.transition(job, "a", ItemState.RUNNING)
    store.items.transition(job, "a", ItemState.FAILED, error=f"401 for {secret}",
                           result={"output": secret})  # fmt: skip
    store.dlq.add_failure(job_id=job, item_id="a", item_data={"cred": secret},
                          failure={"error_message": secret}, error_signature=secret)  # fmt: skip
    store.events.append("agent_failed", {"error": f"auth {secret}"}, job_id=job)
    store.sessions.set_status(sid, store.sessions.require(sid).status.FAILED, error=secret)


def test_a_secret_in_any_written_field_is_not_in_the_database_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write_everything(home, SECRET)
    raw = _all_bytes(home)
    assert SECRET.encode() not in raw
    assert base64.b64encode(SECRET.encode()) not in raw
    assert b"***" in raw  # the rows are there, masked
    with open_store(home) as store:
        latest = store.checkpoints.latest("s-0")
        assert latest is not None
        assert latest.variables == {"token": "***", "note": "Bearer ***"}


def test_secrets_added_later_are_masked_in_later_writes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with open_store(home) as store:
        store.add_secrets([LATE_SECRET])
        assert store.masker.text(f"x{LATE_SECRET}x") == "x***x"
        _write_with(store, LATE_SECRET)
    assert LATE_SECRET.encode() not in _all_bytes(home)


def test_without_the_masker_the_secret_would_be_stored(tmp_path: Path) -> None:
    # guards the tests above: the byte search finds an unmasked value
    home = tmp_path / "home"
    with open_store(home) as store:
        _write_with(store, SECRET)
    assert SECRET.encode() in _all_bytes(home)
