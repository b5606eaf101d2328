"""Plain-text interpolation: syntax, lookup, rendering, undefined handling, variable families."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prodigy.core.interpolation import (
    interpolate,
    lookup,
    placeholders,
    render,
    undefined_placeholders,
)
from prodigy.core.variables import (
    JsonValue,
    Scope,
    capture_values,
    default_capture_values,
    env_values,
    error_values,
    foreach_values,
    git_change_values,
    item_values,
    map_values,
    positional_values,
)

ITEM: JsonValue = {
    "id": 7,
    "title": "Fix it",
    "meta": {"owner": "ana", "score": 0.5, "ok": True, "none": None},
    "tags": ["a", "b"],
    "rows": [{"name": "r0"}, {"name": "r1"}],
}


def scope_with(**values: object) -> Scope:
    return Scope(values)  # type: ignore[arg-type]


# --- syntax --------------------------------------------------------------------------------


def test_braced_and_bare_names() -> None:
    scope = scope_with(name="world", NAME="W")
    assert interpolate("hello ${name} and $NAME!", scope) == "hello world and W!"


def test_bare_name_is_greedy() -> None:
    scope = scope_with(ARG="x")
    assert interpolate("$ARG_x/$ARG-y", scope) == "$ARG_x/x-y"


def test_dotted_and_indexed_access() -> None:
    scope = Scope(item_values(ITEM, 3))
    text = "${item.meta.owner} ${item.tags[0]} ${item.tags.1} ${item.rows[1].name}"
    assert interpolate(text, scope) == "ana a b r1"


def test_default_used_only_when_undefined() -> None:
    scope = scope_with(set="yes", empty="")
    assert interpolate("${set:-no} ${unset:-fallback} ${unset:-} ${empty:-x}", scope) == (
        "yes fallback  "
    )


def test_default_may_hold_colons_and_spaces() -> None:
    assert interpolate("${url:-http://host:80/a b}", Scope()) == "http://host:80/a b"


def test_placeholders_lists_paths_defaults_and_spans() -> None:
    found = placeholders("a ${item.tags[0]} b ${x:-d} $NAME $1 $$ ${#x}")
    assert [(p.path, p.default, p.braced) for p in found] == [
        ("item.tags[0]", None, True),
        ("x", "d", True),
        ("NAME", None, False),
    ]
    assert found[0].span == (2, 17)
    assert found[1].text == "${x:-d}"


# --- rendering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain text", "plain text"),
        (42, "42"),
        (0.5, "0.5"),
        (3.0, "3.0"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (["a", "b"], '["a","b"]'),
        ({"b": 1, "a": [1, None]}, '{"a":[1,null],"b":1}'),
        ({"ü": "é"}, '{"ü":"é"}'),
    ],
)
def test_render(value: object, text: str) -> None:
    assert render(value) == text  # type: ignore[arg-type]


def test_whole_object_renders_as_compact_sorted_json() -> None:
    scope = Scope(item_values({"b": 2, "a": {"y": [1], "x": "s"}}, 0))
    assert interpolate("${item}", scope) == '{"a":{"x":"s","y":[1]},"b":2}'
    assert interpolate("${item_json}", scope) == '{"a":{"x":"s","y":[1]},"b":2}'


# --- undefined -----------------------------------------------------------------------------


def test_undefined_stays_verbatim() -> None:
    text = "${foo} ${arr[0]} ${item.missing} $UNSET ${item.title.deeper}"
    assert interpolate(text, Scope(item_values(ITEM, 0))) == text


def test_undefined_placeholders_lists_braced_without_default() -> None:
    scope = Scope(item_values(ITEM, 0))
    text = "${item.title} ${foo} $HOME ${bar:-x} ${foo} ${item.nope} ${1}"
    assert undefined_placeholders(text, scope) == ["foo", "item.nope", "1"]


@pytest.mark.parametrize(
    "text",
    [
        "awk '{print $1}' file",
        "jq -n --arg area x '$area'",
        "echo $$ $? $@ $# $! $0 $-",
        "echo $(date) $((1 + 2)) `pwd` $'a\\nb'",
        "echo ${#arr[@]} ${x%%.*} ${x/a/b} ${!ref}",
        "echo \\$HOME $HOME ${}",
        "x=$$NAME",
    ],
)
def test_shell_forms_are_left_alone(text: str) -> None:
    assert interpolate(text, scope_with(NAME="n", x="1", arr="2")) == text


def test_bare_name_substituted_only_when_defined() -> None:
    assert interpolate("$HOME/$PROJECT", scope_with(PROJECT="p")) == "$HOME/p"
    # A defined name is substituted wherever it stands, as in prodigy: even in a jq program.
    assert interpolate("jq '$area'", scope_with(area="A")) == "jq 'A'"


@settings(max_examples=100)
@given(st.text())
def test_text_without_dollar_is_unchanged(text: str) -> None:
    text = text.replace("$", "")
    assert interpolate(text, scope_with(x="1")) == text


@settings(max_examples=100)
@given(st.text())
def test_values_are_inserted_literally_and_not_rescanned(value: str) -> None:
    scope = scope_with(v=value, other="SHOULD-NOT-APPEAR")
    assert interpolate("[${v}]", scope) == f"[{value}]"


# --- lookup --------------------------------------------------------------------------------


def test_flat_dotted_key_wins_over_walking() -> None:
    scope = scope_with(**{"shell.output": "flat"}, shell={"output": "nested"})
    assert lookup(scope, "shell.output") == (True, "flat")


def test_lookup_reports_found_for_null_values() -> None:
    scope = Scope(item_values(ITEM, 0))
    assert lookup(scope, "item.meta.none") == (True, None)
    assert lookup(scope, "item.meta.absent") == (False, None)
    assert lookup(scope, "item.tags[5]") == (False, None)


def test_with_values_returns_a_new_scope() -> None:
    base = scope_with(a="1")
    child = base.with_values({"b": "2"}, a="3")
    assert interpolate("$a$b", base) == "1$b"
    assert interpolate("$a$b", child) == "32"
    assert child == {"a": "3", "b": "2"}
    assert base == {"a": "1"}


# --- variable families ---------------------------------------------------------------------


def test_item_family() -> None:
    scope = Scope(item_values(ITEM, 4))
    assert interpolate("${item_id} ${item_index} ${item.id} ${item.meta.ok}", scope) == (
        "item_4 4 7 true"
    )


def test_item_family_for_a_string_item() -> None:
    scope = Scope(item_values("src/a.py", 0))
    assert interpolate("${item} ${item_json}", scope) == 'src/a.py "src/a.py"'


def test_map_family() -> None:
    results = [{"item_id": "item_0", "status": "Success"}]
    scope = Scope(map_values(total=3, successful=2, failed=1, results=results))
    text = "${map.total} ${map.successful} ${map.failed} ${map.results} ${map.results[0].status}"
    assert interpolate(text, scope) == '3 2 1 [{"item_id":"item_0","status":"Success"}] Success'


def test_capture_family_with_string_and_json_output() -> None:
    scope = Scope(capture_values("out", output="hello\n", exit_code=0, success=True))
    scope = scope.with_values(capture_values("pkg", output={"name": "demo"}, stderr="warn"))
    text = "${out}|${out.exit_code}|${out.success}|${out.duration}|${pkg.name}|${pkg.stderr}"
    assert interpolate(text, scope) == "hello\n|0|true|0.0|demo|warn"


def test_default_capture_family() -> None:
    scope = Scope(default_capture_values("shell", "x\n")).with_values(
        default_capture_values("claude", "y")
    )
    assert interpolate("${shell.output}${claude.output}$CAPTURED_OUTPUT", scope) == "x\nyy"


def test_positional_family() -> None:
    scope = Scope(positional_values(["a", "b c"], current="a"))
    assert interpolate("$ARG ${ARG_1} ${ARG_2} ${ARGS} $ARG_3", scope) == "a a b c a b c $ARG_3"


def test_env_git_error_foreach_families() -> None:
    scope = Scope(env_values({"HOME": "/h"}))
    scope = scope.with_values(
        git_change_values("workflow", files_added=["a"], files_modified=["b", "a"], commits=["c1"])
    )
    scope = scope.with_values(error_values(message="boom", exit_code=2, step="s", timestamp="t"))
    text = "${env.HOME} ${workflow.files_changed} ${workflow.commit_count} ${error.message}"
    assert interpolate(text, scope) == "/h a b 1 boom"
    each = Scope(foreach_values("f.txt", 1, 3))
    assert interpolate("${item} ${index}/${total}", each) == "f.txt 1/3"


def test_other_families_are_plain_nested_values() -> None:
    scope = scope_with(
        merge={"source_branch": "prodigy-1", "target_branch": "main"},
        validation={"completion": 87.5, "missing": ["x"]},
        step={"name": "build"},
    )
    text = "${merge.source_branch}->${merge.target_branch} ${validation.completion} ${step.name}"
    assert interpolate(text, scope) == "prodigy-1->main 87.5 build"
    assert interpolate("${validation.missing}", scope) == '["x"]'
