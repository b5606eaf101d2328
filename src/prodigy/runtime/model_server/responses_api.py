"""The OpenAI Responses API as the Codex CLI uses it: read a request, write an SSE answer.

Codex sends the whole history on every request (`store: false`): `input` holds the user's
prompt, an `<environment_context>` message naming the working directory, and one
`function_call_output` per command already run. The answer is an SSE stream of
`response.created`, one `response.output_item.done` per item (a message, a `function_call`),
and `response.completed` with the token usage; Codex ignores everything else.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from prodigy.core.agent_result import classify_failure
from prodigy.runtime.model_server.conversation import Conversation
from prodigy.runtime.model_server.wire import Answer, ApiError

_CWD = re.compile(r"<cwd>([^<\n]+)</cwd>")
_EXIT = re.compile(r"^Process exited with code (-?\d+)$", re.MULTILINE)
# user messages the harness adds (environment, AGENTS.md, ...) are not the prompt
_HARNESS = re.compile(r"\s*(?:<[a-z_]+>|# AGENTS\.md instructions)")
QUOTA_RESET_SECONDS = 3600  # when an @fail asks for a usage limit, it lifts in an hour
_QUOTA = re.compile(r"usage limit|quota", re.IGNORECASE)


def read_responses_conversation(body: Mapping[str, Any]) -> Conversation:
    """Read a POST /v1/responses body; tolerant of any shape the CLI sends."""
    items = [i for i in _list(body.get("input")) if isinstance(i, Mapping)]
    user_texts = [
        text
        for item in items
        if item.get("type", "message") == "message" and item.get("role") == "user"
        for text in _texts(item.get("content"))
    ]
    prompts = [text for text in user_texts if not _HARNESS.match(text)]
    outputs = [i for i in items if i.get("type") == "function_call_output"]
    newest = _output_text(outputs[-1]) if outputs else None
    failed = newest if newest is not None and _exit_code(newest) not in (None, 0) else None
    cwd = next((m.group(1).strip() for t in user_texts if (m := _CWD.search(t))), None)
    return Conversation(
        prompt=prompts[-1] if prompts else "",
        cwd=cwd,
        tool_results=len(outputs),
        failed_result=failed,
        has_tools=bool(_list(body.get("tools"))),
    )


def responses_events(
    answer: Answer, response_id: str, model: str, input_tokens: int, output_tokens: int
) -> Iterator[bytes]:
    """The SSE frames of one streamed answer."""
    created = {"id": response_id, "object": "response", "status": "in_progress", "model": model}
    yield _frame("response.created", {"type": "response.created", "response": created})
    for index, block in enumerate(answer.blocks):
        item = _item(block, f"{response_id}_{index}")
        yield _frame(
            "response.output_item.done",
            {"type": "response.output_item.done", "output_index": index, "item": item},
        )
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }
    completed = {**created, "status": "completed", "usage": usage}
    yield _frame("response.completed", {"type": "response.completed", "response": completed})


def responses_error(error: ApiError) -> tuple[int, bytes]:
    """Status and body of an error answer, in the shapes Codex recognises.

    A usage-limit message becomes 429 `usage_limit_reached` with `resets_at`, which Codex
    reports as "You've hit your usage limit… try again at …".
    """
    if error.status == 429 and _QUOTA.search(error.message):
        resets_at = int(time.time()) + QUOTA_RESET_SECONDS
        detail = {"type": "usage_limit_reached", "message": error.message, "resets_at": resets_at}
        return 429, json.dumps({"error": detail}).encode()
    kind = classify_failure(error.message)
    code = {"rate_limit": "rate_limit_exceeded", "overloaded": "server_is_overloaded"}.get(
        kind, error.error_type
    )
    detail = {"type": error.error_type, "code": code, "message": error.message}
    return error.status, json.dumps({"error": detail}).encode()


def _item(block: Mapping[str, Any], item_id: str) -> dict[str, Any]:
    if block["type"] == "tool_use":
        return {
            "type": "function_call",
            "id": f"fc_{item_id}",
            "call_id": str(block["id"]),
            "name": block["name"],
            "arguments": json.dumps(block["input"]),
            "status": "completed",
        }
    text = {"type": "output_text", "text": block["text"], "annotations": []}
    return {
        "type": "message",
        "id": f"msg_{item_id}",
        "role": "assistant",
        "status": "completed",
        "content": [text],
    }


def _exit_code(output: str) -> int | None:
    match = _EXIT.search(output)
    return int(match.group(1)) if match else None


def _output_text(item: Mapping[str, Any]) -> str:
    output = item.get("output")
    if isinstance(output, str):
        return output
    return "\n".join(_texts(output))


def _texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [
        block["text"]
        for block in _list(content)
        if isinstance(block, Mapping) and isinstance(block.get("text"), str)
    ]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _frame(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
