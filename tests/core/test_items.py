"""The work-item pipeline: json_path -> filter -> sort_by -> distinct -> offset -> max_items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prodigy.core.errors import UsageError
from prodigy.core.expr import ExpressionError
from prodigy.core.mapreduce.items import (
    ItemSelection,
    check_selection,
    select_by_json_path,
    select_items,
)

DOCUMENT = {
    "debt_items": [
        {"id": 1, "file": "a.rs", "score": 7, "severity": "high", "meta": {"owner": "ann"}},
        {"id": 2, "file": "b.rs", "score": 3, "severity": "low", "meta": {"owner": "bob"}},
        {"id": 3, "file": "a.rs", "score": 9, "severity": "critical", "meta": {"owner": "ann"}},
        {"id": 4, "file": "c.rs", "score": None, "severity": "high"},
        {"id": 5, "file": "d.rs", "score": 7.0, "severity": "medium", "meta": {"owner": "cy"}},
    ],
    "nested": {"deep": {"file": "x.rs"}, "more": [{"file": "y.rs"}]},
}


def ids(items: list[object]) -> list[object]:
    return [item["id"] for item in items]  # type: ignore[index]


def test_full_pipeline_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps(DOCUMENT))
    spec = ItemSelection(
        json_path="$.debt_items[*]",
        filter="score >= 5 || severity == 'high'",
        sort_by="score DESC, id",
        distinct="file",
        offset=1,
        max_items=2,
    )
    # filter: 1,3,4,5 -> sort: 3(9),1(7),5(7.0),4(null) -> distinct file: 3,5,4 -> offset 1: 5,4
    assert ids(select_items(json.loads(path.read_text()), spec)) == [5, 4]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.debt_items[*].id", [1, 2, 3, 4, 5]),
        ("debt_items[*].id", [1, 2, 3, 4, 5]),
        ("$..file", ["a.rs", "b.rs", "a.rs", "c.rs", "d.rs", "x.rs", "y.rs"]),
        ("$.debt_items[0].meta.owner", ["ann"]),
        ("$.debt_items[?(@.score > 5)].id", [1, 3, 5]),
        ("$.debt_items[?(@.score == 7)].id", [1, 5]),
        ("$.debt_items[?(@.severity == 'high')].id", [1, 4]),
        ("$.debt_items[?(severity = high)].id", [1, 4]),
        ("$.debt_items[?(@.severity != low)].id", [1, 3, 4, 5]),
        ("$.debt_items[?@.score > 5 && @.severity == 'high'].id", [1]),
        ("$.nope[*]", []),
    ],
)
def test_json_path_forms(path: str, expected: list[object]) -> None:
    assert select_by_json_path(DOCUMENT, path) == expected


def test_json_path_to_an_array_without_star_yields_one_item() -> None:
    # As in prodigy 0.4.4 (and RFC 9535): `$.items` is one node, the array itself.
    assert select_by_json_path(DOCUMENT, "$.debt_items") == [DOCUMENT["debt_items"]]


def test_without_json_path_an_array_is_the_item_list_and_anything_else_one_item() -> None:
    assert select_by_json_path([1, 2], None) == [1, 2]
    assert select_by_json_path([1, 2], "  ") == [1, 2]
    assert select_by_json_path({"a": 1}, None) == [{"a": 1}]
    assert select_by_json_path("line", None) == ["line"]


def test_bad_json_path_is_a_usage_error_naming_the_path() -> None:
    with pytest.raises(ExpressionError) as caught:
        select_items(DOCUMENT, ItemSelection(json_path="$.items[*"))
    assert "invalid json_path" in str(caught.value)
    assert "$.items[*" in str(caught.value)


def test_filter_on_scalar_items() -> None:
    assert select_items([1, 5, 3, 8], ItemSelection(filter="item > 3")) == [5, 8]
    assert select_items(["a", "b"], ItemSelection(filter="item == 'b'")) == ["b"]


def test_filter_with_item_prefix_and_nested_fields() -> None:
    spec = ItemSelection(json_path="$.debt_items[*]", filter="item.meta.owner == 'ann'")
    assert ids(select_items(DOCUMENT, spec)) == [1, 3]


def test_sort_ascending_puts_nulls_and_missing_last_by_default() -> None:
    items = [{"v": 2}, {"v": None}, {}, {"v": 1}]
    assert select_items(items, ItemSelection(sort_by="v")) == [{"v": 1}, {"v": 2}, {"v": None}, {}]
    assert select_items(items, ItemSelection(sort_by="v DESC")) == [
        {"v": 2},
        {"v": 1},
        {"v": None},
        {},
    ]


@pytest.mark.parametrize(
    ("sort_by", "expected"),
    [
        ("v ASC NULLS FIRST", ["n1", "n2", "a", "b"]),
        ("v asc nulls last", ["a", "b", "n1", "n2"]),
        ("v DESC NULLS FIRST", ["n1", "n2", "b", "a"]),
        ("v descending NULLS LAST", ["b", "a", "n1", "n2"]),
        ("item.v ASCENDING", ["a", "b", "n1", "n2"]),
    ],
)
def test_null_placement_is_independent_of_direction(sort_by: str, expected: list[str]) -> None:
    items = [
        {"k": "n1", "v": None},
        {"k": "b", "v": 2},
        {"k": "n2"},
        {"k": "a", "v": 1},
    ]
    result = select_items(items, ItemSelection(sort_by=sort_by))
    assert [item["k"] for item in result] == expected  # type: ignore[index]


def test_sort_by_several_keys() -> None:
    spec = ItemSelection(json_path="$.debt_items[*]", sort_by="severity ASC, score DESC")
    # critical < high < low < medium by code point; within high: 7 then null.
    assert ids(select_items(DOCUMENT, spec)) == [3, 1, 4, 2, 5]


def test_sort_is_numeric_for_numbers_and_by_code_point_for_strings() -> None:
    numbers = [{"v": 10}, {"v": 9.5}, {"v": -1}, {"v": 100}]
    assert select_items(numbers, ItemSelection(sort_by="v")) == [
        {"v": -1},
        {"v": 9.5},
        {"v": 10},
        {"v": 100},
    ]
    words = [{"v": "b"}, {"v": "B"}, {"v": "a"}, {"v": "10"}, {"v": "9"}]
    assert [w["v"] for w in select_items(words, ItemSelection(sort_by="v"))] == [  # type: ignore[index]
        "10",
        "9",
        "B",
        "a",
        "b",
    ]


def test_mixed_types_sort_by_type_rank() -> None:
    items = [{"v": v} for v in ({"k": 1}, "s", [1, 2], 3, True, None, [1], False)]
    result = [item["v"] for item in select_items(items, ItemSelection(sort_by="v NULLS FIRST"))]  # type: ignore[index]
    assert result == [None, False, True, 3, "s", [1], [1, 2], {"k": 1}]


def test_sort_by_nested_path_and_index() -> None:
    items = [{"m": {"t": [3]}}, {"m": {"t": [1]}}, {"m": {"t": [2]}}]
    result = select_items(items, ItemSelection(sort_by="m.t[0] DESC"))
    assert result == [{"m": {"t": [3]}}, {"m": {"t": [2]}}, {"m": {"t": [1]}}]


@pytest.mark.parametrize(
    ("sort_by", "fragment"),
    [
        ("score DSEC", "did you mean DESC?"),
        ("score NULLS SOMETIMES", "expected FIRST or LAST after NULLS"),
        ("score,", "expected a field path"),
        ("", "expected a field path"),
        ("score DESC name", "separate keys with commas"),
    ],
)
def test_bad_sort_by_is_an_error_with_a_caret(sort_by: str, fragment: str) -> None:
    spec = ItemSelection(sort_by=sort_by)
    if not sort_by:
        # An empty sort_by means "not set", not an error.
        assert select_items([2, 1], spec) == [2, 1]
        return
    with pytest.raises(ExpressionError) as caught:
        check_selection(spec)
    assert fragment in str(caught.value)
    assert "^" in str(caught.value)


def test_distinct_keeps_the_first_item_of_each_value() -> None:
    items = [
        {"id": 1, "f": "a"},
        {"id": 2, "f": "b"},
        {"id": 3, "f": "a"},
        {"id": 4, "n": 1},
        {"id": 5, "f": None},
        {"id": 6, "f": 1},
        {"id": 7, "f": 1.0},
        {"id": 8, "f": "1"},
        {"id": 9, "f": [1]},
        {"id": 10, "f": [1]},
    ]
    # Missing and null are one value; 1 and 1.0 are one value; "1" is another.
    assert ids(select_items(items, ItemSelection(distinct="f"))) == [1, 2, 4, 6, 8, 9]
    assert ids(select_items(items, ItemSelection(distinct="item.f"))) == [1, 2, 4, 6, 8, 9]


def test_offset_and_max_items_slice_after_everything_else() -> None:
    items = list(range(10))
    assert select_items(items, ItemSelection(offset=3)) == [3, 4, 5, 6, 7, 8, 9]
    assert select_items(items, ItemSelection(max_items=2)) == [0, 1]
    assert select_items(items, ItemSelection(offset=8, max_items=5)) == [8, 9]
    assert select_items(items, ItemSelection(offset=20)) == []
    assert select_items(items, ItemSelection(max_items=0)) == []
    spec = ItemSelection(filter="item % 2", sort_by="item DESC", offset=1, max_items=2)
    with pytest.raises(ExpressionError):
        select_items(items, spec)


def test_negative_limits_are_rejected() -> None:
    with pytest.raises(UsageError, match=r"map\.offset must be 0 or more, got -1"):
        ItemSelection(offset=-1)
    with pytest.raises(UsageError, match=r"map\.max_items must be 0 or more, got -2"):
        ItemSelection(max_items=-2)


def test_check_selection_reports_every_kind_of_syntax_error() -> None:
    check_selection(ItemSelection("$.a[*]", "a > 1", "a DESC", "a", 0, 5))
    for bad in (
        ItemSelection(json_path="$["),
        ItemSelection(filter="a >"),
        ItemSelection(sort_by="a UP"),
        ItemSelection(distinct="[0]"),
    ):
        with pytest.raises(ExpressionError):
            check_selection(bad)


def test_one_hundred_thousand_items_in_one_pass() -> None:
    severities = ["low", "medium", "high", "critical"]
    items = [
        {
            "id": i,
            "priority": i % 10,
            "severity": severities[i % 4],
            "tags": ["t"] * (i % 5),
            "meta": {"owner": f"user{i % 50}"},
        }
        for i in range(100_000)
    ]
    spec = ItemSelection(
        filter="priority >= 5 && (severity == 'high' || severity == 'critical') "
        "&& length(tags) > 1 && !(meta.owner in ['user3', 'user7'])",
        sort_by="priority DESC, item.meta.owner ASC",
        distinct="meta.owner",
        max_items=6,
    )
    result = select_items(items, spec)
    # The same selection written out by hand, as an oracle.
    expected = sorted(
        (
            x
            for x in items
            if x["priority"] >= 5
            and x["severity"] in ("high", "critical")
            and len(x["tags"]) > 1
            and x["meta"]["owner"] not in ("user3", "user7")
        ),
        key=lambda x: (-x["priority"], x["meta"]["owner"]),
    )
    owners: set[str] = set()
    unique = [
        x for x in expected if not (x["meta"]["owner"] in owners or owners.add(x["meta"]["owner"]))
    ]
    assert result == unique[:6]
    assert ids(result) == [19, 79, 39, 99, 59, 18]


# --- properties ------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=3)
records = st.fixed_dictionaries(
    {"id": st.integers(0, 10**6)},
    optional={"k": json_scalars | st.lists(json_scalars, max_size=2), "g": st.integers(0, 3)},
)
item_lists = st.lists(records, max_size=30)


@settings(max_examples=200, deadline=None)
@given(item_lists, st.integers(0, 40), st.none() | st.integers(0, 40))
def test_offset_and_max_items_bound_the_result(
    items: list[object], offset: int, max_items: int | None
) -> None:
    result = select_items(items, ItemSelection(offset=offset, max_items=max_items))
    expected_length = max(0, len(items) - offset)
    if max_items is not None:
        expected_length = min(expected_length, max_items)
    assert len(result) == expected_length
    assert result == items[offset : offset + expected_length]


@settings(max_examples=200, deadline=None)
@given(item_lists, st.booleans(), st.booleans())
def test_sort_orders_non_null_values_and_keeps_ties_stable(
    items: list[dict[str, object]], descending: bool, nulls_first: bool
) -> None:
    direction = "DESC" if descending else "ASC"
    placement = "FIRST" if nulls_first else "LAST"
    result = select_items(items, ItemSelection(sort_by=f"g {direction} NULLS {placement}"))
    assert sorted(map(id, result)) == sorted(map(id, items))
    present = [item for item in result if item.get("g") is not None]  # type: ignore[attr-defined]
    absent = [item for item in result if item.get("g") is None]  # type: ignore[attr-defined]
    assert result == (absent + present if nulls_first else present + absent)
    values = [item["g"] for item in present]
    assert values == sorted(values, reverse=descending)
    # Stable: items with equal keys keep their input order.
    for value in set(values):
        group = [item for item in present if item["g"] == value]
        assert group == [item for item in items if item.get("g") == value]
    assert absent == [item for item in items if item.get("g") is None]


@settings(max_examples=200, deadline=None)
@given(st.lists(records, max_size=30, unique_by=lambda r: r["id"]))
def test_sort_on_mixed_types_is_a_total_order(items: list[object]) -> None:
    # With unique ids as the last key the result cannot depend on the input order.
    spec = ItemSelection(sort_by="k DESC, id")
    assert select_items(list(reversed(items)), spec) == select_items(items, spec)


@settings(max_examples=200, deadline=None)
@given(item_lists)
def test_distinct_yields_unique_values_and_keeps_first(items: list[dict[str, object]]) -> None:
    result = select_items(items, ItemSelection(distinct="g"))
    values = [item.get("g") for item in result]
    assert len(values) == len(set(values))
    assert set(values) == {item.get("g") for item in items}
    for item in result:
        first = next(i for i in items if i.get("g") == item.get("g"))
        assert first is item


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        json_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=2), c)
    ),
    st.sampled_from(
        [
            "k > 1 && k < 5",
            "k == 'a' || is_null(k)",
            "length(k) >= 1",
            "k contains 'a'",
            "!(k in [1, 'x', null])",
            "item.k.a[0] matches '^x'",
            "item > 2",
        ]
    ),
)
def test_filter_never_raises_on_arbitrary_json(data: object, text: str) -> None:
    items = data if isinstance(data, list) else [data, {"k": data}]
    result = select_items(items, ItemSelection(filter=text))
    assert all(any(r is i for i in items) for r in result)
