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
