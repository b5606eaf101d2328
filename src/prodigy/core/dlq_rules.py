"""The dead letter queue's rules: error signatures, filters, statistics, analysis, eviction.

Pure: records and times come in, values come out. Timestamps are the store's RFC 3339 UTC
strings (`2026-11-25T15:50:59.123456Z`), which sort as text.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prodigy.core.records import DlqRecord

SIGNATURE_WORDS = 10
SAMPLE_IDS = 3
EVICT_FRACTION = 10  # a full queue drops its oldest 1/10th


def error_type_name(error_type: Any) -> str:
    """The type as prodigy's Debug format writes it: `Timeout`, `CommandFailed { exit_code: 3 }`.

    The exit code stays in the name so that exit 1 and exit 2 do not group together.
    """
    if isinstance(error_type, Mapping) and len(error_type) == 1:
        [(name, fields)] = error_type.items()
        if isinstance(fields, Mapping) and fields:
            inner = ", ".join(f"{key}: {value}" for key, value in fields.items())
            return f"{name} {{ {inner} }}"
        return str(name)
    return str(error_type) if error_type else "Unknown"


def error_type_key(error_type: Any) -> str:
    """Just the variant name (`CommandFailed`), for filtering and the type distribution."""
    if isinstance(error_type, Mapping) and len(error_type) == 1:
        return str(next(iter(error_type)))
    return str(error_type) if error_type else "Unknown"


def error_signature(error_type: Any, message: str) -> str:
    """`<type>::<first 10 words>` after dropping words holding a `/` or made only of digits,
    except the slash command of a `claude:` step.

    Paths and counts vary between items that fail the same way; dropping them groups those.
    """
    all_words = message.split()
    words = [
        w
        for i, w in enumerate(all_words)
        if _slash_command(all_words, i) or ("/" not in w and not w.isdigit())
    ]
    return f"{error_type_name(error_type)}::{' '.join(words[:SIGNATURE_WORDS])}"


_COMMAND_NAME = re.compile(r"/[A-Za-z][A-Za-z0-9_.:-]*")


def _slash_command(words: list[str], index: int) -> bool:
    """`/fix-issue` right after `claude:` names the command that failed: it is what
    groups failures, unlike a path."""
    word = words[index].rstrip("):,")
    # a literal name only: `/${item.cmd}` says nothing the item does not
    return (
        index > 0
        and words[index - 1].endswith("claude:")
        and _COMMAND_NAME.fullmatch(word) is not None
    )


# --- filters ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DlqFilter:
    """`dlq list` options; None means "any". Times compare with the last attempt."""

    job_id: str | None = None
    error_type: str | None = None  # matched against every attempt's type, case-insensitive
    eligible: bool | None = None
    since: str | None = None  # inclusive
    until: str | None = None  # exclusive
    signature: str | None = None  # substring, case-insensitive
    limit: int | None = None


def attempt_types(record: DlqRecord) -> list[str]:
    return [error_type_key(entry.get("error_type")) for entry in record.failure_history]


def matches(record: DlqRecord, wanted: DlqFilter) -> bool:
    checks = (
        wanted.job_id is None or record.job_id == wanted.job_id,
        wanted.error_type is None
        or wanted.error_type.lower() in (t.lower() for t in attempt_types(record)),
        wanted.eligible is None or record.reprocess_eligible is wanted.eligible,
        wanted.since is None or record.last_attempt >= wanted.since,
        wanted.until is None or record.last_attempt < wanted.until,
        wanted.signature is None or wanted.signature.lower() in record.error_signature.lower(),
    )
    return all(checks)


def newest_first(records: Iterable[DlqRecord]) -> list[DlqRecord]:
    """Newest last attempt first; ties in job and item order, so listings are stable."""
    ordered = sorted(records, key=lambda r: (r.job_id, r.item_id))
    return sorted(ordered, key=lambda r: r.last_attempt, reverse=True)


def select(records: Iterable[DlqRecord], wanted: DlqFilter) -> list[DlqRecord]:
    found = newest_first(r for r in records if matches(r, wanted))
    return found if wanted.limit is None else found[: wanted.limit]


# --- statistics ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DlqStats:
    total: int
    eligible: int
    manual_review: int
    oldest_first_attempt: str | None
    newest_last_attempt: str | None
    by_signature: Mapping[str, int] = field(default_factory=dict)  # most frequent first

    def to_json(self) -> dict[str, Any]:
        return {
            "total_items": self.total,
            "eligible_for_reprocess": self.eligible,
            "requiring_manual_review": self.manual_review,
            "oldest_item": self.oldest_first_attempt,
            "newest_item": self.newest_last_attempt,
            "error_categories": dict(self.by_signature),
        }


def stats_from_groups(groups: Sequence[Mapping[str, Any]]) -> DlqStats:
    """The queue's figures from per-signature aggregates (`store.dlq.signature_groups`
    computes them in SQL, so `dlq stats` never decodes the items' JSON)."""
    oldest = [g["oldest"] for g in groups if g["oldest"] is not None]
    newest = [g["newest"] for g in groups if g["newest"] is not None]
    return DlqStats(
        total=sum(int(g["count"]) for g in groups),
        eligible=sum(int(g["eligible"] or 0) for g in groups),
        manual_review=sum(int(g["manual_review"] or 0) for g in groups),
        oldest_first_attempt=min(oldest, default=None),
        newest_last_attempt=max(newest, default=None),
        by_signature=_most_common(Counter({g["signature"]: int(g["count"]) for g in groups})),
    )


def _most_common(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --- analysis -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PatternGroup:
    signature: str
    count: int
    first_occurrence: str
    last_occurrence: str
    sample_item_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "signature": self.signature,
            "count": self.count,
            "first_occurrence": self.first_occurrence,
            "last_occurrence": self.last_occurrence,
            "sample_items": list(self.sample_item_ids),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DlqAnalysis:
    total: int
    patterns: tuple[PatternGroup, ...]  # largest group first
    error_distribution: Mapping[str, int]  # error type -> attempts, over every attempt
    hourly: tuple[tuple[str, int], ...]  # (hour start, items whose last attempt is in it)

    def to_json(self) -> dict[str, Any]:
        return {
            "total_items": self.total,
            "pattern_groups": [p.to_json() for p in self.patterns],
            "error_distribution": dict(self.error_distribution),
            "temporal_distribution": [[hour, n] for hour, n in self.hourly],
        }


def hour_of(timestamp: str) -> str:
    """`2026-11-25T15:50:59.123456Z` (or its first 13 characters) -> `2026-11-25T15:00:00Z`."""
    return f"{timestamp[:13]}:00:00Z"


def analysis_from(
    groups: Sequence[Mapping[str, Any]],
    samples: Mapping[str, Sequence[str]],
    error_types: Iterable[tuple[Any, int]],
    hours: Iterable[tuple[str, int]],
) -> DlqAnalysis:
    """The pattern analysis from aggregates the store computes in SQL (`store.dlq`:
    `signature_groups`, `signature_samples`, `error_type_counts`, `hour_counts`), so `dlq
    analyze` decodes no item's history: `error_types` pairs each decoded `error_type` of
    every attempt with its count, `hours` each `YYYY-MM-DDTHH` of a last attempt with its."""
    patterns = [
        PatternGroup(
            signature=group["signature"],
            count=int(group["count"]),
            first_occurrence=group["oldest"],
            last_occurrence=group["newest"],
            sample_item_ids=tuple(samples.get(group["signature"], ())[:SAMPLE_IDS]),
        )
        for group in groups
    ]
    patterns.sort(key=lambda p: (-p.count, p.signature))
    types: Counter[str] = Counter()
    for error_type, count in error_types:
        types[error_type_key(error_type)] += count
    return DlqAnalysis(
        total=sum(p.count for p in patterns),
        patterns=tuple(patterns),
        error_distribution=_most_common(types),
        hourly=tuple(sorted((hour_of(hour), count) for hour, count in hours)),
    )


# --- capacity -----------------------------------------------------------------------------


def to_evict(records: Sequence[DlqRecord], capacity: int) -> list[DlqRecord]:
    """What must go before one more item fits: nothing below capacity, else the oldest 10% by
    last attempt (at least one, and enough to get under the capacity if it was lowered)."""
    if len(records) < capacity:
        return []
    count = max(1, capacity // EVICT_FRACTION, len(records) - capacity + 1)
    oldest = sorted(records, key=lambda r: (r.last_attempt, r.job_id, r.item_id))
    return oldest[:count]


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def path_component(text: str) -> str:
    """A job id as one safe file name: kept when it is `[A-Za-z0-9._-]{1,64}` and does not start
    with `.` or `-`, else `h-<16 hex of its sha256>`; it never names another directory."""
    if 0 < len(text) <= 64 and set(text) <= _SAFE and text[0] not in ".-":
        return text
    return "h-" + hashlib.sha256(text.encode()).hexdigest()[:16]
