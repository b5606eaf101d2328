"""Incremental reader of Claude Code's `--output-format stream-json --verbose` output.

Each stdout line is saved to the log as it arrives, then parsed on its own: `system/init`
gives the session id and model, `assistant` content blocks give the live echo, and the final
`result` record gives success, result text, turns, duration, tokens and cost. Lines that are
not JSON objects are kept in the log and otherwise ignored. Lines have no length limit.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from prodigy.core.usage import Usage, float_field, int_field
from prodigy.runtime.agents.base import TextCallback
from prodigy.runtime.private_files import open_private

Record = dict[str, Any]

ECHO_WIDTH = 120
# Which input field best says what a tool call does, per Claude Code tool name.
_TOOL_SUBJECT = {
    "Bash": "command",
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
    "Glob": "pattern",
    "Grep": "pattern",
    "Task": "description",
    "WebFetch": "url",
    "WebSearch": "query",
}


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """What a finished stream said. `result` is the raw final `result` record, if any."""

    session_id: str | None = None
    model: str | None = None
    result: Mapping[str, Any] | None = None
    last_text: str = ""
    # `rate_limit_event` infos: the newest `rejected` one (a usage limit: quota), the
    # newest `allowed_warning` one (nearing it)
    rejected: Mapping[str, Any] | None = None
    warning: Mapping[str, Any] | None = None
    records: int = 0
    ignored_lines: int = 0

    @property
    def is_error(self) -> bool:
        """True unless a result record said `is_error: false`."""
        return self.result is None or self.result.get("is_error") is not False

    @property
    def result_text(self) -> str:
        """The final answer; error results may carry none, then the last assistant text."""
        text = self.result.get("result") if self.result is not None else None
        return text if isinstance(text, str) else self.last_text

    @property
    def error_detail(self) -> str:
        """Why an error result failed: its text, else its subtype and `errors` list."""
        if self.result is None:
            return ""
        if self.result_text:
            return self.result_text
        errors = self.result.get("errors")
        details = [str(e) for e in errors] if isinstance(errors, list) else []
        return "; ".join([str(self.result.get("subtype", "error")), *details])

    def usage(self) -> Usage:
        """Usage from the result record; zero when the stream ended without one."""
        result = self.result or {}
        tokens = result.get("usage")
        tokens = tokens if isinstance(tokens, Mapping) else {}
        return Usage(
            duration_ms=int_field(result.get("duration_ms")),
            turns=int_field(result.get("num_turns")),
            input_tokens=int_field(tokens.get("input_tokens")),
            output_tokens=int_field(tokens.get("output_tokens")),
            cache_creation_input_tokens=int_field(tokens.get("cache_creation_input_tokens")),
            cache_read_input_tokens=int_field(tokens.get("cache_read_input_tokens")),
            cost_usd=float_field(result.get("total_cost_usd")),
            model=self.model or _main_model(result.get("modelUsage")),
            # Claude Code reports its cost; without a result record nobody knows it
            cost_source="reported" if _is_number(result.get("total_cost_usd")) else "unknown",
        )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_record(line: str) -> Record | None:
    """The JSON object on this line, or None for blank, non-JSON or non-object lines."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def echo_lines(record: Mapping[str, Any]) -> list[str]:
    """Live one-liners for an assistant record: its text blocks and its tool calls."""
    if record.get("type") != "assistant":
        return []
    message = record.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    lines: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            first = block["text"].strip().split("\n", 1)[0]
            if first:
                lines.append(_truncate(first))
        elif block.get("type") == "tool_use":
            lines.append(_truncate(f"→ {_tool_call(block)}"))
    return lines


def _tool_call(block: Mapping[str, Any]) -> str:
    name = str(block.get("name") or "tool")
    tool_input = block.get("input")
    if not isinstance(tool_input, Mapping):
        return name
    subject = tool_input.get(_TOOL_SUBJECT.get(name, ""))
    if not isinstance(subject, str):
        subject = next((v for v in tool_input.values() if isinstance(v, str)), "")
    subject = subject.strip().split("\n", 1)[0]
    return f"{name}: {subject}" if subject else name


def _truncate(text: str) -> str:
    return text if len(text) <= ECHO_WIDTH else text[: ECHO_WIDTH - 1] + "…"


def _main_model(model_usage: object) -> str | None:
    # modelUsage maps model name -> {costUSD, ...}; the most expensive one did the work
    if not isinstance(model_usage, Mapping) or not model_usage:
        return None

    def cost(name: str) -> float:
        entry = model_usage.get(name)
        return float_field(entry.get("costUSD")) if isinstance(entry, Mapping) else 0.0

    return str(max(sorted(model_usage), key=cost))


@dataclass(slots=True)
class StreamRecorder:
    """Saves every line to the log as it arrives and folds records into a summary."""

    log: IO[str] | None = None
    on_text: TextCallback | None = None
    mask: Callable[[str], str] | None = None  # secrets never reach the log file
    _summary: StreamSummary = field(default_factory=StreamSummary)

    def feed(self, line: str) -> None:
        """Take one stdout line (without its newline)."""
        if self.log is not None:
            self.log.write((line if self.mask is None else self.mask(line)) + "\n")
            self.log.flush()  # so the log can be tailed while the agent works
        record = parse_record(line)
        if record is None:
            self._summary = replace(self._summary, ignored_lines=self._summary.ignored_lines + 1)
            return
        self._summary = fold(self._summary, record)
        if self.on_text is not None:
            for text in echo_lines(record):
                self.on_text(text)

    def feed_record(self, record: Record) -> None:
        """Take a record produced in-process (the scripted agent), as one JSON line."""
        self.feed(json.dumps(record, ensure_ascii=False))

    @property
    def summary(self) -> StreamSummary:
        return self._summary


def fold(summary: StreamSummary, record: Mapping[str, Any]) -> StreamSummary:
    """The summary after one more record."""
    kind = record.get("type")
    session = record.get("session_id")
    updates: dict[str, Any] = {"records": summary.records + 1}
    if isinstance(session, str) and session:
        updates["session_id"] = session
    if kind == "system" and record.get("subtype") == "init":
        model = record.get("model")
        if isinstance(model, str) and model:
            updates["model"] = model
    elif kind == "assistant":
        text = _assistant_text(record)
        if text:
            updates["last_text"] = text
    elif kind == "result":
        updates["result"] = dict(record)
    elif kind == "rate_limit_event":
        info = record.get("rate_limit_info")
        status = info.get("status") if isinstance(info, Mapping) else None
        if status == "rejected":
            updates["rejected"] = dict(info)  # type: ignore[arg-type]
        elif status == "allowed_warning":
            updates["warning"] = dict(info)  # type: ignore[arg-type]
    return replace(summary, **updates)


def _assistant_text(record: Mapping[str, Any]) -> str:
    message = record.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    blocks = content if isinstance(content, list) else []
    texts = [
        b["text"]
        for b in blocks
        if isinstance(b, Mapping) and b.get("type") == "text" and isinstance(b.get("text"), str)
    ]
    return "\n".join(texts).strip()


@contextlib.contextmanager
def open_recorder(
    log_path: Path | None,
    on_text: TextCallback | None,
    mask: Callable[[str], str] | None = None,
) -> Iterator[StreamRecorder]:
    """A recorder writing to `log_path` (parents created); the file is closed even on error."""
    if log_path is None:
        yield StreamRecorder(None, on_text, mask)
        return
    with open_private(log_path) as log:
        yield StreamRecorder(log, on_text, mask)
