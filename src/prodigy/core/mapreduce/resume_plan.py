"""Which items of an interrupted MapReduce job run again on resume, and from which attempt.

Pure: it is handed the store's item records, the DLQ failure counts and what git says has
landed (`Prodigy-Item` trailers on the parent branch), and decides:

- landed in git: merged, whatever the store says (reconciled when the store missed it);
- merged in the store: done, never run again;
- pending, running, succeeded but not landed, failed but not yet settled: run again in a
  fresh worktree (an agent may run more than once; its item lands at most once);
- dead-lettered: stays in the DLQ unless `max_retries` allows another try (an item that
  failed `n` times gets one more when `n <= max_retries`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from prodigy.core.records import ItemRecord, ItemState
from prodigy.core.variables import JsonValue

# Checkpoint passes of the phases run in the parent worktree (sequential runs use 1, 2, ...).
SETUP_PASS = -1
REDUCE_PASS = -2


@dataclass(frozen=True, slots=True)
class ResumePlan:
    reconcile: Mapping[str, str]  # item id -> merge commit: landed, store not yet merged
    rerun: Mapping[int, int]  # item index -> attempt number of its next run
    retried_from_dlq: tuple[str, ...]  # dead-lettered items given another try
    kept_in_dlq: tuple[str, ...]
    done: tuple[str, ...]  # merged (in the store or by reconciliation)

    @property
    def nothing_to_run(self) -> bool:
        return not self.rerun


def plan_resume(
    items: Sequence[ItemRecord],
    landed: Mapping[str, str],
    dlq_failures: Mapping[str, int],
    *,
    max_retries: int = 0,
) -> ResumePlan:
    """The resume plan of one job; `landed` maps item id -> merge commit from git."""
    reconcile: dict[str, str] = {}
    rerun: dict[int, int] = {}
    retried: list[str] = []
    kept: list[str] = []
    done: list[str] = []
    for item in items:
        if item.item_id in landed:
            if item.state is not ItemState.MERGED:
                reconcile[item.item_id] = landed[item.item_id]
            done.append(item.item_id)
        elif item.state is ItemState.MERGED:
            done.append(item.item_id)
        elif item.state is ItemState.DEAD_LETTERED:
            failures = dlq_failures.get(item.item_id, item.attempts)
            if failures <= max_retries:
                retried.append(item.item_id)
                rerun[item.index] = failures + 1
            else:
                kept.append(item.item_id)
        else:
            rerun[item.index] = item.attempts + 1 if item.attempts else 1
    return ResumePlan(
        reconcile=reconcile,
        rerun=rerun,
        retried_from_dlq=tuple(retried),
        kept_in_dlq=tuple(kept),
        done=tuple(done),
    )


def parse_landed(log: str, job_id: str) -> dict[str, str]:
    """Item id -> commit from `git log --format=%H%x01<trailer values>%x00` output.

    Trailer values are `<job-id>/<item-id>`, separated by \\x02; other jobs' are ignored.
    The oldest landing wins (log order is newest first) so the answer is stable.
    """
    landed: dict[str, str] = {}
    for record in log.split("\0"):
        sha, _, values = record.strip("\n").partition("\x01")
        for value in values.split("\x02"):
            job, _, item = value.strip().partition("/")
            if sha and job == job_id and item:
                landed[item] = sha
    return landed


def input_changes(
    stored: Sequence[JsonValue],
    current: Sequence[JsonValue],
    *,
    identity: Callable[[JsonValue], JsonValue] | None = None,
) -> tuple[list[JsonValue], list[JsonValue]]:
    """(added, removed) between the items stored at start and the input now, compared by
    content: a reordered input is no change (an item's identity is not its position).

    `identity` maps a value to what identifies it (both sides alike); resume passes the
    masker, so an item stored before its secret could be sealed still matches its source.
    """

    def key(value: JsonValue) -> str:
        return _canonical(identity(value) if identity is not None else value)

    before = Counter(key(v) for v in stored)
    after = Counter(key(v) for v in current)
    added_keys, removed_keys = after - before, before - after
    added = []
    for value in current:
        k = key(value)
        if added_keys[k] > 0:
            added_keys[k] -= 1
            added.append(value)
    removed = [v for v in stored if removed_keys[key(v)] > 0]
    return added, removed


def _canonical(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
