"""`prodigy dashboard` as a user starts it: the address it prints, the token, Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli import PRODIGY
from tests.support.dashboard import wait_for
from tests.support.mapreduce import MapReduceRepo

PREFIX = "Dashboard: "


def _get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _start(mr: MapReduceRepo, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(PRODIGY), "dashboard", "--port", "0", "--no-open", *args],
        env=mr.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(PREFIX), line + (proc.stderr.read() if proc.stderr else "")
    return proc, line[len(PREFIX) :].strip()


def test_prints_the_address_with_a_fresh_token_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    proc, url = _start(mr)
    try:
        base, token = url.split("/?token=")
        assert base.startswith("http://127.0.0.1:") and len(token) >= 24
        assert _get(base + "/api/jobs") == 401
        assert _get(base + "/api/jobs", token) == 200
        assert _get(url) == 401  # the redirect drops the token; urllib keeps no cookie
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 130
    finally:
        proc.kill()
        proc.wait()
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    other, url2 = _start(mr)
    try:
        assert url2.split("/?token=")[1] != token  # random per start
    finally:
        other.send_signal(signal.SIGINT)
        other.wait(timeout=15)


def test_token_file(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text("my-own-token-0123456789\n")
    token_file.chmod(0o600)
    proc, url = _start(mr, "--token-file", str(token_file))
    try:
        assert url.endswith("/?token=my-own-token-0123456789")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    token_file.write_text("short")
    done = mr.prodigy("dashboard", "--no-open", "--token-file", str(token_file))
    assert done.returncode == 2 and "at least 16 characters" in done.stderr


def test_another_host_is_served_only_with_a_warning(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    # 192.0.2.1 (TEST-NET-1) is nobody's address: the warning shows, then the bind fails
    done = mr.prodigy("dashboard", "--no-open", "--host", "192.0.2.1", "--port", "0")
    assert "warning: listening on 192.0.2.1, not only on this machine" in done.stderr
    assert done.returncode == 2 and "cannot listen on 192.0.2.1:0" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("module", ["uvicorn", "starlette"])
def test_without_the_extra_it_says_how_to_install_it(tmp_path: Path, module: str) -> None:
    mr = MapReduceRepo(tmp_path)
    # as if the package were not installed: a None entry makes imports and find_spec fail
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from prodigy.cli.main import main\nsys.exit(main(['dashboard', '--no-open']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=mr.env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert module in line and "pip install 'prodigy[dashboard]'" in line


def test_opens_the_browser_unless_no_open(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    proc = subprocess.Popen(
        [str(PRODIGY), "dashboard", "--port", "0"],
        env=mr.env | {"BROWSER": str(browser), "DISPLAY": ""},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline()[len(PREFIX) :].strip()
        wait_for(lambda: opened.exists() and opened.read_text().strip(), what="the browser")
        assert opened.read_text().strip() == url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
