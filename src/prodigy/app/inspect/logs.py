"""`prodigy logs`: every log prodigy saved for a session, listed and rendered readably.

Logs live under `$PRODIGY_HOME/logs/<repo-key>/<session-id>/`: `NNN-<label>.jsonl` for an
agent call (Claude's stream-json), `NNN-<label>.log` for a shell step, and the logs of a
MapReduce agent under `<job-id>/<item>-attempt-<n>/`. Each has a reference that names it
unambiguously: `3` (a session-level log: sequential steps, setup, reduce, merge) or
`item_3/2` (log 2 of item_3's first attempt; `item_3-attempt-2/1` for a later attempt).
The usage table links agent logs to their step (and MapReduce item) and cost.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prodigy.app.paths import logs_dir
from prodigy.core.errors import UsageError
from prodigy.core.prices import estimate_cost
from prodigy.core.records import SessionRecord, UsageRecord
from prodigy.core.usage import Usage
from prodigy.runtime.agents.cli_agent import FINAL_EVENTS
from prodigy.runtime.agents.codex_events import CodexEvents
from prodigy.runtime.agents.gemini_events import GeminiEvents
from prodigy.runtime.agents.stream_json import StreamSummary, echo_lines, fold, parse_record
from prodigy.store import Store

_PREVIEW = 160


_ATTEMPT_DIR = re.compile(r"^(?P<item>.+)-attempt-(?P<attempt>\d+)$")
_NUMBERED = re.compile(r"^(?P<number>\d+)-")
LOG_SUFFIXES = (".jsonl", ".log")


@dataclass(frozen=True, slots=True)
class LogFile:
    path: Path
    size: int
    modified: datetime
    usage: UsageRecord | None  # the step (and item) that wrote it, with its cost
    ref: str = ""  # `3`, `item_3/2`: what `prodigy logs SESSION REF` takes
    item_id: str | None = None  # the MapReduce item whose agent wrote it

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_agent_log(self) -> bool:
        return self.path.suffix == ".jsonl"

    def to_json(self) -> dict[str, object]:
        u = self.usage
        return {
            "ref": self.ref,
            "name": self.name,
            "kind": "agent" if self.is_agent_log else "shell",
            "path": str(self.path),
            "size": self.size,
            "modified": self.modified.isoformat(),
            "step": u.step_id if u else None,
            "item_id": u.item_id if u and u.item_id else self.item_id,
            "job_id": u.job_id if u else None,
            "cost_usd": u.usage.cost_usd if u else None,
            "total_tokens": u.usage.total_tokens if u else None,
        }


def session_log_dir(home: Path, session: SessionRecord) -> Path | None:
    """`logs/<repo-key>/<session-id>`; None if the ids would point anywhere else."""
    # Ids are data: whatever they hold, reading or deleting logs never leaves this folder.
    root = logs_dir(home).resolve()
    folder = (root / session.repo_key / session.id).resolve()
    return folder if folder.parent.parent == root else None


def session_logs(
    store: Store, home: Path, session: SessionRecord, *, item: str | None = None
) -> list[LogFile]:
    """The session's logs, agent and shell, in the order they were written (oldest first);
    `item` keeps only the logs of that MapReduce work item."""
    entries = store.usage.entries(session.id)
    by_path = {Path(e.log_path).resolve(): e for e in entries if e.log_path}
    folder = session_log_dir(home, session)
    paths: set[Path] = set()
    if folder is not None and folder.is_dir():
        paths = {p.resolve() for p in folder.rglob("*") if p.suffix in LOG_SUFFIXES}
    paths |= {p for p in by_path if p.is_file()}
    logs = [_log_file(p, by_path.get(p), folder) for p in paths if p.is_file()]
    if item is not None:
        logs = [log for log in logs if log.item_id == item]
    return sorted(logs, key=lambda log: (log.modified, log.ref))


def _log_file(path: Path, usage: UsageRecord | None, folder: Path | None) -> LogFile:
    stat = path.stat()
    ref, item = _reference(path, folder)
    if usage is not None and usage.item_id:
        item = usage.item_id
    return LogFile(path, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC), usage, ref, item)


def _reference(path: Path, folder: Path | None) -> tuple[str, str | None]:
    """(`3` or `item_3/2`, the item): the number of the file, below its item's directory."""
    number = _NUMBERED.match(path.name)
    short = str(int(number["number"])) if number else path.stem
    attempt = _ATTEMPT_DIR.match(path.parent.name)
    if attempt is not None:
        item = attempt["item"]
        where = item if attempt["attempt"] == "1" else path.parent.name
        return f"{where}/{short}", item
    if folder is not None and path.parent != folder.resolve():
        try:  # some other folder below the session's: name it by its relative path
            return str(path.relative_to(folder.resolve())), None
        except ValueError:
            return str(path), None
    return short, None


def pick_log(logs: list[LogFile], which: str | None) -> LogFile:
    """The log named by `which`: its reference (`2`, `002`, `item_3/2`), file name or path;
    the newest one when `which` is None. A plain number names a session-level log only,
    never an item's, so it means one log whatever the number of items."""
    if not logs:
        raise UsageError("no logs to show; `prodigy logs SESSION` lists a session's logs")
    if which is None:
        return logs[-1]
    wanted = _normal_ref(which)
    for log in logs:
        if wanted == _normal_ref(log.ref) or which in (log.name, log.path.stem, str(log.path)):
            return log
    refs = ", ".join(log.ref for log in logs)
    raise UsageError(f"no log {which!r} in this session; it has: {refs}")


def _normal_ref(ref: str) -> str:
    """`item_3/002` and `item_3/2` are one reference; so are `003` and `3`."""
    head, sep, tail = ref.rpartition("/")
    tail = str(int(tail)) if tail.isdigit() else tail
    return f"{head}{sep}{tail}"


def render_record(record: Mapping[str, Any]) -> list[str]:
    """Readable lines for one stream-json record: text, tool calls, tool results, result."""
    kind = record.get("type")
    if kind == "system" and record.get("subtype") == "init":
        return [
            f"[init] model {record.get('model', '?')} · claude session "
            f"{record.get('session_id', '?')} · cwd {record.get('cwd', '?')}"
        ]
    if kind == "assistant":
        return _assistant(record)
    if kind == "user":
        return _tool_results(record)
    if kind == "result" and "is_error" not in record and "status" in record:
        return _gemini_result(record)
    if kind == "result":
        return _result(record)
    return _codex_or_gemini(record)


def _codex_or_gemini(record: Mapping[str, Any]) -> list[str]:
    """Lines for the events of `codex exec --json` and `gemini --output-format stream-json`."""
    kind = record.get("type")
    if kind == "thread.started":
        return [f"[init] codex thread {record.get('thread_id', '?')}"]
    if kind == "init":
        return [
            f"[init] model {record.get('model', '?')} · gemini session "
            f"{record.get('session_id', '?')}"
        ]
    if kind == "turn.completed":
        usage = CodexEvents()
        usage.feed(record)
        return [f"[result] success · {_tokens(usage.usage(None))}"]
    if kind == "turn.failed":
        error = record.get("error")
        message = error.get("message") if isinstance(error, Mapping) else None
        return [f"[result] error: {_clip(str(message or '?'))}"]
    if kind == "error":
        return [f"error: {_clip(str(record.get('message') or '?'))}"]
    if kind == "message" and record.get("role") == "assistant":
        text = str(record.get("content") or "").strip()
        return [f"assistant: {_clip(text)}"] if text else []
    if kind == "tool_result":
        output = str(record.get("output") or "").strip()
        label = "result" if record.get("status") == "success" else "error"
        return [f"  ← {label}: {_clip(output.splitlines()[0]) if output else '(no output)'}"]
    if kind == "item.completed" and isinstance(record.get("item"), Mapping):
        item = record["item"]
        if item.get("type") == "command_execution":
            output = str(item.get("aggregated_output") or "").strip()
            first = _clip(output.splitlines()[0]) if output else "(no output)"
            return [f"  ← exit {item.get('exit_code')}: {first}"]
        return [f"assistant: {line}" for line in CodexEvents().feed(record)]
    if kind in ("item.started", "tool_use"):
        echo = CodexEvents().feed(record) if kind == "item.started" else GeminiEvents().feed(record)
        return [f"  {line}" for line in echo]
    return []


def _gemini_result(record: Mapping[str, Any]) -> list[str]:
    events = GeminiEvents()
    events.feed(record)
    usage, _ = events.usage()
    if events.succeeded:
        return [f"[result] success · {_tokens(usage)}"]
    return [f"[result] error · {_tokens(usage)}", f"  {_clip(events.failure)}"]


def _tokens(usage: Usage) -> str:
    return (
        f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens"
        f" ({usage.cache_read_input_tokens:,} cache read)"
    )


def _blocks(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    message = record.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    return [b for b in content if isinstance(b, Mapping)] if isinstance(content, list) else []


def _assistant(record: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for block in _blocks(record):
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            text = block["text"].strip()
            lines += [
                f"assistant: {line}" if i == 0 else f"           {line}"
                for i, line in enumerate(text.splitlines())
            ]
        elif block.get("type") == "tool_use":
            single = {"type": "assistant", "message": {"content": [dict(block)]}}
            lines += [f"  {line}" for line in echo_lines(single)]
    return lines


def _tool_results(record: Mapping[str, Any]) -> list[str]:
    lines = []
    for block in _blocks(record):
        if block.get("type") != "tool_result":
            continue
        content = block.get("content")
        if isinstance(content, list):
            content = " ".join(str(c.get("text", "")) for c in content if isinstance(c, Mapping))
        text = str(content or "").strip()
        first = text.splitlines()[0] if text else "(no output)"
        more = len(text.splitlines()) - 1
        label = "error" if block.get("is_error") else "result"
        tail = f" (+{more} lines)" if more > 0 else ""
        lines.append(f"  ← {label}: {_clip(first)}{tail}")
    return lines


def _result(record: Mapping[str, Any]) -> list[str]:
    usage = StreamSummary(result=dict(record)).usage()
    outcome = "error" if record.get("is_error") is not False else "success"
    head = (
        f"[result] {outcome} · {usage.turns} turn(s) · {usage.duration_ms / 1000:.1f} s · "
        f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens"
        f" ({usage.total_tokens:,} with cache) · ${usage.cost_usd:.4f}"
    )
    text = record.get("result")
    body = [f"  {line}" for line in text.strip().splitlines()] if isinstance(text, str) else []
    return [head, *body]


def _clip(text: str) -> str:
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def render_lines(lines: Iterable[str]) -> Iterator[str]:
    """Readable output for raw log lines; lines that are not JSON are shown as they are."""
    for line in lines:
        record = parse_record(line)
        if record is None:
            if line.strip():
                yield f"  | {_clip(line.rstrip())}"
            continue
        yield from render_record(record)


@dataclass(frozen=True, slots=True)
class LogSummary:
    summary: StreamSummary  # for Codex and Gemini logs: session, model, outcome and text only
    assistant_messages: int
    tool_calls: int
    usage: Usage

    def to_json(self) -> dict[str, object]:
        s = self.summary
        return {
            "claude_session_id": s.session_id,
            "model": s.model,
            "records": s.records,
            "assistant_messages": self.assistant_messages,
            "tool_calls": self.tool_calls,
            "finished": s.result is not None,
            "is_error": s.is_error if s.result is not None else None,
            "usage": self.usage.to_dict(),
        }


def summarize(path: Path) -> LogSummary:
    """What a log says: Claude Code's stream-json, or Codex's or Gemini CLI's events."""
    records = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        records = [r for r in map(parse_record, handle) if r is not None]
    first = records[0].get("type") if records else None
    if first == "thread.started":
        return _summarize_codex(records)
    if first == "init":
        return _summarize_gemini(records)
    summary, messages, calls = StreamSummary(), 0, 0
    for record in records:
        summary = fold(summary, record)
        if record.get("type") == "assistant":
            messages += 1
            calls += sum(b.get("type") == "tool_use" for b in _blocks(record))
    return LogSummary(summary, messages, calls, summary.usage())


def _summarize_codex(records: list[dict[str, Any]]) -> LogSummary:
    events = CodexEvents()
    for record in records:
        events.feed(record)
    items = [r.get("item") for r in records if r.get("type") == "item.completed"]
    kinds = [i.get("type") for i in items if isinstance(i, Mapping)]
    ended = events.turns_completed > 0 or events.failure is not None
    result = {"is_error": not events.succeeded, "result": events.failure or events.last_message}
    summary = StreamSummary(
        session_id=events.thread_id, result=result if ended else None, records=len(records)
    )
    usage = events.usage(None)  # Codex's events do not name the model
    return LogSummary(
        summary,
        kinds.count("agent_message"),
        sum(k in ("command_execution", "file_change", "mcp_tool_call") for k in kinds),
        replace(usage, cost_source="unknown"),  # no model, no price (the store has the estimate)
    )


def _summarize_gemini(records: list[dict[str, Any]]) -> LogSummary:
    events = GeminiEvents()
    for record in records:
        events.feed(record)
    usage, per_model = events.usage()
    result = {"is_error": not events.succeeded, "result": events.failure or events.text}
    summary = StreamSummary(
        session_id=events.session_id,
        model=usage.model,
        result=result if events.result is not None else None,
        records=len(records),
    )
    messages = sum(r.get("type") == "message" and r.get("role") == "assistant" for r in records)
    return LogSummary(summary, messages, events.tool_calls, estimate_cost(usage, per_model))


def follow(
    path: Path,
    *,
    poll: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """The log's lines, then each new line as it is written, until the agent's final record
    arrives (Claude's or Gemini's `result`, Codex's end of turn). Stop earlier with Ctrl-C."""
    partial = ""
    with path.open(encoding="utf-8", errors="replace") as handle:
        while True:
            chunk = handle.readline()
            if not chunk:
                sleep(poll)
                continue
            partial += chunk
            if not partial.endswith("\n"):
                continue  # the writer is mid-line; wait for the rest
            line, partial = partial, ""
            yield line
            record = parse_record(line)
            if record is not None and record.get("type") in FINAL_EVENTS:
                return


def wait_for_logs(
    store: Store,
    home: Path,
    session: SessionRecord,
    *,
    item: str | None,
    is_live: Callable[[], bool],
    poll: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> list[LogFile]:
    """The session's logs once there are any, waiting while it runs; [] if it never writes one."""
    while True:
        found = session_logs(store, home, session, item=item)
        if found or not is_live():
            return found
        sleep(poll)
