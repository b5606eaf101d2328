"""The scripted model server over real HTTP, without the CLI (these run in every tier).

Requests are shaped like Claude Code's: a system prompt naming the working directory, the
prompt as the first user message after a <system-reminder>, tool results in later messages.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prodigy.core.directives import (
    Commit,
    Directive,
    PrintText,
    RunCommand,
    Script,
    WriteFile,
    format_directive,
    parse_script,
)
from prodigy.runtime.model_server import ModelServer, ServerOptions
from prodigy.runtime.model_server.plan import plan_script

CWD = "/work/repo"
SYSTEM = [
    {"type": "text", "text": "You are a Claude agent."},
    {
        "type": "text",
        "text": f"# Environment\n - Primary working directory: {CWD}\n - Platform: linux",
    },
]
TOOLS = [{"name": "Write"}, {"name": "Bash"}, {"name": "Read"}]


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def request_body(
    prompt: str, results: Sequence[tuple[str, bool]] = (), *, stream: bool = False
) -> dict[str, Any]:
    """A Claude Code-like request after len(results) tool calls (text, is_error)."""
    first = {
        "role": "user",
        "content": [
            {"type": "text", "text": "<system-reminder>\ntoday is a day\n</system-reminder>\n"},
            {"type": "text", "text": prompt},
        ],
    }
    messages: list[dict[str, Any]] = [first]
    for index, (text, is_error) in enumerate(results):
        tool_id = f"toolu_scripted_{index:04d}"
        messages.append({"role": "assistant", "content": [{"type": "tool_use", "id": tool_id}]})
        block = {
            "type": "tool_result",
            "tool_use_id": tool_id,
            "content": text,
            "is_error": is_error,
        }
        messages.append({"role": "user", "content": [block]})
    return {
        "model": "claude-test",
        "system": SYSTEM,
        "tools": TOOLS,
        "messages": messages,
        "stream": stream,
    }


def post(server: ModelServer, path: str, body: object) -> tuple[int, bytes]:
    request = urllib.request.Request(
        server.base_url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def message(server: ModelServer, body: dict[str, Any]) -> dict[str, Any]:
    status, data = post(server, "/v1/messages", body)
    assert status == 200, data
    return json.loads(data)


def error(server: ModelServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, data = post(server, "/v1/messages", body)
    assert status != 200, data
    return status, json.loads(data)["error"]


def test_each_directive_is_one_turn_then_the_final_text(server: ModelServer) -> None:
    prompt = "Do it.\n@write a.txt hi\n@run make test\n@commit done\n@print all done"
    calls = []
    results: list[tuple[str, bool]] = []
    while True:
        reply = message(server, request_body(prompt, results))
        tools = [b for b in reply["content"] if b["type"] == "tool_use"]
        if reply["stop_reason"] == "end_turn":
            break
        assert reply["stop_reason"] == "tool_use"
        calls.append((tools[0]["name"], tools[0]["input"]))
        results.append(("ok", False))
    assert calls == [
        ("Read", {"file_path": f"{CWD}/a.txt"}),
        ("Write", {"file_path": f"{CWD}/a.txt", "content": "hi\n"}),
        ("Bash", {"command": "make test", "description": "@run make test"}),
        (
            "Bash",
            {
                "command": "git add -A && (git diff --cached --quiet || git commit -q -m done)",
                "description": "@commit done",
            },
        ),
    ]
    assert reply["content"] == [{"type": "text", "text": "all done"}]
    assert reply["usage"]["input_tokens"] > 0
    assert reply["usage"]["output_tokens"] > 0


def test_streaming_answer_is_server_sent_events(server: ModelServer) -> None:
    status, data = post(server, "/v1/messages", request_body("@run ls", stream=True))

    assert status == 200
    frames = [f for f in data.decode().split("\n\n") if f]
    events = [f.split("\n")[0].removeprefix("event: ") for f in frames]
    assert events == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    payloads = [json.loads(f.split("\n", 1)[1].removeprefix("data: ")) for f in frames]
    assert payloads[4]["content_block"] == {
        "type": "tool_use",
        "id": "toolu_scripted_0000",
        "name": "Bash",
        "input": {},
    }
    assert json.loads(payloads[5]["delta"]["partial_json"])["command"] == "ls"
    assert payloads[7]["delta"]["stop_reason"] == "tool_use"
    assert payloads[7]["usage"]["output_tokens"] > 0


def test_a_failed_tool_result_fails_the_conversation(server: ModelServer) -> None:
    body = request_body("@run exit 7\n@print never", [("Exit code 7", True)])
    status, err = error(server, body)

    assert status == 400
    assert err["type"] == "invalid_request_error"
    assert err["message"] == "@run exit 7 failed: Exit code 7"


def test_a_failed_read_before_write_is_expected(server: ModelServer) -> None:
    body = request_body("@write new.txt x", [("File does not exist.", True)])
    reply = message(server, body)

    assert reply["content"][1]["name"] == "Write"


@pytest.mark.parametrize(
    ("directive", "status", "kind", "text"),
    [
        ("@fail 3 tests broke", 400, "invalid_request_error", "@fail 3: tests broke"),
        ("@fail", 400, "invalid_request_error", "@fail 1"),
        ("@fail 1 API Error: 429 rate_limit_error", 429, "rate_limit_error", "@fail 1: API"),
        ("@fail 1 the API is overloaded", 529, "overloaded_error", "@fail 1: the API"),
    ],
)
def test_fail_maps_to_an_http_error(
    server: ModelServer, directive: str, status: int, kind: str, text: str
) -> None:
    got_status, err = error(server, request_body(f"@print before\n{directive}"))

    assert (got_status, err["type"]) == (status, kind)
    assert err["message"].startswith(text)


def test_fail_comes_after_the_tool_calls_before_it(server: ModelServer) -> None:
    reply = message(server, request_body("@run true\n@fail 2 late"))
    assert reply["stop_reason"] == "tool_use"

    status, err = error(server, request_body("@run true\n@fail 2 late", [("", False)]))
    assert (status, err["message"]) == (400, "@fail 2: late")


def test_flaky_fails_n_conversations_then_passes(server: ModelServer) -> None:
    body = request_body("@flaky build 2\n@print built")
    outcomes = [post(server, "/v1/messages", body)[0] for _ in range(3)]

    assert outcomes == [400, 400, 200]


def test_sleep_delays_the_turn_it_precedes(server: ModelServer) -> None:
    started = time.monotonic()
    message(server, request_body("@sleep 0.3\n@print late"))
    assert time.monotonic() - started >= 0.3


def test_injected_errors_answer_the_next_requests_in_order(server: ModelServer) -> None:
    server.inject(429, 529, 500)
    statuses = [post(server, "/v1/messages", request_body("@print ok"))[0] for _ in range(4)]

    assert statuses == [429, 529, 500, 200]


def test_delay_option_slows_every_answer() -> None:
    with ModelServer(ServerOptions(delay=0.2, errors=(429,))) as server:
        started = time.monotonic()
        statuses = [post(server, "/v1/messages", request_body("@print ok"))[0] for _ in range(2)]
        assert statuses == [429, 200]
        assert time.monotonic() - started >= 0.4


def test_close_wakes_a_sleeping_answer() -> None:
    server = ModelServer().start()
    started = time.monotonic()
    worker = threading.Thread(target=post, args=(server, "/v1/messages", request_body("@sleep 30")))
    worker.start()
    time.sleep(0.3)
    server.close()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert time.monotonic() - started < 5


def test_paths_outside_the_working_directory_are_refused(server: ModelServer) -> None:
    status, err = error(server, request_body("@write ../escape.txt x"))

    assert status == 400
    assert "outside the working directory /work/repo" in err["message"]


def test_a_malformed_directive_is_a_400_naming_the_line(server: ModelServer) -> None:
    status, err = error(server, request_body("fine\n@sleep forever"))

    assert status == 400
    assert "prompt line 2" in err["message"]


def test_without_a_working_directory_write_is_refused(server: ModelServer) -> None:
    body = {**request_body("@write a.txt x"), "system": "no environment here"}
    status, err = error(server, body)

    assert status == 400
    assert "Primary working directory" in err["message"]


def test_side_requests_without_tools_get_plain_text(server: ModelServer) -> None:
    body = {**request_body("@fail 1 would fail"), "tools": []}
    reply = message(server, body)

    assert reply["stop_reason"] == "end_turn"


def test_start_up_endpoints_answer_harmlessly(server: ModelServer) -> None:
    status, data = post(server, "/v1/messages/count_tokens", request_body("@print x"))
    assert status == 200
    assert json.loads(data)["input_tokens"] > 0
    with urllib.request.urlopen(server.base_url + "/v1/models", timeout=5) as response:
        assert json.loads(response.read())["data"][0]["type"] == "model"
    status, _ = post(server, "/api/event_logging/batch", {"events": []})
    assert status == 200

    unknown = [(s.method, s.path) for s in server.served if not s.known]
    assert unknown == [("POST", "/api/event_logging/batch")]


def test_client_env_points_claude_at_the_server(server: ModelServer) -> None:
    env = server.client_env(max_retries=0)

    assert env["ANTHROPIC_BASE_URL"] == f"http://127.0.0.1:{server.port}"
    assert env["ANTHROPIC_API_KEY"]
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"


_paths = st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.txt", fullmatch=True)
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20)
_directives: st.SearchStrategy[Directive] = st.one_of(
    st.builds(WriteFile, _paths, _text.map(lambda t: f"{t}\n" if t else "")),
    st.builds(RunCommand, _text.filter(lambda t: t.strip() != "")),
    st.builds(Commit, _text.filter(lambda t: t.strip() == t and t != "")),
    st.builds(PrintText, _text),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_directives, max_size=8))
def test_plan_has_one_call_per_effect_and_the_prints_as_answer(
    directives: list[Directive],
) -> None:
    text = "\n".join(format_directive(d) for d in directives)
    script = parse_script(text)
    plan = plan_script(script, CWD)

    writes = sum(isinstance(d, WriteFile) for d in directives)
    effects = sum(isinstance(d, RunCommand | Commit) for d in directives)
    assert len(plan.turns) == 2 * writes + effects + 1
    assert plan.turns[-1].call is None
    prints = [d.text for d in directives if isinstance(d, PrintText)]
    assert plan.final_text == ("\n".join(prints) if prints else script.prose)
    written = [t.call.input["file_path"] for t in plan.turns if t.call and t.call.name == "Write"]
    assert written == [f"{CWD}/{d.path}" for d in directives if isinstance(d, WriteFile)]


def test_plan_of_an_empty_script_is_the_prose() -> None:
    plan = plan_script(Script((), "just words"), None)
    assert [t.call for t in plan.turns] == [None]
    assert plan.final_text == "just words"
