"""The Gemini API as the Gemini CLI uses it: read a request, write an answer.

The CLI sends the whole history on every `streamGenerateContent` request: a user turn with a
`<session_context>` part (naming the workspace directory) and the prompt, then model turns
with `functionCall` parts and user turns with `functionResponse` parts. The answer is SSE,
`data:` frames of `{candidates: [{content: {parts}}], usageMetadata}`. Side requests without
tools (the model router asks for a JSON complexity score) get a JSON object that fits the
request's schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from prodigy.runtime.model_server.conversation import Conversation
from prodigy.runtime.model_server.wire import Answer, ApiError

_CWD = re.compile(r"Workspace Directories:\**\s*\n\s*-\s*(/[^\n]*)")
_EXIT = re.compile(r"^Exit Code: (-?\d+)$", re.MULTILINE)
_CONTEXT = "<session_context>"
_QUOTA = re.compile(r"usage limit|quota", re.IGNORECASE)
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    529: "UNAVAILABLE",
}


def read_gemini_conversation(body: Mapping[str, Any]) -> Conversation:
    """Read a generateContent / streamGenerateContent body; tolerant of any shape."""
    contents = [c for c in _list(body.get("contents")) if isinstance(c, Mapping)]
    parts = [
        (content.get("role"), part)
        for content in contents
        for part in _list(content.get("parts"))
        if isinstance(part, Mapping)
    ]
    texts = [p["text"] for role, p in parts if role == "user" and isinstance(p.get("text"), str)]
    prompts = [text for text in texts if not text.lstrip().startswith(_CONTEXT)]
    responses = [
        p["functionResponse"] for _, p in parts if isinstance(p.get("functionResponse"), Mapping)
    ]
    failed = _failure(responses[-1]) if responses else None
    cwd = next((m.group(1).strip() for t in texts if (m := _CWD.search(t))), None)
    return Conversation(
        prompt=prompts[0] if prompts else "",
        cwd=cwd,
        tool_results=len(responses),
        failed_result=failed,
        has_tools=bool(_list(body.get("tools"))),
    )


def gemini_chunk(
    answer: Answer, model: str, input_tokens: int, output_tokens: int
) -> dict[str, Any]:
    """One complete answer as a GenerateContentResponse."""
    parts = [_part(block) for block in answer.blocks]
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    usage = {
        "promptTokenCount": input_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": input_tokens + output_tokens,
    }
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}


def gemini_events(chunk: Mapping[str, Any]) -> Iterator[bytes]:
    """The SSE frames of a streamed answer: one chunk holds all of it."""
    yield f"data: {json.dumps(chunk)}\r\n\r\n".encode()


def side_answer(body: Mapping[str, Any], text: str) -> str:
    """The text of an answer to a tool-less side request: JSON when a schema asks for it."""
    config = body.get("generationConfig")
    config = config if isinstance(config, Mapping) else {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if isinstance(schema, Mapping):
        return json.dumps(_fill(schema, text))
    return text


def gemini_error(error: ApiError) -> tuple[int, bytes]:
    """Status and body of an error in Google's shape.

    A usage-limit message says "Please retry in 3600s": the CLI treats a wait that long as
    a terminal quota error and stops instead of retrying.
    """
    message = error.message
    if error.status == 429 and _QUOTA.search(message):
        message = f"{message}. Please retry in 3600s."
    status = _STATUS_NAMES.get(error.status, "UNKNOWN")
    return error.status, json.dumps(
        {"error": {"code": error.status, "message": message, "status": status}}
    ).encode()


def _failure(response: Mapping[str, Any]) -> str | None:
    body = response.get("response")
    body = body if isinstance(body, Mapping) else {}
    if "error" in body:
        return str(body["error"])
    output = body.get("output")
    if isinstance(output, str):
        match = _EXIT.search(output)
        if match and int(match.group(1)) != 0:
            return output
    return None


def _part(block: Mapping[str, Any]) -> dict[str, Any]:
    if block["type"] == "tool_use":
        return {"functionCall": {"name": block["name"], "args": dict(block["input"])}}
    return {"text": block["text"]}


def _fill(schema: Mapping[str, Any], text: str) -> object:
    kind = str(schema.get("type", "")).lower()
    if kind == "object":
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        return {
            name: _fill(sub if isinstance(sub, Mapping) else {}, text)
            for name, sub in properties.items()
        }
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    return text


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
