"""The expression language of `filter:` and `when:`: grammar, semantics, errors, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prodigy.core.errors import UsageError
from prodigy.core.expr import (
    Expression,
    ExpressionError,
    evaluate,
    evaluate_when,
    matches,
    parse,
)

ITEM = {
    "id": 7,
    "priority": 5,
    "score": 5.0,
    "ratio": 0.25,
    "severity": "high",
    "name": "test_parser",
    "path": "src/lib.rs",
    "tags": ["api", "db", "urgent"],
    "meta": {"owner": "alice", "labels": {"team": "core"}},
    "matrix": [[1, 2], [3, 4]],
    "done": False,
    "active": True,
    "note": None,
    "count_text": "42",
    "empty": "",
    "file-name": "a.txt",
}


@pytest.mark.parametrize(
    "text",
    [
        "priority == 5",
        "priority = 5",
        "priority == 5.0",
        "score == 5",
        "priority >= 5 && priority <= 5",
        "priority > 4 AND priority < 6",
        "priority > 9 || severity == 'high'",
        'priority > 9 or severity == "high"',
        "!(priority > 9)",
        "NOT priority > 9",
        "not done",
        "active",
        "severity != 'low'",
        "ratio < 0.5",
        "id > -1",
        "severity in ['high', 'critical']",
        'severity IN ["high"]',
        "priority in [1, 5]",
        "priority not in [1, 2]",
        "'db' in tags",
        "tags contains 'urgent'",
        "contains(tags, 'api')",
        "contains(name, 'parser')",
        "name contains 'test'",
        "starts_with(name, 'test_')",
        "name starts_with 'test'",
        "ends_with(path, '.rs')",
        'path ends_with ".rs"',
        "matches(path, '\\.rs$')",
        "path matches '^src/'",
        "name MATCHES 'PARSER|parser'",
        "is_null(note)",
        "note is_null",
        "is_not_null(meta)",
        "meta is_not_null",
        "is_number(priority) && is_string(name) && is_bool(done)",
        "is_array(tags) && is_object(meta)",
        "length(tags) == 3",
        "length(tags) > 2",
        "length(tags, 3)",
        "length(name) == 11",
        "length(meta) == 2",
        "meta.owner == 'alice'",
        "item.meta.owner == 'alice'",
        "meta.labels.team == 'core'",
        "item.meta.labels.team == 'core'",
        "tags[0] == 'api'",
        "item.tags[2] == 'urgent'",
        "tags[-1] == 'urgent'",
        "matrix[1][0] == 3",
        "file-name == 'a.txt'",
        "count_text == 42",
        "count_text > 40",
        "priority == '5'",
        "severity == high",
        "severity in [high, critical]",
        "missing != 'x'",
        "missing == null",
        "note == null",
        "!(missing > 3)",
        "(priority == 5 && (severity == 'low' || tags contains 'db'))",
        "true",
        "1",
        "'yes'",
    ],
)
def test_true_on_the_sample_item(text: str) -> None:
    assert matches(text, ITEM), text


@pytest.mark.parametrize(
    "text",
    [
        "priority == 6",
        "priority != 5",
        "priority > 5",
        "severity == 'HIGH'",
        "severity in ['low', 'medium']",
        "priority in [1, 2]",
        "tags contains 'nope'",
        "contains(name, 'x')",
        "starts_with(priority, '5')",
        "path matches '^lib'",
        "missing == 'x'",
        "missing > 3",
        "missing < 3",
        "is_null(missing)",
        "is_not_null(missing)",
        "is_not_null(note)",
        "missing is_null",
        "length(missing) == 0",
        "length(priority) == 1",
        "length(tags, 2)",
        "severity > 5",
        "tags > 1",
        "active > false",
        "meta.owner.name == 'alice'",
        "tags[3] == 'x'",
        "tags.² == 'api'",
        "meta[0] == 'x'",
        "done",
        "empty",
        "note",
        "missing",
        "false",
        "0",
        "'false'",
        "!active",
        "item.missing.deep == 1",
        "priority == 5 && severity == 'low'",
        "priority == 4 || severity == 'low'",
        "!(priority == 5)",
        "name matches '['",
    ],
)
def test_false_on_the_sample_item(text: str) -> None:
    if text == "name matches '['":
        # A pattern read from the item itself cannot be checked when parsing: false, no error.
        assert not matches("name matches pattern", {"name": "x", "pattern": "["})
        return
    assert not matches(text, ITEM), text


def test_not_binds_to_one_condition_not_the_rest() -> None:
    # prodigy 0.4.4 read `!a == 1 && b == 2` as `!(a == 1 && b == 2)`; here `!` covers one test.
    assert matches("!priority == 1 && severity == 'high'", ITEM)
    assert not matches("!priority == 5 && severity == 'high'", ITEM)
    assert matches("!(priority == 5 && severity == 'low')", ITEM)


def test_and_binds_tighter_than_or() -> None:
    assert matches("priority == 1 && done || active", ITEM)
    assert not matches("priority == 1 && (done || active)", ITEM)


def test_integer_field_equals_integer_and_float_literals() -> None:
    # prodigy 0.4.4 compared 5 with 5.0 by representation; here numbers compare numerically.
    for value in (5, 5.0):
        assert matches("priority == 5", {"priority": value})
        assert matches("priority == 5.0", {"priority": value})
        assert not matches("priority != 5", {"priority": value})


def test_numeric_strings_compare_as_numbers_only_against_numbers() -> None:
    assert matches("v == 10", {"v": "10"})
    assert matches("v > 9", {"v": "10"})
    assert matches("v == '10'", {"v": "10"})
    # Two strings compare as text: "10" < "9" by code point.
    assert matches("v < '9'", {"v": "10"})
    assert not matches("v == 10", {"v": "ten"})
    assert not matches("v > 9", {"v": "ten"})


def test_bool_strings_equal_bools_but_numbers_never_do() -> None:
    assert matches("flag == true", {"flag": "true"})
    assert matches("flag == false", {"flag": " False "})
    assert not matches("flag == true", {"flag": 1})
    assert not matches("flag == 1", {"flag": True})


def test_scalar_items_are_reached_as_item() -> None:
    assert matches("item > 3", 4)
    assert not matches("item > 3", 2)
    assert matches("item == 'x'", "x")
    assert matches("item matches '^ab'", "abc")
    assert matches("item contains 'b'", ["a", "b"])
    assert matches("length(item) == 2", ["a", "b"])
    assert not matches("item.x == 1", 5)


def test_item_field_named_item_wins_over_the_prefix() -> None:
    # Line-based input wraps lines as {"item": "<line>"}.
    line = {"item": "src/main.py"}
    assert matches("item ends_with '.py'", line)
    assert matches("item.item ends_with '.py'", line)


def test_bare_word_value_is_a_field_when_it_exists() -> None:
    assert matches("a == b", {"a": 1, "b": 1})
    assert not matches("a == b", {"a": 1, "b": 2})
    assert matches("a == b", {"a": "b"})
    # On the left a bare word is always a field: a missing one is never the word itself.
    assert not matches("b == 'b'", {})


def test_keywords_are_case_insensitive_and_usable_as_field_names() -> None:
    assert matches("a == 1 and b == 2 OR c", {"a": 1, "b": 2})
    assert matches("NOT a == 2", {"a": 1})
    assert matches("True", {})
    assert matches("contains == 1", {"contains": 1})
    assert matches("item.and == 'x'", {"and": "x"})


def test_comparing_arrays_and_objects_is_structural() -> None:
    assert matches("a == b", {"a": [1, {"k": "v"}], "b": [1.0, {"k": "v"}]})
    assert not matches("a == b", {"a": [1, 2], "b": [1, 2, 3]})
    assert not matches("a == b", {"a": {"k": 1}, "b": {"k": 2}})


def test_in_accepts_arrays_strings_and_objects_on_the_right() -> None:
    assert matches("'ab' in s", {"s": "xaby"})
    assert matches("'k' in o", {"o": {"k": 1}})
    assert not matches("1 in o", {"o": {"1": 1}})
    assert not matches("missing in [null]", {})


def test_parse_result_is_immutable_cached_and_reusable() -> None:
    first = parse("priority > 3")
    assert isinstance(first, Expression)
    assert parse("priority > 3") is first
    assert evaluate(first, {"priority": 4})
    assert not evaluate(first, {"priority": 3})
    with pytest.raises(AttributeError):
        first.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("priority ==", 12, "expected a value after '=='"),
        ("priority == 5 severity", 15, "unexpected 'severity'"),
        ("(a == 1", 8, "expected ')' to close the '(' at column 1"),
        ("a == 'x", 6, "unterminated string"),
        ("a # 1", 3, "unexpected character '#'"),
        ("a == 1 &&", 10, "expected a value"),
        ("a in [1, 2", 11, "expected ','"),
        ("nope(a)", 1, "unknown function 'nope'"),
        ("length(a, 1, 2)", 1, "length() takes 1 or 2 argument(s), got 3"),
        ("a matches '('", 3, "invalid regular expression"),
        ("", 1, "empty expression"),
        ("a == $", 6, "expected a variable"),
        ("${a b} == 1", 1, "invalid variable name 'a b'"),
        ("a == )", 6, "expected a value, found ')'"),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    error = caught.value
    assert isinstance(error, UsageError)
    assert error.column == column
    message = str(error)
    assert fragment in message
    assert f"column {column}" in message
    lines = message.splitlines()
    assert lines[1] == f"  {text}"
    assert lines[2] == "  " + " " * (column - 1) + "^"


def test_error_in_a_multiline_condition_names_the_line() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("a == 1 &&\n  b === 2")
    assert caught.value.line == 2
    assert "line 2, column 7" in str(caught.value)
    assert str(caught.value).splitlines()[1:] == ["    b === 2", "  " + " " * 6 + "^"]


# --- when: ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${tests_passed} == true", {"tests_passed": "true"}, True),
        ("${tests_passed} == true", {"tests_passed": "false"}, False),
        ("${tests_passed}", {"tests_passed": "true"}, True),
        ("tests_passed", {"tests_passed": "yes"}, True),
        ("$FLAG", {"FLAG": "1"}, True),
        ("${shell.output} == 'ok'", {"shell.output": "ok"}, True),
        ("${shell.output} contains 'error'", {"shell.output": "no errors\n"}, True),
        ("${count} > 3 && ${count} < 10", {"count": "7"}, True),
        ("${count} >= 10", {"count": "7"}, False),
        ("${res.status} == 'ok'", {"res": '{"status": "ok"}'}, True),
        ("${res[1]} == 2", {"res": "[1, 2]"}, True),
        ("${undefined}", {}, False),
        ("!${undefined}", {}, True),
        ("${undefined.deep} == 1", {}, False),
        ("${undefined:-yes} == 'yes'", {}, True),
        ("${name:-anon} == 'bob'", {"name": "bob"}, True),
        ("${out.exists}", {"out": ""}, True),
        ("${out.exists}", {}, False),
        ('"ok" == "ok"', {}, True),
        ("'ok' == 'nope'", {}, False),
        ("true", {}, True),
        ("false", {}, False),
        ("1", {}, True),
        ("0", {}, False),
        ("'false'", {}, False),
        ("'FALSE'", {}, False),
        ("' 0 '", {}, False),
        ("''", {}, False),
        ("'no'", {}, True),
        ("${x}", {"x": "0"}, False),
        ("${x}", {"x": 0}, False),
        ("${x}", {"x": 2.5}, True),
        ("${x}", {"x": None}, False),
        ("${x}", {"x": []}, False),
        ("${x}", {"x": [0]}, True),
        ("${x}", {"x": {}}, False),
    ],
)
def test_when_conditions(text: str, variables: dict[str, object], expected: bool) -> None:
    assert evaluate_when(text, variables) is expected


def test_when_values_are_data_never_expression_text() -> None:
    # A value that looks like an expression is compared as a string, not evaluated.
    hostile = "x' || 'a' == 'a"
    assert not evaluate_when("${v} == 'y'", {"v": hostile})
    assert evaluate_when("${v} == ${v}", {"v": hostile})


def test_when_syntax_error_is_a_usage_error() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when("${a} ==", {"a": "1"})
    assert caught.value.exit_code == 2


# --- properties ------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "item"]), children, max_size=4)
    ),
    max_leaves=12,
)
fields = st.sampled_from(["a", "b", "c", "a.b", "item.a", "item", "a[0]", "c[1].a", "missing"])
literals = st.sampled_from(["1", "-2.5", "'x'", '"1"', "true", "false", "null", "[1, 'x']", "b"])
operators = st.sampled_from(
    ["==", "!=", "=", ">", ">=", "<", "<=", "in", "contains", "starts_with", "matches"]
)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 5 if depth < 3 else 2))
    if kind == 0:
        return f"{draw(fields)} {draw(operators)} {draw(literals)}"
    if kind == 1:
        name = draw(st.sampled_from(["is_null", "is_not_null", "length", "is_array"]))
        return f"{name}({draw(fields)})"
    if kind == 2:
        return draw(fields)
    if kind == 3:
        return f"!({draw(expressions(depth + 1))})"
    join = draw(st.sampled_from(["&&", "||", "AND", "or"]))
    return f"({draw(expressions(depth + 1))}) {join} {draw(expressions(depth + 1))}"


@settings(max_examples=400, deadline=None)
@given(expressions(), json_values)
def test_generated_expressions_evaluate_to_a_bool_on_any_json(text: str, data: object) -> None:
    assert evaluate(parse(text), data) in (True, False)


# Characters of the grammar, so that random text often parses.
grammar_text = st.text(alphabet="ab.[]0-1²'\"=!<>&|()$}{ ,_", max_size=30) | st.text(max_size=30)


@settings(max_examples=500, deadline=None)
@given(grammar_text, json_values)
def test_any_text_parses_or_fails_with_a_column_and_then_never_raises(
    text: str, data: object
) -> None:
    try:
        expr = parse(text)
    except ExpressionError as error:
        assert 1 <= error.column <= len(text) + 1  # noqa: PT017 - either outcome is checked
        return
    assert evaluate(expr, data) in (True, False)
    assert evaluate(expr, {"a": data, "b": [data]}) in (True, False)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_not_equal_is_the_negation_of_equal(left: object, right: object) -> None:
    data = {"a": left, "b": right}
    assert matches("a != b", data) is not matches("a == b", data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(2**53), max_value=2**53), st.integers(-(2**53), 2**53))
def test_integers_and_floats_order_alike(x: int, y: int) -> None:
    data = {"x": x, "y": float(y)}
    assert matches("x < y", data) is (x < y)
    assert matches("x == y", data) is (x == y)
    assert matches("x >= y", {"x": str(x), "y": y}) is (x >= y)
