"""The MapReduce view: a live board on a terminal, periodic plain lines elsewhere, a summary.

Both displays are ordinary run displays (every progress event is shown as `describe` says)
that also observe job events (`app.mapreduce.events.JobObserver`). The board shows an overall
progress bar (done, failed, running, pending), one line per running agent (item, current
step, elapsed), the merge queue length, and tokens and cost so far.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from prodigy.app.mapreduce.events import MapCounts
from prodigy.cli.display import ConsoleDisplay, PlainDisplay, describe, is_problem, stop_live
from prodigy.cli.inspect_format import short_reason
from prodigy.core.progress import Note, ProgressEvent, StepFinished, StepSkipped, StepStarted
from prodigy.core.records import EventRecord

_MAX_ROWS = 30  # a summary, not a log: failures first, then successes
_MAP_ENDED = ("map_phase_completed",)  # the items table is printed then, before reduce
_STYLE = {"info": "cyan", "warn": "yellow", "error": "red", "success": "green"}


@dataclass(slots=True)
class _Agent:
    item_id: str
    started: float
    step: str = "starting"
    what: str = ""  # what the item is (its name, path or id field), as the run recorded it


@dataclass(slots=True)
class MapBoard:
    """What the map phase looks like now, folded from job events and counts."""

    counts: MapCounts | None = None
    agents: dict[str, _Agent] = field(default_factory=dict)
    tokens: int = 0
    cost: float = 0.0
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # item id -> summary row
    summarized: bool = False  # the items table was printed (once, when the map phase ended)

    def apply(self, event: EventRecord) -> None:
        payload, agent = event.payload, event.agent_id or ""
        kind = event.event_type
        if kind == "agent_started":
            self.agents[agent] = _Agent(
                str(payload.get("item_id", "")),
                time.monotonic(),
                what=str(payload.get("item_label") or ""),
            )
        elif kind == "agent_progress" and agent in self.agents:
            self.agents[agent].step = str(payload.get("step", ""))
        elif kind in ("agent_completed", "agent_failed"):
            self.agents.pop(agent, None)
            usage = payload.get("usage") or {}
            self.tokens += int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
            self.cost += float(usage.get("cost_usd", 0.0))
            self._row(payload, ok=kind == "agent_completed")
        elif kind == "merge_conflict" and not payload.get("resolved_by"):
            row = self.rows.get(str(payload.get("item_id")))
            if row is not None:
                row.update(status="merge conflict", error=payload.get("error", ""))

    def _row(self, payload: Mapping[str, Any], *, ok: bool) -> None:
        duration = payload.get("duration") or {}
        self.rows[str(payload.get("item_id"))] = {
            "status": "ok" if ok else "failed",
            "attempt": payload.get("attempt", 1),
            "node": str(payload.get("node") or ""),
            "seconds": duration.get("secs", 0) + duration.get("nanos", 0) / 1e9,
            "commits": len(payload.get("commits", ())),
            "error": "" if ok else str(payload.get("error") or ""),
        }

    def headline(self) -> str:
        c = self.counts
        if c is None:
            return ""
        return (
            f"map: {c.done}/{c.total} done, {c.failed} failed, {c.running} running,"
            f" {c.pending} pending; merge queue {c.merging}; {self.tokens} tokens,"
            f" ${self.cost:.4f}"
        )

    def render(self) -> RenderableType:
        c = self.counts
        if c is None:
            return Text("")
        line = Table.grid(padding=(0, 1))
        line.add_row(
            ProgressBar(total=max(c.total, 1), completed=c.done + c.failed, width=30),
            Text(
                f"{c.done}/{c.total} done, {c.failed} failed, {c.running} running,"
                f" {c.pending} pending",
                style="bold",
            ),
        )
        queue = f"merge queue {c.merging} · {self.tokens} tokens · ${self.cost:.4f}"
        parts: list[RenderableType] = [line, Text(queue, style="dim")]
        now = time.monotonic()
        for agent in sorted(self.agents.values(), key=lambda a: _index(a.item_id)):
            elapsed = now - agent.started
            item = f"{agent.item_id} {agent.what}".strip()
            parts.append(Text(f"  {item[:40]:<40} {agent.step[:50]:<50} {elapsed:4.0f}s"))
        return Group(*parts)

    def summary(self) -> Table | None:
        """The items table, the first time it is asked for (a run shows it once)."""
        if not self.rows or self.summarized:
            return None
        self.summarized = True
        table = Table(title="MapReduce items", show_lines=False)
        # where each attempt ran matters only when agents ran on a cluster
        remote = any(row["node"] not in ("", "local") for row in self.rows.values())
        names = ("item", "status", "attempt", *(("node",) if remote else ()), "time", "commits")
        for name in (*names, "error"):
            table.add_column(name)
        ordered = sorted(self.rows.items(), key=lambda kv: _index(kv[0]))
        failed = [(k, r) for k, r in ordered if r["status"] != "ok"]
        shown = failed[:_MAX_ROWS] + [(k, r) for k, r in ordered if r["status"] == "ok"]
        shown = sorted(shown[:_MAX_ROWS], key=lambda kv: _index(kv[0]))
        if len(ordered) > len(shown):
            table.caption = f"... and {len(ordered) - len(shown)} more items"
        for item, row in shown:
            table.add_row(
                item,
                row["status"],
                str(row["attempt"]),
                *((row["node"],) if remote else ()),
                f"{row['seconds']:.1f}s",
                str(row["commits"]),
                Text(short_reason(row["error"])),  # data, not rich markup
            )
        return table


def _index(item_id: str) -> int:
    tail = item_id.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PlainMapDisplay(PlainDisplay):
    """Timestamped lines; the map's state at most every `interval` seconds; a summary."""

    def __init__(self, verbosity: int = 0, out: TextIO | None = None, interval: float = 5.0):
        super().__init__(verbosity, out)
        self.board = MapBoard()
        self.interval = interval
        self._last = 0.0
        self._shown = ""

    def job_event(self, event: EventRecord) -> None:
        self.board.apply(event)
        if event.event_type == "agent_failed" and self.verbosity >= 1:
            error = short_reason(str(event.payload.get("error") or ""), 200)
            self._line(f"✗ {event.payload.get('item_id')}: {error}", problem=True)
        if event.event_type in _MAP_ENDED:
            self._print_summary()

    def _print_summary(self) -> None:
        table = self.board.summary()
        if table is not None:
            Console(file=self.out, width=120, color_system=None).print(table)

    def map_counts(self, counts: MapCounts) -> None:
        self.board.counts = counts
        headline = self.board.headline()
        finished = counts.done + counts.failed == counts.total
        due = finished or time.monotonic() - self._last >= self.interval
        if due and headline != self._shown:
            self._last, self._shown = time.monotonic(), headline
            self._line(headline)

    def close(self) -> None:
        self._print_summary()


class LiveMapDisplay(ConsoleDisplay):
    """A rich live board: the current setup/reduce step, the map progress and agents."""

    def _start(self) -> None:
        self.board = MapBoard()
        self._step: StepStarted | None = None
        self._step_started = 0.0
        self._spinner = Spinner("dots")
        self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
        self._live.start()

    def __rich__(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self._step is not None:
            elapsed = time.monotonic() - self._step_started
            self._spinner.text = Text(f" {self._step.label}  {elapsed:0.0f}s", style="bold")
            parts.append(self._spinner)
        if not self.board.summarized:  # once the table is out, the board has said its last
            parts.append(self.board.render())
        return Group(*parts)

    def emit(self, event: ProgressEvent) -> None:
        if isinstance(event, StepStarted):
            self._step, self._step_started = event, time.monotonic()
        elif isinstance(event, StepFinished | StepSkipped):
            self._step = None
        text = describe(event, self.verbosity)
        if text is not None:
            style = _STYLE.get(event.level, "") if isinstance(event, Note) else ""
            console = self.err_console if is_problem(event) else self.console
            console.print(Text(text, style=style))

    def job_event(self, event: EventRecord) -> None:
        self.board.apply(event)
        if event.event_type in _MAP_ENDED:
            self._print_summary()

    def _print_summary(self) -> None:
        counts = self.board.counts
        table = self.board.summary()
        if table is not None:
            if counts is not None:
                self.console.print(self.board.headline())
            self.console.print(table)

    def map_counts(self, counts: MapCounts) -> None:
        self.board.counts = counts

    def close(self) -> None:
        stop_live(self._live)
        self._print_summary()


def make_run_display(verbosity: int) -> PlainMapDisplay | LiveMapDisplay:
    """The display of `prodigy run`: live board on a terminal, plain lines otherwise."""
    if sys.stdout.isatty():
        return LiveMapDisplay(verbosity)
    return PlainMapDisplay(verbosity)
