"""Reader of `codex exec --json` events: session, answer, commands, usage, failure.

Events (Codex CLI 0.17x): `thread.started` {thread_id}, `turn.started`, `item.started` /
`item.updated` / `item.completed` {item: agent_message | command_execution | file_change |
reasoning | error | ...}, `turn.completed` {usage}, `turn.failed` {error: {message}}, and
top-level `error` {message}. An `error` *item* is a warning (an unknown model, say); the run
goes on. A run succeeded when a turn completed and none failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prodigy.core.usage import Usage, int_field

ECHO_WIDTH = 120


@dataclass(slots=True)
class CodexEvents:
    """Folds Codex events as they arrive; see the module docstring for the protocol."""

    thread_id: str | None = None
    last_message: str = ""
    turns_completed: int = 0
    failure: str | None = None  # the turn.failed (or top-level error) message
    warnings: list[str] = field(default_factory=list)  # error items: reported, not fatal
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    records: int = 0

    def feed(self, record: Mapping[str, Any]) -> list[str]:
        """Take one event; the live one-liners it deserves."""
        self.records += 1
        kind = record.get("type")
        item = record.get("item")
        item = item if isinstance(item, Mapping) else {}
        if kind == "thread.started" and isinstance(record.get("thread_id"), str):
            self.thread_id = record["thread_id"]
        elif kind == "turn.completed":
            self.turns_completed += 1
            self._add_usage(record.get("usage"))
        elif kind == "turn.failed":
            error = record.get("error")
            message = error.get("message") if isinstance(error, Mapping) else None
            self.failure = str(message or "turn failed")
        elif kind == "error" and self.failure is None:
            self.failure = str(record.get("message") or "error")
        elif kind == "item.started":
            return _echo_started(item)
        elif kind == "item.completed":
            return self._completed(item)
        return []

    @property
    def succeeded(self) -> bool:
        return self.turns_completed > 0 and self.failure is None

    def usage(self, model: str | None) -> Usage:
        """Normalised usage (docs/agents.md): Codex's input tokens include the cached ones."""
        cached = min(self.cached_input_tokens, self.input_tokens)
        written = min(self.cache_write_input_tokens, self.input_tokens - cached)
        return Usage(
            turns=self.turns_completed,
            input_tokens=self.input_tokens - cached - written,
            output_tokens=self.output_tokens,
            cache_creation_input_tokens=written,
            cache_read_input_tokens=cached,
            reasoning_tokens=self.reasoning_tokens,
            model=model,
        )

    def _completed(self, item: Mapping[str, Any]) -> list[str]:
        kind = item.get("type")
        if kind == "agent_message" and isinstance(item.get("text"), str):
            self.last_message = item["text"]
            first = item["text"].strip().split("\n", 1)[0]
            return [_truncate(first)] if first else []
        if kind == "error" and isinstance(item.get("message"), str):
            self.warnings.append(item["message"])
            return [_truncate(f"warning: {item['message']}")]
        return []

    def _add_usage(self, usage: object) -> None:
        if not isinstance(usage, Mapping):
            return
        self.input_tokens += int_field(usage.get("input_tokens"))
        self.cached_input_tokens += int_field(usage.get("cached_input_tokens"))
        self.cache_write_input_tokens += int_field(usage.get("cache_write_input_tokens"))
        self.output_tokens += int_field(usage.get("output_tokens"))
        self.reasoning_tokens += int_field(usage.get("reasoning_output_tokens"))


def _echo_started(item: Mapping[str, Any]) -> list[str]:
    kind = item.get("type")
    if kind == "command_execution" and isinstance(item.get("command"), str):
        return [_truncate(f"→ exec: {_first_line(item['command'])}")]
    if kind == "file_change":
        changes = item.get("changes")
        paths = [
            str(c.get("path"))
            for c in (changes if isinstance(changes, list) else [])
            if isinstance(c, Mapping) and c.get("path")
        ]
        return [_truncate(f"→ edit: {', '.join(paths)}")] if paths else []
    return []


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def _truncate(text: str) -> str:
    return text if len(text) <= ECHO_WIDTH else text[: ECHO_WIDTH - 1] + "…"
