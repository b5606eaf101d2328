"""Reader of `gemini --output-format stream-json` events: session, answer, tools, usage, failure.

Events (Gemini CLI 0.6x): `init` {session_id, model}, `message` {role, content, delta},
`tool_use` {tool_name, tool_id, parameters}, `tool_result` {tool_id, status, output},
`error` {severity, message} (a warning; the run goes on) and the final `result` {status:
success | error, error: {type, message}, stats}. The stats count tokens per model, because
the CLI routes between models (a flash model decides, a pro model may work).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prodigy.core.usage import Usage, int_field

ECHO_WIDTH = 120
# Which parameter best says what a Gemini CLI tool call does.
_TOOL_SUBJECT = {
    "run_shell_command": "command",
    "write_file": "file_path",
    "replace": "file_path",
    "read_file": "file_path",
    "list_directory": "dir_path",
    "glob": "pattern",
    "grep_search": "pattern",
    "web_fetch": "prompt",
    "google_web_search": "query",
}


@dataclass(slots=True)
class GeminiEvents:
    """Folds Gemini CLI events as they arrive; see the module docstring for the protocol."""

    session_id: str | None = None
    result: Mapping[str, Any] | None = None
    answer: list[str] = field(default_factory=list)  # assistant text since the last tool call
    last_text: str = ""
    tool_calls: int = 0
    warnings: list[str] = field(default_factory=list)
    records: int = 0

    def feed(self, record: Mapping[str, Any]) -> list[str]:
        """Take one event; the live one-liners it deserves."""
        self.records += 1
        kind = record.get("type")
        if kind == "init" and isinstance(record.get("session_id"), str):
            self.session_id = record["session_id"]
        elif kind == "message" and record.get("role") == "assistant":
            content = record.get("content")
            if isinstance(content, str):
                self.answer.append(content)
        elif kind == "tool_use":
            self.tool_calls += 1
            return [*self._flush(), _truncate(f"→ {_tool_call(record)}")]
        elif kind == "error" and isinstance(record.get("message"), str):
            self.warnings.append(record["message"])
        elif kind == "result":
            self.result = dict(record)
            return self._flush()
        return []

    @property
    def succeeded(self) -> bool:
        return self.result is not None and self.result.get("status") == "success"

    @property
    def text(self) -> str:
        """The final answer: the assistant's text after its last tool call."""
        return "".join(self.answer).strip() or self.last_text

    @property
    def failure(self) -> str:
        """What the result record said went wrong ('' when it did not say)."""
        error = self.result.get("error") if self.result is not None else None
        if isinstance(error, Mapping):
            return str(error.get("message") or error.get("type") or "error")
        return ""

    def usage(self) -> tuple[Usage, dict[str, Usage]]:
        """Normalised usage of the run, and the same per model (for pricing).

        Gemini's input tokens include the cached ones; its output tokens exclude thinking,
        which the stream only shows inside `total_tokens`: reasoning = total - input - output.
        """
        stats = self.result.get("stats") if self.result is not None else None
        stats = stats if isinstance(stats, Mapping) else {}
        models = stats.get("models")
        models = models if isinstance(models, Mapping) else {}
        per_model = {
            str(name): _model_usage(str(name), counts)
            for name, counts in models.items()
            if isinstance(counts, Mapping) and int_field(counts.get("total_tokens")) > 0
        }
        total = sum(per_model.values(), Usage())
        if not per_model and stats:  # an older CLI without the per-model split
            total = _model_usage("", stats)
        turns = max(1, int_field(stats.get("tool_calls")) + 1) if self.result is not None else 0
        return Usage(
            turns=turns,
            input_tokens=total.input_tokens,
            output_tokens=total.output_tokens,
            cache_read_input_tokens=total.cache_read_input_tokens,
            reasoning_tokens=total.reasoning_tokens,
            model=total.model,
        ), per_model

    def _flush(self) -> list[str]:
        text = "".join(self.answer).strip()
        self.answer.clear()
        if not text:
            return []
        self.last_text = text
        return [_truncate(text.split("\n", 1)[0])]


def _model_usage(name: str, counts: Mapping[str, Any]) -> Usage:
    prompt = int_field(counts.get("input_tokens"))
    cached = min(int_field(counts.get("cached")), prompt)
    output = int_field(counts.get("output_tokens"))
    reasoning = max(0, int_field(counts.get("total_tokens")) - prompt - output)
    return Usage(
        input_tokens=prompt - cached,
        output_tokens=output + reasoning,
        cache_read_input_tokens=cached,
        reasoning_tokens=reasoning,
        model=name or None,
    )


def _tool_call(record: Mapping[str, Any]) -> str:
    name = str(record.get("tool_name") or "tool")
    parameters = record.get("parameters")
    if not isinstance(parameters, Mapping):
        return name
    subject = parameters.get(_TOOL_SUBJECT.get(name, ""))
    if not isinstance(subject, str):
        subject = next((v for v in parameters.values() if isinstance(v, str)), "")
    subject = subject.strip().split("\n", 1)[0]
    return f"{name}: {subject}" if subject else name


def _truncate(text: str) -> str:
    return text if len(text) <= ECHO_WIDTH else text[: ECHO_WIDTH - 1] + "…"
