"""`prodigy model-server` as a process: it prints where it listens, serves, stops on Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

START = "from prodigy.cli.model_server_cmd import model_server; model_server()"


def test_serves_until_interrupted() -> None:
    command = [sys.executable, "-c", START, "--port", "0", "--error", "429"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        url = first.rsplit(" ", 1)[-1]
        assert first.startswith("scripted model server listening on http://127.0.0.1:")
        exports = [proc.stdout.readline().strip() for _ in range(6)]
        assert f"export ANTHROPIC_BASE_URL={url}" in exports

        with urllib.request.urlopen(url + "/v1/models", timeout=5) as response:
            assert json.loads(response.read())["data"]
        request = urllib.request.Request(
            url + "/v1/messages", data=b'{"messages": []}', method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 429

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
        assert "model server stopped" in proc.stdout.read()


def test_quota_window_and_subscription_options() -> None:
    command = [sys.executable, "-c", START, "--quota-window", "2:30:seven_day", "--subscription"]
    command += ["--input-tokens", "7", "--output-tokens", "3"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        exports = [proc.stdout.readline().strip() for _ in range(6)]
        assert "export CLAUDE_CODE_OAUTH_TOKEN=scripted" in exports
        assert not any("ANTHROPIC_API_KEY" in line for line in exports)

        def post() -> urllib.request.Request:
            return urllib.request.Request(url + "/v1/messages", data=b"{}", method="POST")

        with urllib.request.urlopen(post(), timeout=5) as response:
            assert json.loads(response.read())["usage"]["input_tokens"] == 7
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(post(), timeout=5)
        assert caught.value.code == 429
        claim = caught.value.headers["anthropic-ratelimit-unified-representative-claim"]
        assert claim == "seven_day"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0


def test_a_malformed_quota_window_is_a_usage_error() -> None:
    command = [sys.executable, "-c", START, "--quota-window", "3:10:hourly"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "limit type must be one of five_hour, seven_day" in done.stderr
