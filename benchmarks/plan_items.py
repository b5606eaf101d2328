"""`python -m benchmarks.plan_items FILE`: plan benchmark 2's selection with prodigy's own
item pipeline, as `prodigy run` does for a map input file; prints the selected ids as JSON and
the in-process seconds on stderr."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from prodigy.core.mapreduce.items import ItemSelection, select_items
from prodigy.core.mapreduce.job_plan import parse_input_document

SELECTION = ItemSelection(
    json_path="$.items[*]",
    filter="status == 'open' && (score >= 20 || priority > 7)",
    sort_by="priority DESC, score",
    distinct="group",
    max_items=1000,
)
# The same selection in jq. Distinct keeps the first of each group in sorted order: number the
# sorted items, group (a stable sort), keep each group's first, restore the order.
JQ_FILTER = (
    '[.items[] | select(.status == "open" and (.score >= 20 or .priority > 7))]'
    " | sort_by(-.priority, .score) | to_entries | group_by(.value.group) | map(.[0])"
    " | sort_by(.key) | .[:1000] | map(.value.id)"
)


def main(path: str) -> None:
    start = time.perf_counter()
    source = Path(path)
    items = select_items(parse_input_document(source.read_text(encoding="utf-8"), path), SELECTION)
    elapsed = time.perf_counter() - start
    print(json.dumps([item["id"] for item in items]))  # type: ignore[index]
    print(f"{elapsed:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
