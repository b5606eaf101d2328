"""The DLQ rules: signatures, filters, statistics, analysis, eviction and safe names."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.dlq_rules import (
    DlqFilter,
    analysis_from,
    error_signature,
    error_type_name,
    path_component,
    select,
    stats_from_groups,
    to_evict,
)
from prodigy.core.records import DlqRecord

EXIT_3 = {"CommandFailed": {"exit_code": 3}}


def rec(
    item_id: str,
    last: str,
    *,
    first: str | None = None,
    job_id: str = "job-a",
    types: tuple[Any, ...] = ("Timeout",),
    signature: str = "Timeout::slow",
    eligible: bool = True,
    review: bool = False,
) -> DlqRecord:
    return DlqRecord(
        job_id=job_id,
        item_id=item_id,
        item_data={"id": item_id},
        first_attempt=first or last,
        last_attempt=last,
        failure_count=len(types),
        failure_history=tuple(
            {"attempt_number": i + 1, "error_type": t} for i, t in enumerate(types)
        ),
        error_signature=signature,
        worktree_artifacts=None,
        reprocess_eligible=eligible,
        manual_review_required=review,
    )


def ts(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00.000000Z"


# --- signature ----------------------------------------------------------------------------


def test_signature_drops_paths_and_numbers_and_keeps_ten_words() -> None:
    message = "step 1 (claude: /fake-fail 3 boom-2) failed: exit code 3 in /tmp/x/y.txt a b c d e"
    assert error_signature(EXIT_3, message) == (
        "CommandFailed { exit_code: 3 }::step (claude: /fake-fail boom-2) failed: exit code in a b"
    )


def test_signature_keeps_the_slash_command_name_but_not_a_path() -> None:
    """Issue 19: failures of `/fix-issue` and `/lint` are different signatures."""
    fix = error_signature(EXIT_3, "step 2 (claude: /fix-issue a.py): exit code 3")
    lint = error_signature(EXIT_3, "step 2 (claude: /lint a.py): exit code 3")
    assert "/fix-issue" in fix and "/lint" in lint
    assert "/tmp" not in error_signature(EXIT_3, "cat: /tmp: no such file")


def test_signature_groups_items_failing_the_same_way_and_separates_exit_codes() -> None:
    one = error_signature(EXIT_3, "cannot open /tmp/a/1.txt after 12 tries")
    two = error_signature(EXIT_3, "cannot open /var/b.txt after 99 tries")
    other = error_signature({"CommandFailed": {"exit_code": 4}}, "cannot open /var/b.txt after 99")
    assert one == two == "CommandFailed { exit_code: 3 }::cannot open after tries"
    assert other != one


def test_type_names_follow_prodigys_debug_format() -> None:
    assert error_type_name("Timeout") == "Timeout"
    assert error_type_name(EXIT_3) == "CommandFailed { exit_code: 3 }"
    assert error_type_name(None) == "Unknown"
    assert error_signature("Unknown", "") == "Unknown::"


@given(st.lists(st.text(min_size=1, max_size=8).filter(lambda w: not w.isspace()), max_size=30))
def test_signature_words_never_hold_paths_or_bare_numbers(words: list[str]) -> None:
    tail = error_signature("Timeout", " ".join(words)).split("::", 1)[1].split()
    assert len(tail) <= 10
    assert not any("/" in w or w.isdigit() for w in tail)


# --- filters and order --------------------------------------------------------------------


def test_lists_sort_newest_last_attempt_first() -> None:
    records = [rec("a", ts(1, 10)), rec("b", ts(3, 10)), rec("c", ts(2, 10))]
    assert [r.item_id for r in select(records, DlqFilter())] == ["b", "c", "a"]
    assert [r.item_id for r in select(records, DlqFilter(limit=2))] == ["b", "c"]


def test_filters_combine() -> None:
    records = [
        rec("a", ts(1, 10), types=("Timeout", EXIT_3), signature="CommandFailed::boom"),
        rec("b", ts(2, 10), types=("Timeout",), eligible=False),
        rec("c", ts(3, 10), job_id="job-b", types=("MergeConflict",)),
    ]

    def ids(**kw: Any) -> list[str]:
        return [r.item_id for r in select(records, DlqFilter(**kw))]

    # the error type matches any attempt in the history, in any case
    assert ids(error_type="commandfailed") == ["a"]
    assert ids(error_type="Timeout") == ["b", "a"]
    assert ids(eligible=True) == ["c", "a"]
    assert ids(eligible=False) == ["b"]
    assert ids(since=ts(2, 10)) == ["c", "b"]
    assert ids(until=ts(2, 10)) == ["a"]
    assert ids(signature="BOOM") == ["a"]
    assert ids(job_id="job-b") == ["c"]
    assert ids(job_id="job-a", eligible=True, error_type="Timeout") == ["a"]


# --- statistics and analysis --------------------------------------------------------------


def test_stats_count_flags_times_and_signatures() -> None:
    groups = [  # as store.dlq.signature_groups aggregates them
        {"signature": "S1", "count": 1, "eligible": 0, "manual_review": 1,
         "oldest": ts(1, 9), "newest": ts(2, 10)},
        {"signature": "S2", "count": 2, "eligible": 2, "manual_review": 0,
         "oldest": ts(2, 12), "newest": ts(3, 11)},
    ]  # fmt: skip
    found = stats_from_groups(groups)
    assert (found.total, found.eligible, found.manual_review) == (3, 2, 1)
    assert found.oldest_first_attempt == ts(1, 9)
    assert found.newest_last_attempt == ts(3, 11)
    assert list(found.by_signature.items()) == [("S2", 2), ("S1", 1)]
    empty = stats_from_groups([])
    assert (empty.total, empty.oldest_first_attempt, dict(empty.by_signature)) == (0, None, {})


def test_analysis_orders_groups_by_size_keeps_three_samples_and_counts_every_attempt() -> None:
    groups = [  # as store.dlq.signature_groups aggregates them
        {"signature": "S2", "count": 1, "oldest": ts(2, 8), "newest": ts(2, 9)},
        {"signature": "S1", "count": 5, "oldest": ts(1, 10, 0), "newest": ts(1, 10, 4)},
    ]
    samples = {"S1": ["i0", "i1", "i2", "i3"], "S2": ["lone"]}
    # decoded error types of every attempt with their counts (store.dlq.error_type_counts)
    types = [("Timeout", 5), (EXIT_3, 2), ({"CommandFailed": {"exit_code": 4}}, 1), (None, 1)]
    found = analysis_from(groups, samples, types, [])
    big, small = found.patterns
    assert (big.signature, big.count, big.sample_item_ids) == ("S1", 5, ("i0", "i1", "i2"))
    assert (big.first_occurrence, big.last_occurrence) == (ts(1, 10, 0), ts(1, 10, 4))
    assert (small.signature, small.count, small.sample_item_ids) == ("S2", 1, ("lone",))
    assert list(found.error_distribution.items()) == [
        ("Timeout", 5),
        ("CommandFailed", 3),
        ("Unknown", 1),
    ]
    assert found.total == 6


def test_hourly_buckets_are_sorted_hour_starts() -> None:
    hours = [("2026-11-26T10", 1), ("2026-11-25T10", 2), ("2026-11-25T11", 1)]
    assert analysis_from([], {}, [], hours).hourly == (
        ("2026-11-25T10:00:00Z", 2),
        ("2026-11-25T11:00:00Z", 1),
        ("2026-11-26T10:00:00Z", 1),
    )
    assert analysis_from([], {}, [], []).to_json()["temporal_distribution"] == []


# --- eviction -----------------------------------------------------------------------------


def test_nothing_is_evicted_below_capacity() -> None:
    assert to_evict([rec("a", ts(1, 1))], capacity=2) == []


def test_a_full_queue_evicts_its_oldest_tenth_by_last_attempt() -> None:
    records = [rec(f"i{n:02d}", ts(1 + n % 3, n % 24, n)) for n in range(20)]
    evicted = to_evict(records, capacity=20)
    oldest = sorted(records, key=lambda r: r.last_attempt)[:2]
    assert evicted == oldest


def test_eviction_takes_at_least_one() -> None:
    records = [rec("new", ts(2, 1)), rec("old", ts(1, 1))]
    assert [r.item_id for r in to_evict(records, capacity=2)] == ["old"]


@given(st.integers(1, 60), st.integers(0, 80))
def test_eviction_always_makes_room(capacity: int, count: int) -> None:
    records = [rec(f"i{n}", ts(1 + n % 28, n % 24, n % 60)) for n in range(count)]
    evicted = to_evict(records, capacity)
    assert len(records) - len(evicted) < capacity
    assert len(evicted) <= max(1, capacity // 10, count - capacity + 1)
    if evicted:
        newest_evicted = max(r.last_attempt for r in evicted)
        kept = [r for r in records if r not in evicted]
        assert all(r.last_attempt >= newest_evicted for r in kept)


# --- safe names ---------------------------------------------------------------------------


def test_path_component_keeps_plain_ids_and_hashes_the_rest() -> None:
    assert path_component("mapreduce-20261125_101010-abc123") == "mapreduce-20261125_101010-abc123"
    for hostile in ("../../x", "a/b", "x\ny", ".", "..", "-rf", "", "x" * 65, "/abs"):
        safe = path_component(hostile)
        assert safe.startswith("h-") and len(safe) == 18, hostile
    assert path_component("a/b") != path_component("a\\b")
