"""The dashboard in a real browser: Debian's chromium-headless-shell driven by Playwright.

CI installs the browser (scripts/test) and must run these; elsewhere they skip when it is
missing. Jobs are real `prodigy run`s with the scripted agent; the server is the real
`prodigy dashboard` process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import PRODIGY
from tests.support.dashboard import items, run_job, start_job, stop
from tests.support.mapreduce import MapReduceRepo

BROWSER_PACKAGE = "chromium-headless-shell"


def browser_binary() -> str | None:
    """The executable the Debian package installs (as `dpkg -L` lists it)."""
    try:
        listed = subprocess.run(
            ["dpkg", "-L", BROWSER_PACKAGE], capture_output=True, text=True, check=False
        ).stdout.split()
    except FileNotFoundError:
        listed = []
    for path in listed:
        if path.endswith(("/bin/chromium-headless-shell", "/headless_shell")) and os.access(
            path, os.X_OK
        ):
            return path
    return shutil.which("chromium-headless-shell")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    binary = browser_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BROWSER_PACKAGE} is missing; scripts/test installs it on CI")
        pytest.skip(f"{BROWSER_PACKAGE} not installed (apt-get install {BROWSER_PACKAGE})")
    if os.environ.get("CI") != "true":
        pytest.importorskip("playwright", reason="playwright not installed (the dev extra has it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Dashboard:
    """A running `prodigy dashboard` for one repository's PRODIGY_HOME."""

    def __init__(self, mr: MapReduceRepo) -> None:
        self.proc = subprocess.Popen(
            [str(PRODIGY), "dashboard", "--port", "0", "--no-open"],
            env=mr.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("Dashboard: "), line
        self.url = line.split(" ", 1)[1].strip()
        self.base = self.url.split("/?token=")[0]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            assert self.proc.wait(timeout=15) == 130
        finally:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def job(tmp_path: Path) -> Iterator[tuple[MapReduceRepo, str, Dashboard]]:
    mr = MapReduceRepo(tmp_path)
    mr.items(items())
    job_id = run_job(mr)
    dashboard = Dashboard(mr)
    try:
        yield mr, job_id, dashboard
    finally:
        dashboard.stop()


def _page(browser: Any, dashboard: Dashboard) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(dashboard.url)  # ?token= once: the redirect sets the cookie
    assert page.url == dashboard.base + "/"
    page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads
    return page


def _same_document(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_a_finished_job_shows_its_items_and_its_dlq(
    browser: Any, job: tuple[MapReduceRepo, str, Dashboard], tmp_path: Path
) -> None:
    _, job_id, dashboard = job
    page = _page(browser, dashboard)
    row = page.locator(f'#jobs tr[data-job="{job_id}"]')
    assert "completed" in row.inner_text() and "3/3" in row.inner_text()
    page.wait_for_selector("#live-dot.on")  # the event stream is connected
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page.screenshot(path=str(shots / "dashboard-index.png"), full_page=True)
    row.get_by_role("link", name=job_id).click()
    page.wait_for_url(f"**/jobs/{job_id}")
    states = {
        r.get_attribute("data-item"): r.get_attribute("data-state")
        for r in page.locator("#items tbody tr").all()
    }
    assert states == {"item_0": "merged", "item_1": "dead_lettered", "item_2": "merged"}
    dlq = page.locator('#dlq-items tr[data-dlq-item="item_1"]')
    assert "flaky failure 1/1" in dlq.inner_text()
    page.screenshot(path=str(shots / "dashboard-job.png"))
    page.goto(dashboard.base + "/dlq")
    assert "flaky failure" in page.locator(".group").first.inner_text()
    assert (shots / "dashboard-index.png").stat().st_size > 10_000
    print(f"screenshots: {shots}")


def test_a_job_started_in_the_background_appears_without_a_reload(
    browser: Any, job: tuple[MapReduceRepo, str, Dashboard]
) -> None:
    mr, first, dashboard = job
    page = _page(browser, dashboard)
    page.wait_for_selector("#live-dot.on")
    assert page.locator("#jobs tbody tr").count() == 1
    mr.items(items(fail=(), pause=1.0), name="items.json")
    second = start_job(mr, "two")
    try:
        page.wait_for_function("document.querySelectorAll('#jobs tbody tr').length === 2")
        new = page.locator("#jobs tbody tr").first  # newest first
        assert new.get_attribute("data-job") != first
        assert _same_document(page)
        assert second.wait(timeout=60) == 0
        job_id = new.get_attribute("data-job")
        page.wait_for_selector(f'#jobs tr[data-job="{job_id}"] .s-completed')
        assert _same_document(page)
    finally:
        stop(second)


def test_the_retry_button_retries_and_the_item_lands(
    browser: Any, job: tuple[MapReduceRepo, str, Dashboard]
) -> None:
    mr, job_id, dashboard = job
    page = _page(browser, dashboard)
    page.goto(f"{dashboard.base}/jobs/{job_id}")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_selector("#live-dot.on")
    page.locator('#dlq-items tr[data-dlq-item="item_1"] button').click()
    notice = page.locator("#notice")
    notice.wait_for(state="visible")
    assert f"prodigy dlq retry {job_id} -y --item item_1" in notice.inner_text()
    page.wait_for_selector('#items tr[data-item="item_1"][data-state="merged"]', timeout=60_000)
    page.wait_for_selector("#dlq-items", state="detached")
    assert "Dead letter queue (0)" in page.locator("#dlq h2").inner_text()
    assert _same_document(page)
    assert mr.items_state()["item_1"] == "merged" and mr.dlq() == []
    assert mr.cat("out/one-2.txt") == "done\n"
