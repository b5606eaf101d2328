"""What a Messages API request says about its conversation: prompt, directory, progress.

The server is stateless: every request carries the whole history, so the number of
`tool_result` blocks in it is the number of turns already done.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Claude Code states its directory in the system prompt's environment section.
_CWD = re.compile(r"Primary working directory: *(/[^\n]*)")
_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Conversation:
    """The user's prompt, Claude Code's working directory, and the tool results so far."""

    prompt: str
    cwd: str | None
    tool_results: int
    failed_result: str | None  # the text of the newest tool result when it is an error
    has_tools: bool  # False for Claude Code's side requests (titles, summaries)


def read_conversation(body: Mapping[str, Any]) -> Conversation:
    """Read a /v1/messages request body; tolerant of any shape the CLI sends."""
    messages = [m for m in _list(body.get("messages")) if isinstance(m, Mapping)]
    first_user = next((m for m in messages if m.get("role") == "user"), None)
    prompt = _prompt_text(first_user.get("content")) if first_user is not None else ""
    results = [
        block
        for message in messages
        if message.get("role") == "user"
        for block in _list(message.get("content"))
        if isinstance(block, Mapping) and block.get("type") == "tool_result"
    ]
    newest = results[-1] if results else None
    failed = _result_text(newest) if newest is not None and newest.get("is_error") else None
    return Conversation(
        prompt=prompt,
        cwd=_find_cwd(body.get("system"), messages),
        tool_results=len(results),
        failed_result=failed,
        has_tools=bool(_list(body.get("tools"))),
    )


def _prompt_text(content: object) -> str:
    """The user's own words: text blocks without the harness's <system-reminder> context."""
    texts = [content] if isinstance(content, str) else [_block_text(b) for b in _list(content)]
    kept = [_REMINDER.sub("", text).strip("\n") for text in texts]
    return "\n".join(text for text in kept if text.strip())


def _find_cwd(system: object, messages: list[Mapping[str, Any]]) -> str | None:
    texts = [system] if isinstance(system, str) else [_block_text(b) for b in _list(system)]
    for message in messages:  # newer CLIs may move the environment into messages
        content = message.get("content")
        texts.extend([content] if isinstance(content, str) else map(_block_text, _list(content)))
    for text in texts:
        match = _CWD.search(text)
        if match:
            return match.group(1).strip()
    return None


def _result_text(block: Mapping[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(_block_text(b) for b in _list(content))


def _block_text(block: object) -> str:
    if isinstance(block, Mapping) and block.get("type") == "text":
        text = block.get("text")
        return text if isinstance(text, str) else ""
    return ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
