"""Git variable modifiers: glob filters, formats, and how interpolation applies them."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.git_vars import apply_modifiers, glob_match
from prodigy.core.interpolation import interpolate
from prodigy.core.variables import Scope, git_change_values

FILES = ["README.md", "docs/guide.md", "src/a.rs", "src/deep/b.rs", "src/c.py"]


def test_globs() -> None:
    assert [f for f in FILES if glob_match(f, "*.md")] == ["README.md", "docs/guide.md"]
    assert [f for f in FILES if glob_match(f, "src/*.rs")] == ["src/a.rs"]
    assert [f for f in FILES if glob_match(f, "src/**/*.rs")] == ["src/a.rs", "src/deep/b.rs"]
    assert [f for f in FILES if glob_match(f, "src/**")] == FILES[2:]
    assert not glob_match("src/a.rs", "a.r?x")


def test_formats_and_filters() -> None:
    assert apply_modifiers(FILES, ()) == " ".join(FILES)
    assert apply_modifiers(FILES, ("*.rs", "csv")) == "src/a.rs,src/deep/b.rs"
    assert apply_modifiers(FILES, ("*.md", "*.py", "lines")) == "README.md\ndocs/guide.md\nsrc/c.py"
    assert apply_modifiers([], ("json",)) == "[]"


@given(st.lists(st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5}){0,2}\.(md|rs)", fullmatch=True)))
def test_json_round_trips_and_filter_is_a_subset(paths: list[str]) -> None:
    assert json.loads(apply_modifiers(paths, ("json",))) == paths
    kept = json.loads(apply_modifiers(paths, ("*.md", "json")))
    assert kept == [p for p in paths if p.endswith(".md")]


def test_interpolation_understands_modifiers_on_git_lists_only() -> None:
    scope = Scope(
        {**git_change_values("step", files_added=FILES), "other": "a b", "step.x": "flat"}
    )
    rust = interpolate("${step.files_added:*.rs:json}", scope)
    assert json.loads(rust) == ["src/a.rs", "src/deep/b.rs"]
    assert interpolate("${other:json}", scope) == "${other:json}"
    assert interpolate("${step.commits:json}", scope) == "[]"
    assert interpolate("${step.files_deleted:-none}", scope) == ""
