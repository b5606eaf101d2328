"""`$.a.b[*]` json_paths take a direct walk; it must find exactly what python-jsonpath finds."""

from __future__ import annotations

import jsonpath
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.mapreduce.items import select_by_json_path

KEYS = st.sampled_from(["a", "b", "items", "_x1"])
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=3)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)


@given(DOCUMENTS, st.lists(KEYS, max_size=3))
def test_a_simple_path_finds_what_jsonpath_finds(document: object, keys: list[str]) -> None:
    path = "$" + "".join(f".{key}" for key in keys) + "[*]"
    if isinstance(document, str):
        # python-jsonpath parses a str argument as JSON text; ours is a decoded scalar
        assert select_by_json_path(document, path) == []
        return
    assert select_by_json_path(document, path) == jsonpath.findall(path, document)


def test_a_simple_path_with_spaces_around_it_still_works() -> None:
    assert select_by_json_path({"items": [1, 2]}, "  $.items[*] ") == [1, 2]
