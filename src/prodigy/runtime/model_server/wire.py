"""The Anthropic Messages API wire format: message JSON, SSE event streams, error bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Block = Mapping[str, Any]

# The error `type` the API uses for each HTTP status.
ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """A model message: content blocks (text, tool_use) and why it stopped."""

    blocks: tuple[Block, ...]
    stop_reason: str  # "tool_use" or "end_turn"


@dataclass(frozen=True, slots=True)
class ApiError:
    """An HTTP error answer, as the API sends it."""

    status: int
    message: str

    @property
    def error_type(self) -> str:
        return ERROR_TYPES.get(self.status, "api_error")

    def body(self) -> bytes:
        error = {"type": self.error_type, "message": self.message}
        return json.dumps({"type": "error", "error": error}).encode()


Reply = Answer | ApiError


def text_block(text: str) -> Block:
    return {"type": "text", "text": text}


def tool_use_block(tool_id: str, name: str, tool_input: Mapping[str, object]) -> Block:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": dict(tool_input)}


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def message_json(answer: Answer, message_id: str, model: str, tokens: dict[str, int]) -> bytes:
    """The non-streaming response body."""
    return json.dumps(_message(answer, message_id, model, tokens, final=True)).encode()


def sse_events(
    answer: Answer, message_id: str, model: str, tokens: dict[str, int]
) -> Iterator[bytes]:
    """The streaming response, one `event:`/`data:` frame at a time."""
    start = _message(answer, message_id, model, {**tokens, "output_tokens": 1}, final=False)
    yield _frame("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(answer.blocks):
        yield from _block_frames(index, block)
    delta = {"stop_reason": answer.stop_reason, "stop_sequence": None}
    yield _frame(
        "message_delta",
        {
            "type": "message_delta",
            "delta": delta,
            "usage": {"output_tokens": tokens["output_tokens"]},
        },
    )
    yield _frame("message_stop", {"type": "message_stop"})


def _block_frames(index: int, block: Block) -> Iterator[bytes]:
    if block["type"] == "tool_use":
        empty: dict[str, Any] = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        empty = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    yield _frame(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": empty},
    )
    yield _frame(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    )
    yield _frame("content_block_stop", {"type": "content_block_stop", "index": index})


def _message(
    answer: Answer, message_id: str, model: str, tokens: dict[str, int], *, final: bool
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [dict(b) for b in answer.blocks] if final else [],
        "stop_reason": answer.stop_reason if final else None,
        "stop_sequence": None,
        "usage": tokens,
    }


def _frame(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
