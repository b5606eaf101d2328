"""Subscription usage limits and reported token counts of the scripted model server.

The first tests talk HTTP to the server; the last ones run the real Claude Code CLI in
subscription mode (`CLAUDE_CODE_OAUTH_TOKEN`) and check what it makes of the headers: the
`rate_limit_event` records and the "You've hit your … limit" result.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from prodigy.runtime.model_server import ModelServer, QuotaWarning, QuotaWindow, ServerOptions
from prodigy.runtime.model_server.limits import SubscriptionLimits
from tests.e2e.test_model_server import request_body
from tests.support.e2e import ClaudeRunner

pytestmark = pytest.mark.e2e


def post(server: ModelServer, body: object) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        server.base_url + "/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_quota_window_rejects_from_request_n_for_s_seconds() -> None:
    clock = Clock()
    limits = SubscriptionLimits(QuotaWindow(3, 10, "seven_day"), None, clock)

    assert [limits.check().rejected for _ in range(2)] == [False, False]
    third = limits.check()
    clock.now += 9.5
    fourth = limits.check()
    clock.now += 0.5
    fifth = limits.check()

    assert third.rejected and fourth.rejected and not fifth.rejected
    headers = dict(third.headers)
    assert headers["anthropic-ratelimit-unified-status"] == "rejected"
    assert headers["anthropic-ratelimit-unified-reset"] == "1000010"  # the window's end
    assert headers["anthropic-ratelimit-unified-representative-claim"] == "seven_day"
    assert dict(fourth.headers) == headers
    assert limits.requests == 5


def test_a_window_opened_by_hand_starts_now() -> None:
    clock = Clock()
    limits = SubscriptionLimits(None, None, clock)
    assert limits.open_window(4) == 1_000_004.0
    assert limits.check().rejected
    clock.now += 4
    assert not limits.check().rejected


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="limit type"):
        QuotaWindow(1, 5, "hourly")
    with pytest.raises(ValueError, match="request 1"):
        QuotaWindow(0, 5)
    with pytest.raises(ValueError, match="0 seconds"):
        QuotaWindow(1, 0)


def test_rejected_requests_are_429_with_the_unified_headers() -> None:
    options = ServerOptions(quota_window=QuotaWindow(2, 30))
    with ModelServer(options) as server:
        ok, _, _ = post(server, request_body("@print hi"))
        status, headers, data = post(server, request_body("@print hi"))

    assert ok == 200
    assert status == 429
    assert json.loads(data)["error"]["type"] == "rate_limit_error"
    assert headers["anthropic-ratelimit-unified-status"] == "rejected"
    assert headers["anthropic-ratelimit-unified-representative-claim"] == "five_hour"
    assert abs(int(headers["anthropic-ratelimit-unified-reset"]) - (time.time() + 30)) < 5


def test_a_warning_rides_on_successful_answers() -> None:
    with ModelServer(ServerOptions(quota_warning=QuotaWarning(1, 0.8))) as server:
        status, headers, _ = post(server, request_body("@print hi"))

    assert status == 200
    assert headers["anthropic-ratelimit-unified-5h-utilization"] == "0.8"
    assert "anthropic-ratelimit-unified-5h-surpassed-threshold" in headers


def test_reported_token_counts_replace_the_estimate() -> None:
    with ModelServer(ServerOptions(input_tokens=1234, output_tokens=56)) as server:
        _, _, data = post(server, request_body("@print hi"))

    usage = json.loads(data)["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (1234, 56)


def subscription_runner(
    claude_cli: Path, cli_env: dict[str, str], server: ModelServer, logs: Path
) -> ClaudeRunner:
    env = {k: v for k, v in cli_env.items() if k != "ANTHROPIC_API_KEY"}
    return ClaudeRunner(claude_cli, {**env, **server.client_env(0, subscription=True)}, logs)


def records(path: Path | None) -> list[dict[str, object]]:
    assert path is not None
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("limit_type", "words"), [("five_hour", "session limit"), ("seven_day", "weekly limit")]
)
def test_claude_code_reports_the_quota_window(
    claude_cli: Path,
    cli_env: dict[str, str],
    repo: Path,
    tmp_path: Path,
    limit_type: str,
    words: str,
) -> None:
    with ModelServer(ServerOptions(quota_window=QuotaWindow(1, 120, limit_type))) as server:
        claude = subscription_runner(claude_cli, cli_env, server, tmp_path / "logs")
        result = claude.run("@write a.txt never\n@print unreachable", repo)
        window_end = int(time.time()) + 120

    assert not result.success
    assert result.error_kind == "quota"
    assert f"You've hit your {words} · resets" in result.error_message
    assert not (repo / "a.txt").exists()
    events = [r for r in records(result.log_path) if r["type"] == "rate_limit_event"]
    info = events[0]["rate_limit_info"]
    assert isinstance(info, dict)
    assert info["status"] == "rejected"
    assert info["rateLimitType"] == limit_type
    assert abs(int(info["resetsAt"]) - window_end) < 10


def test_claude_code_reports_the_warning_and_the_token_counts(
    claude_cli: Path, cli_env: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    options = ServerOptions(quota_warning=QuotaWarning(1), input_tokens=1000, output_tokens=500)
    with ModelServer(options) as server:
        claude = subscription_runner(claude_cli, cli_env, server, tmp_path / "logs")
        result = claude.run("@run true\n@print done", repo)

    assert result.success, result.error_message
    assert (result.usage.input_tokens, result.usage.output_tokens) == (2000, 1000)  # 2 answers
    assert result.usage.cost_usd > 0
    events = [r for r in records(result.log_path) if r["type"] == "rate_limit_event"]
    assert events
    info = events[0]["rate_limit_info"]
    assert isinstance(info, dict)
    assert info["status"] == "allowed_warning"
    assert info["utilization"] == 0.9
