"""The results files: a Markdown table and a JSON document with every sample."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.timing import Row, Settings, Stats


def write_results(
    rows: Sequence[Row], settings: Settings, loads: Sequence[tuple[float, ...]], out: Path
) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": settings.runs,
        "quick": settings.quick,
        "machine": f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}",
        "load_before": loads[0],
        "load_after": loads[-1],
    }
    document = {"meta": meta, "results": [_row_json(row) for row in rows]}
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path.write_text(markdown(rows, meta))
    return md_path, json_path


def markdown(rows: Sequence[Row], meta: dict[str, object]) -> str:
    head = (
        f"Run {meta['date']} on {meta['machine']}; median of {meta['runs']} runs after a"
        f" warm-up{' (--quick sizes)' if meta['quick'] else ''}. Load average (1/5/15 min)"
        f" before {_load(meta['load_before'])}, after {_load(meta['load_after'])}.\n\n"
    )
    lines = [
        "| benchmark | case | median | min | max | baseline (median) | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        stats, base = row.stats, row.baseline
        cells = [
            row.benchmark,
            row.case,
            _num(stats.median, row.unit) if stats else "n/a",
            _num(stats.low, row.unit) if stats else "",
            _num(stats.high, row.unit) if stats else "",
            f"{_num(base.median, row.unit)} {row.baseline_name}" if base else "",
            f"{row.ratio:.2f}x" if row.ratio is not None else "",
            row.target,
            {True: "met", False: "**missed**", None: ""}[row.met],
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    notes = [f"- {row.benchmark}, {row.case}: {_one_line(row.note)}" for row in rows if row.note]
    return (
        head + "\n".join(lines) + "\n" + ("\nNotes:\n\n" + "\n".join(notes) + "\n" if notes else "")
    )


def _row_json(row: Row) -> dict[str, object]:
    baseline = {"name": row.baseline_name, **_stats_json(row.baseline)} if row.baseline else None
    return {
        "benchmark": row.benchmark,
        "case": row.case,
        "unit": row.unit,
        **_stats_json(row.stats),
        "baseline": baseline,
        "ratio": row.ratio,
        "target": row.target or None,
        "met": row.met,
        "note": row.note or None,
        **({"extra": dict(row.extra)} if row.extra else {}),
    }


def _stats_json(stats: Stats | None) -> dict[str, object]:
    if stats is None:
        return {"median": None, "min": None, "max": None, "samples": []}
    return {
        "median": stats.median,
        "min": stats.low,
        "max": stats.high,
        "samples": list(stats.samples),
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _num(value: float, unit: str) -> str:
    if unit == "s" and value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def _load(load: object) -> str:
    return "/".join(f"{x:.2f}" for x in load) if isinstance(load, tuple | list) else "?"


def _cpus() -> int:
    return os.cpu_count() or 0
