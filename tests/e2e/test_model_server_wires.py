"""The model server's OpenAI Responses and Gemini wires over real HTTP, without the CLIs.

Bodies are shaped like the ones Codex 0.171.0 and Gemini CLI 0.61.0 send (recorded by
hand, see docs/testing.md): the same directives drive both, as they drive Claude Code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from prodigy.runtime.model_server import ModelServer
from tests.e2e.test_model_server import post

CWD = "/work/repo"


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def codex_body(prompt: str, outputs: Sequence[str] = ()) -> dict[str, Any]:
    """A Codex-like request after len(outputs) commands, each output as Codex reports it."""
    environment = f"<environment_context>\n  <cwd>{CWD}</cwd>\n</environment_context>"
    items: list[dict[str, Any]] = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "x"}]},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": environment}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]},
    ]
    for index, output in enumerate(outputs):
        call = f"call_{index}"
        items.append({"type": "function_call", "call_id": call, "name": "exec_command"})
        items.append({"type": "function_call_output", "call_id": call, "output": output})
    tools = [{"type": "function", "name": "exec_command"}]
    return {"model": "gpt-5.5", "stream": True, "input": items, "tools": tools}


def sse_data(data: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in data.decode().splitlines()
        if line.startswith("data: ")
    ]


def ran(code: int) -> str:
    return f"Chunk ID: 1\nWall time: 0.0 seconds\nProcess exited with code {code}\nOutput:\n"


def test_codex_gets_one_exec_command_per_directive_then_a_message(server: ModelServer) -> None:
    prompt = "Do it.\n@write a.txt hi\n@commit done\n@print all done"
    commands, outputs = [], []
    while True:
        status, data = post(server, "/v1/responses", codex_body(prompt, outputs))
        assert status == 200, data
        events = sse_data(data)
        assert events[0]["type"] == "response.created"
        assert events[-1]["type"] == "response.completed"
        assert events[-1]["response"]["usage"]["input_tokens"] > 0
        items = [e["item"] for e in events if e["type"] == "response.output_item.done"]
        calls = [i for i in items if i["type"] == "function_call"]
        if not calls:
            break
        commands.append(json.loads(calls[0]["arguments"]))
        outputs.append(ran(0))
    assert [c["cmd"] for c in commands] == [
        f"mkdir -p {CWD} && printf '%s' 'hi\n' > {CWD}/a.txt",
        "git add -A && (git diff --cached --quiet || git commit -q -m done)",
    ]
    assert all(c["login"] is False for c in commands)  # a login shell would reset PATH
    assert items[-1]["content"][0]["text"] == "all done"


def test_codex_command_failure_fails_the_next_turn(server: ModelServer) -> None:
    status, data = post(server, "/v1/responses", codex_body("@run false\n@print x", [ran(1)]))

    assert status == 400
    assert "@run false failed" in json.loads(data)["error"]["message"]


def test_codex_usage_limit_is_a_429_with_the_reset_time(server: ModelServer) -> None:
    status, data = post(server, "/v1/responses", codex_body("@fail 1 You hit your usage limit"))

    error = json.loads(data)["error"]
    assert status == 429
    assert error["type"] == "usage_limit_reached"
    assert error["resets_at"] > time.time()


def gemini_body(prompt: str, results: Sequence[str] = ()) -> dict[str, Any]:
    context = f"<session_context>\n- **Workspace Directories:**\n  - {CWD}\n</session_context>"
    contents: list[dict[str, Any]] = [
        {"role": "user", "parts": [{"text": context}, {"text": prompt}]}
    ]
    for output in results:
        contents.append({"role": "model", "parts": [{"functionCall": {"name": "x", "args": {}}}]})
        response = {"name": "x", "response": {"output": output}}
        contents.append({"role": "user", "parts": [{"functionResponse": response}]})
    tools = [{"functionDeclarations": [{"name": "write_file"}, {"name": "run_shell_command"}]}]
    return {"contents": contents, "tools": tools}


STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def test_gemini_gets_write_file_and_run_shell_command(server: ModelServer) -> None:
    prompt = "@write a.txt hi\n@run make test\n@print done"
    calls, results = [], []
    while True:
        status, data = post(server, STREAM, gemini_body(prompt, results))
        assert status == 200, data
        (chunk,) = sse_data(data)
        assert chunk["usageMetadata"]["promptTokenCount"] > 0
        parts = chunk["candidates"][0]["content"]["parts"]
        found = [p["functionCall"] for p in parts if "functionCall" in p]
        if not found:
            break
        calls.append((found[0]["name"], found[0]["args"]))
        results.append("ok")
    assert calls == [
        ("write_file", {"file_path": f"{CWD}/a.txt", "content": "hi\n"}),
        ("run_shell_command", {"command": "make test", "description": "@run make test"}),
    ]
    assert parts == [{"text": "done"}]


def test_gemini_shell_failure_fails_the_next_turn(server: ModelServer) -> None:
    output = "<untrusted_context>\nOutput: no\nExit Code: 2\n</untrusted_context>"
    status, data = post(server, STREAM, gemini_body("@run make\n@print x", [output]))

    error = json.loads(data)["error"]
    assert (status, error["status"]) == (400, "INVALID_ARGUMENT")
    assert "@run make failed" in error["message"]


def test_gemini_routing_request_gets_json_that_fits_its_schema(server: ModelServer) -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "complexity_reasoning": {"type": "STRING"},
            "complexity_score": {"type": "INTEGER"},
        },
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "@write a.txt x"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    server.inject(500)  # kept for the turn: the routing request is not a turn

    status, data = post(server, "/v1beta/models/gemini-2.5-flash-lite:generateContent", body)

    assert status == 200
    text = json.loads(data)["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {
        "complexity_reasoning": "scripted model server",
        "complexity_score": 1,
    }
    assert post(server, STREAM, gemini_body("@print x"))[0] == 500
