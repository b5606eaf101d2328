"""The dashboard's routes through Starlette's TestClient, on jobs made by the real CLI."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.dashboard import (
    TOKEN,
    app_for,
    has_running_item,
    items,
    prodigy_home,
    release,
    start_job,
    stop,
    wait_for,
    wait_for_exit,
)  # fmt: skip
from tests.support.mapreduce import MapReduceRepo

GET_ROUTES = [
    "/", "/jobs/{job}", "/sessions/{session}", "/dlq", "/dlq?job={job}", "/api/jobs",
    "/api/jobs/{job}", "/api/dlq", "/api/dlq?job={job}", "/api/sessions/{session}",
    "/static/dashboard.css", "/static/dashboard.js",
]  # fmt: skip
POST_ROUTES = ["/api/dlq/{job}/retry", "/api/jobs/{job}/resume", "/api/jobs/{job}/cancel"]
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _ids(mr: MapReduceRepo, job: str) -> dict[str, str]:
    session = mr.query("SELECT session_id FROM jobs WHERE id = ?", job)[0]["session_id"]
    return {"job": job, "session": session}


@pytest.fixture
def client(shared_job: tuple[MapReduceRepo, str]) -> TestClient:
    return TestClient(app_for(shared_job[0]), base_url="http://127.0.0.1:8787")


def test_every_route_needs_the_token(
    client: TestClient, shared_job: tuple[MapReduceRepo, str]
) -> None:
    ids = _ids(*shared_job)
    for route in [*GET_ROUTES, "/api/events?job={job}"]:
        url = route.format(**ids)
        assert client.get(url).status_code == 401, url
        bad = client.get(url, headers={"Authorization": "Bearer wrong-token"})
        assert bad.status_code == 401, url
        assert client.get(url + ("&" if "?" in url else "?") + "token=nope").status_code == 401
    for route in POST_ROUTES:
        url = route.format(**ids)
        assert client.post(url, headers={"Origin": "http://127.0.0.1:8787"}).status_code == 401
    denied = client.get("/api/jobs")
    assert "?token=" in denied.json()["error"] and denied.headers["www-authenticate"] == "Bearer"


def test_token_in_the_address_once_then_an_httponly_strict_cookie(client: TestClient) -> None:
    first = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"prodigy_dashboard_8787={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    page = client.get("/")  # the client keeps the cookie, as a browser does
    assert page.status_code == 200 and "MapReduce jobs" in page.text
    assert TOKEN not in page.text  # the token never appears in a page
    kept = client.get(f"/dlq?token={TOKEN}&job=x", follow_redirects=False)
    assert kept.headers["location"] == "/dlq?job=x"


def test_every_get_route_answers_with_the_bearer_token(
    client: TestClient, shared_job: tuple[MapReduceRepo, str]
) -> None:
    ids = _ids(*shared_job)
    for route in GET_ROUTES:
        response = client.get(route.format(**ids), headers=BEARER)
        assert response.status_code == 200, route
    assert client.get("/static/dashboard.js", headers=BEARER).text.startswith("// prodigy")


def test_posts_from_a_foreign_origin_are_refused(
    client: TestClient, shared_job: tuple[MapReduceRepo, str]
) -> None:
    ids = _ids(*shared_job)
    client.get(f"/?token={TOKEN}")  # the browser's cookie
    for route in POST_ROUTES:
        url = route.format(**ids)
        foreign = client.post(url, headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403, url
        assert "dashboard's page" in foreign.json()["error"]
        other_port = client.post(url, headers={"Origin": "http://127.0.0.1:9999"})
        assert other_port.status_code == 403
        # a cookie-authenticated POST without Origin is not what a browser sends: refused
        assert client.post(url).status_code == 403
        # a script with the Bearer token needs no Origin, but a foreign one still fails
        scripted = client.post(url, headers=BEARER | {"Origin": "http://evil.example"})
        assert scripted.status_code == 403
    # unknown job with the right origin: past auth, answered by the action itself
    unknown = client.post("/api/jobs/nope/resume", headers=BEARER)
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]


def test_pages_show_the_job_its_items_and_the_dlq(
    client: TestClient, shared_job: tuple[MapReduceRepo, str]
) -> None:
    mr, job = shared_job
    ids = _ids(mr, job)
    index = client.get("/", headers=BEARER).text
    assert job in index and "completed" in index and "3/3" in index
    page = client.get(f"/jobs/{job}", headers=BEARER).text
    for item in ("item_0", "item_1", "item_2"):
        assert f'data-item="{item}"' in page
    assert 'data-item="item_1" data-state="dead_lettered"' in page
    assert 'data-dlq-item="item_1"' in page and "flaky failure 1/1" in page
    assert "job_completed" in page  # the event timeline
    dlq = client.get("/dlq", headers=BEARER).text
    assert "flaky failure" in dlq and 'data-dlq-item="item_1"' in dlq and job in dlq
    session = client.get(f"/sessions/{ids['session']}", headers=BEARER).text
    assert ids["session"] in session and job in session
    assert client.get("/jobs/no-such-job", headers=BEARER).status_code == 404
    assert client.get("/sessions/no-such", headers=BEARER).status_code == 404


def test_json_api(client: TestClient, shared_job: tuple[MapReduceRepo, str]) -> None:
    mr, job = shared_job
    ids = _ids(mr, job)
    jobs = client.get("/api/jobs", headers=BEARER).json()
    [summary] = [j for j in jobs["jobs"] if j["id"] == job]
    assert summary["progress"] == {"done": 3, "total": 3}
    assert summary["counts"] | {} == {
        "pending": 0,
        "running": 0,
        "merged": 2,
        "failed": 1,
        "dlq": 1,
    }
    assert summary["status"] == "completed" and summary["activity"]["colour"] is None
    detail = client.get(f"/api/jobs/{job}", headers=BEARER).json()
    states = {i["item_id"]: (i["state"], i["attempts"]) for i in detail["items"]}
    assert states == {
        "item_0": ("merged", 1),
        "item_1": ("dead_lettered", 1),
        "item_2": ("merged", 1),
    }
    assert all(i["cost_usd"] == 0 for i in detail["items"])  # the scripted agent is free
    assert [d["item_id"] for d in detail["dlq"]] == ["item_1"]
    assert detail["events"][-1]["event_type"] == "job_completed"
    dlq = client.get(f"/api/dlq?job={job}", headers=BEARER).json()
    [group] = dlq["groups"]
    assert group["count"] == 1 and group["items"][0]["eligible"] is True
    assert group["items"][0]["failure_history"][0]["error_message"].startswith("step 1")
    assert client.get("/api/dlq?job=other", headers=BEARER).json() == {"groups": []}
    session = client.get(f"/api/sessions/{ids['session']}", headers=BEARER).json()
    assert session["session"]["job_id"] == job and session["session"]["status"] == "completed"
    assert client.get("/api/jobs/nope", headers=BEARER).status_code == 404
    assert client.get("/api/sessions/nope", headers=BEARER).status_code == 404
    # the sealed copies of secrets and the stored workflow text are never read or sent
    for url in ("/api/jobs", f"/api/jobs/{job}", f"/api/sessions/{ids['session']}"):
        text = client.get(url, headers=BEARER).text
        assert "sealed" not in text and "workflow_text" not in text


def test_logs_are_served_only_from_the_logs_directory(
    client: TestClient, shared_job: tuple[MapReduceRepo, str]
) -> None:
    mr, job = shared_job
    [entry] = client.get(f"/api/dlq?job={job}", headers=BEARER).json()["groups"][0]["items"]
    logs = prodigy_home(mr) / "logs"
    (logs / "probe.log").write_text("x" * 70000 + "THE END\n")
    tail = client.get("/logs/probe.log", headers=BEARER)
    assert tail.status_code == 200 and tail.text.endswith("THE END\n") and len(tail.text) <= 65536
    assert client.get("/logs/../prodigy.db", headers=BEARER).status_code == 404
    assert client.get("/logs/%2e%2e/prodigy.db", headers=BEARER).status_code == 404
    assert client.get("/logs/missing.log", headers=BEARER).status_code == 404
    if entry["log"]:
        page = client.get(f"/jobs/{job}", headers=BEARER).text
        assert ">log</a>" in page


def test_no_database_yet_shows_an_empty_dashboard(tmp_path: Any) -> None:
    mr = MapReduceRepo(tmp_path)
    client = TestClient(app_for(mr))
    assert "No MapReduce job yet" in client.get("/", headers=BEARER).text
    assert client.get("/api/jobs", headers=BEARER).json()["jobs"] == []
    assert client.get("/api/dlq", headers=BEARER).json() == {"groups": []}
    assert client.get("/api/events?job=x", headers=BEARER).status_code == 404
    assert not (prodigy_home(mr) / "prodigy.db").exists()  # reading created nothing


def test_retry_runs_prodigy_in_the_background_and_the_item_lands(
    finished: tuple[MapReduceRepo, str],
) -> None:
    mr, job = finished
    client = TestClient(app_for(mr))
    origin = {"Origin": "http://testserver"}
    client.get(f"/?token={TOKEN}")
    unknown = client.post(f"/api/dlq/{job}/retry", data={"item": "item_9"}, headers=origin)
    assert unknown.status_code == 400 and "item_9" in unknown.json()["error"]
    started = client.post(f"/api/dlq/{job}/retry", data={"item": "item_1"}, headers=origin)
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["command"] == f"prodigy dlq retry {job} -y --item item_1"
    assert body["log"].startswith(str(prodigy_home(mr) / "logs" / "dashboard"))
    wait_for_exit(body["pid"])
    log = Path(body["log"]).read_text()
    assert "1 landed" in log, log
    assert mr.items_state()["item_1"] == "merged" and mr.dlq() == []
    assert mr.cat("out/one-2.txt") == "done\n"
    again = client.post(f"/api/dlq/{job}/retry", headers=origin)
    assert again.status_code == 409 and "nothing to retry" in again.json()["error"]
    resumed = client.post(f"/api/jobs/{job}/resume", headers=origin)
    assert resumed.status_code == 409 and "completed" in resumed.json()["error"]
    cancelled = client.post(f"/api/jobs/{job}/cancel", headers=origin)
    assert cancelled.status_code == 409 and "not running" in cancelled.json()["error"]


def test_item_ids_in_a_json_body(client: TestClient, shared_job: tuple[MapReduceRepo, str]) -> None:
    job = shared_job[1]
    wrong = client.post(f"/api/dlq/{job}/retry", headers=BEARER, json={"item": ["nope"]})
    assert wrong.status_code == 400 and "'nope'" in wrong.json()["error"]
    broken = client.post(
        f"/api/dlq/{job}/retry",
        headers=BEARER | {"Content-Type": "application/json"},
        content=b"[1",
    )
    assert broken.status_code == 400 and "JSON body" in broken.json()["error"]


def test_cancel_stops_the_running_job_and_resume_finishes_it(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items(items(fail=(), pause=60))  # the agents wait until released
    run = start_job(mr, "long")
    try:
        wait_for(lambda: has_running_item(mr), what="a running item")
        job = mr.job_id()
        client = TestClient(app_for(mr))
        refused = client.post(f"/api/jobs/{job}/resume", headers=BEARER)
        assert refused.status_code == 409 and "is running it" in refused.json()["error"]
        summary = client.get("/api/jobs", headers=BEARER).json()["jobs"][0]
        assert summary["status"] == "running" and summary["activity"]["colour"] == "green"
        _check_stuck_marks(mr, job)
        cancelled = client.post(f"/api/jobs/{job}/cancel", headers=BEARER)
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json() == {
            "action": "cancel", "job_id": job, "pid": run.pid, "signal": "SIGTERM"
        }  # fmt: skip
        assert run.wait(timeout=60) == 143  # as `kill PID` from a terminal
    finally:
        stop(run)
    assert mr.query("SELECT status FROM jobs")[0]["status"] == "interrupted"
    release(mr)
    resumed = client.post(f"/api/jobs/{job}/resume", headers=BEARER)
    assert resumed.status_code == 202, resumed.text
    assert resumed.json()["command"] == f"prodigy resume-job {job} -y"
    wait_for_exit(resumed.json()["pid"])
    assert mr.query("SELECT status FROM jobs")[0]["status"] == "completed", Path(
        resumed.json()["log"]
    ).read_text()
    assert set(mr.items_state().values()) == {"merged"}


def _check_stuck_marks(mr: MapReduceRepo, job: str) -> None:
    """Seen from a clock minutes ahead, the quiet running items turn yellow, then red."""
    for minutes, colour in ((3, "yellow"), (6, "red")):
        later = TestClient(
            app_for(mr, clock=lambda m=minutes: datetime.now(UTC) + timedelta(minutes=m))
        )
        detail = later.get(f"/api/jobs/{job}", headers=BEARER).json()
        running = [i for i in detail["items"] if i["state"] == "running"]
        assert running and {i["activity"]["colour"] for i in running} == {colour}
        assert all(i["activity"]["stuck"] is (colour == "red") for i in running)
        idle = [i for i in detail["items"] if i["state"] != "running"]
        assert all(i["activity"]["colour"] is None for i in idle)
        page = later.get(f"/jobs/{job}", headers=BEARER).text
        assert (">stuck</b>" in page) is (colour == "red") and f"c-{colour}" in page


def test_a_paused_session_shows_its_reason_and_a_countdown(
    finished: tuple[MapReduceRepo, str],
) -> None:
    """With the columns the budget/quota pause adds to sessions (store v7)."""
    mr, job = finished
    resume_at = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with closing(sqlite3.connect(prodigy_home(mr) / "prodigy.db")) as conn, conn:
        conn.execute(
            "UPDATE sessions SET status = 'paused', pause_reason = 'quota reached', resume_at = ?",
            (resume_at,),
        )
    client = TestClient(app_for(mr))
    data = client.get("/api/jobs", headers=BEARER).json()
    for shown in (data["jobs"][0], data["sessions"][0]):
        paused = shown["paused"]
        assert paused["reason"] == "quota reached" and paused["resume_at"] == resume_at
        assert 100 < paused["resumes_in_s"] <= 120
    page = client.get("/", headers=BEARER).text
    assert page.count("paused: quota reached, resumes in <span data-countdown=") == 2
    assert "paused: quota reached" in client.get(f"/jobs/{job}", headers=BEARER).text


def test_a_session_page_lists_its_agent_logs_as_they_grow(
    client: TestClient, shared_job: tuple[MapReduceRepo, str]
) -> None:
    mr, job = shared_job
    ids = _ids(mr, job)
    repo_key = mr.query("SELECT repo_key FROM sessions")[0]["repo_key"]
    folder = prodigy_home(mr) / "logs" / repo_key / ids["session"]
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "001-agent-item_0.jsonl"
    log.write_text('{"type": "system"}\n')
    api = client.get(f"/api/sessions/{ids['session']}", headers=BEARER).json()
    assert (api["logs"][0]["name"], api["logs"][0]["size"]) == ("001-agent-item_0.jsonl", 19)
    page = client.get(f"/sessions/{ids['session']}", headers=BEARER).text
    href = f"/logs/{repo_key}/{ids['session']}/001-agent-item_0.jsonl"
    assert f'href="{href}"' in page and ">001-agent-item_0.jsonl</a>" in page
    with log.open("a") as handle:
        handle.write('{"type": "result"}\n')
    again = client.get(f"/api/sessions/{ids['session']}", headers=BEARER).json()
    assert again["logs"][0]["size"] == 38
    assert client.get(href, headers=BEARER).text.endswith('{"type": "result"}\n')
