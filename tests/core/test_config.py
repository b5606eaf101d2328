"""The pure merge of configuration layers: precedence, validation, warnings, masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.config import (
    KEYS,
    MASK,
    RESERVED,
    Layer,
    LayerName,
    Setting,
    Source,
    is_secret,
    masked,
    parse_text,
    resolve,
    suggest,
)
from prodigy.core.errors import ConfigError, UsageError

GLOBAL = Source("global", "/home/u/.prodigy/config.yml")
PROJECT = Source("project", "/repo/.prodigy/config.yml")


def file_layer(source: Source, data: dict[str, object], **lines: int) -> Layer:
    return Layer(source, data, lines=lines)


def env_layer(var: str, key: str, value: str) -> Layer:
    return Layer(Source("env", var), {key: value}, text=True)


def test_defaults_without_layers() -> None:
    effective = resolve([])
    assert effective.values.claude.executable == "claude"
    assert effective.values.claude.args == ()
    assert effective.values.max_parallel == 10
    assert effective.values.grace_period == 5.0
    assert effective.values.retention_days == 30
    assert effective.values.auto_cleanup is True
    assert effective.values.dlq.capacity == 1000
    assert effective.values.agent == "claude"
    assert effective.values.step_timeout is None
    assert str(effective.sources["max_parallel"]) == "default"
    assert effective.warnings == ()


def test_each_layer_overrides_the_one_below() -> None:
    layers = [
        file_layer(GLOBAL, {"max_parallel": 2, "agent": "scripted", "grace_period": 1}),
        file_layer(PROJECT, {"max_parallel": 3, "grace_period": 2}),
        env_layer("PRODIGY_MAX_PARALLEL", "max_parallel", "4"),
        Layer(Source("cli", "command line"), {"max_parallel": 5}, text=True),
    ]
    effective = resolve(layers)
    assert effective.values.max_parallel == 5
    assert effective.sources["max_parallel"] == Source("cli", "command line")
    assert effective.values.grace_period == 2.0
    assert effective.sources["grace_period"] == PROJECT
    assert effective.values.agent == "scripted"
    assert effective.sources["agent"] == GLOBAL
    assert [s.source.layer for s in effective.trace["max_parallel"]] == [
        "default",
        "global",
        "project",
        "env",
        "cli",
    ]
    assert [s.value for s in effective.trace["max_parallel"]] == [10, 2, 3, 4, 5]


def test_invalid_value_names_file_key_expectation_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve([file_layer(GLOBAL, {"max_parallel": "lots"}, max_parallel=3)])
    assert str(caught.value) == (
        "/home/u/.prodigy/config.yml: max_parallel: must be an integer >= 1, got 'lots' (line 3)"
    )


def test_every_invalid_value_is_reported_at_once() -> None:
    data: dict[str, object] = {
        "max_parallel": 0,
        "claude": {"timeout": -1, "args": "not-a-list"},
        "log_level": "loud",
        "project": {"name": ""},
        "dlq": 5,
    }
    with pytest.raises(ConfigError) as caught:
        resolve([file_layer(PROJECT, data)])
    lines = str(caught.value).splitlines()
    assert len(lines) == 6
    assert all(line.startswith("/repo/.prodigy/config.yml: ") for line in lines)
    text = str(caught.value)
    assert "max_parallel: must be an integer >= 1, got 0" in text
    assert "claude.timeout: must be a number of seconds > 0, got -1" in text
    assert "claude.args: must be a list of strings, got 'not-a-list'" in text
    assert "log_level: must be one of trace, debug, info, warn, error, got 'loud'" in text
    assert "project.name: must be a non-empty string, got ''" in text
    assert "dlq: must be a mapping, got 5" in text


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_parallel", "8"), ("max_parallel", True), ("auto_cleanup", "yes"), ("grace_period", "5")],
)
def test_files_are_typed_so_quoted_numbers_and_strings_for_bools_are_errors(
    key: str, value: object
) -> None:
    with pytest.raises(ConfigError, match=f"{key}: must be"):
        resolve([file_layer(GLOBAL, {key: value})])


def test_unknown_key_warns_with_file_line_and_suggestion() -> None:
    effective = resolve([file_layer(PROJECT, {"max_paralel": 3, "max_parallel": 2}, max_paralel=7)])
    assert effective.values.max_parallel == 2
    assert effective.warnings == (
        "/repo/.prodigy/config.yml: unknown key 'max_paralel' (line 7); "
        "did you mean 'max_parallel'?",
    )


def test_unknown_nested_key_suggests_the_dotted_key() -> None:
    effective = resolve([file_layer(GLOBAL, {"claude": {"exectuable": "x"}, "executable": "y"})])
    assert (
        "unknown key 'claude.exectuable'; did you mean 'claude.executable'?"
        in (effective.warnings[0])
    )
    assert "unknown key 'executable'; did you mean 'claude.executable'?" in effective.warnings[1]


def test_prodigy_044_keys_warn_with_the_fix() -> None:
    data: dict[str, object] = {
        "plugins": {"enabled": True},
        "storage": {"backend": "memory"},
        "prodigy_home": "/x",
    }
    warnings = resolve([file_layer(GLOBAL, data)]).warnings
    assert len(warnings) == 3
    assert "'plugins' is a prodigy 0.4.4 setting not used here" in warnings[0]
    assert "'storage.backend' is a prodigy 0.4.4 setting not used here" in warnings[1]
    assert "set the PRODIGY_HOME environment variable instead" in warnings[2]


def test_unknown_key_from_the_command_line_is_an_error() -> None:
    with pytest.raises(ConfigError, match="command line: unknown key 'max_paralel'"):
        resolve([Layer(Source("cli", "command line"), {"max_paralel": 3}, text=True)])


def test_storage_home_is_read_only_but_fixed_by_the_program() -> None:
    with pytest.raises(ConfigError, match=r"storage.home: is read-only; set the PRODIGY_HOME"):
        resolve([file_layer(GLOBAL, {"storage": {"home": "/elsewhere"}})])
    fixed = Setting(Source("env", "PRODIGY_HOME"), "/data/prodigy")
    effective = resolve([], fixed={"storage.home": fixed})
    assert effective.values.storage.home == "/data/prodigy"
    assert [s.source.layer for s in effective.trace["storage.home"]] == ["default", "env"]


def test_dotted_keys_and_empty_sections_are_accepted() -> None:
    effective = resolve([file_layer(GLOBAL, {"claude.executable": "/opt/claude", "dlq": None})])
    assert effective.values.claude.executable == "/opt/claude"
    assert effective.values.dlq.capacity == 1000


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("max_parallel", " 12 ", 12),
        ("auto_cleanup", "false", False),
        ("auto_cleanup", "0", False),
        ("auto_cleanup", "yes", True),
        ("grace_period", "0.5", 0.5),
        ("claude.args", '["--model", "sonnet, large"]', ("--model", "sonnet, large")),
        (
            "claude.args",
            "--model, sonnet,--max-turns,30",
            ("--model", "sonnet", "--max-turns", "30"),
        ),
        ("project.variables", '{"A": "b", "N": 3}', {"A": "b", "N": 3}),
        ("claude.executable", "/opt/bin/claude", "/opt/bin/claude"),
    ],
)
def test_text_values_are_parsed(key: str, text: str, expected: object) -> None:
    effective = resolve([env_layer("VAR", key, text)])
    assert effective.get(key) == expected


@pytest.mark.parametrize(
    ("key", "text"),
    [("max_parallel", "lots"), ("auto_cleanup", "maybe"), ("claude.args", "[1, 2"), ("agent", "x")],
)
def test_bad_text_values_name_the_variable(key: str, text: str) -> None:
    # the agent names come from the runtime registry; app/config passes them in
    with pytest.raises(ConfigError, match=f"^VAR: {key}: must be .*, got '"):
        resolve([env_layer("VAR", key, text)], choices={"agents": ("claude", "scripted")})


def test_secret_keys_are_recognised_by_name() -> None:
    assert is_secret("claude_api_key")
    assert is_secret("project.claude_api_key")
    assert is_secret("GITHUB_TOKEN")
    assert is_secret("client_secret")
    assert not is_secret("claude.executable")
    assert masked("claude_api_key", "sk-123456") == MASK
    assert masked("claude_api_key", None) is None
    assert masked("project.variables", {"API_TOKEN": "abc123", "X": 1}) == {
        "API_TOKEN": MASK,
        "X": 1,
    }


def test_an_invalid_secret_is_not_repeated_in_the_error() -> None:
    data: dict[str, object] = {
        "claude_api_key": 123456789,
        "project": {"variables": {"API_TOKEN": ["tok-12345"]}},
    }
    with pytest.raises(ConfigError) as caught:
        resolve([file_layer(GLOBAL, data)])
    assert "claude_api_key: must be a string, got '***'" in str(caught.value)
    assert "project.variables: must be" in str(caught.value)
    assert "123456789" not in str(caught.value)
    assert "tok-12345" not in str(caught.value)


def test_secrets_lists_every_secret_value_of_every_layer() -> None:
    data: dict[str, object] = {
        "claude_api_key": "sk-one",
        "project": {"claude_api_key": "sk-two", "variables": {"DEPLOY_TOKEN": "t-three"}},
    }
    overridden = env_layer("PRODIGY_CLAUDE_API_KEY", "claude_api_key", "sk-four")
    secrets = resolve([file_layer(GLOBAL, data), overridden]).secrets()
    assert sorted(secrets) == ["sk-four", "sk-one", "sk-two", "t-three"]


def test_get_unknown_key_suggests() -> None:
    with pytest.raises(UsageError, match="did you mean 'retention_days'"):
        resolve([]).get("retention_day")
    assert suggest("timeout") is not None
    assert suggest("zzzzzzzz") is None


def test_every_key_has_a_row_in_the_user_guide_saying_who_reads_it() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    rows = {line.split("`")[1]: line for line in guide.splitlines() if line.startswith("| `")}
    for key, spec in KEYS.items():
        row = rows[key]
        assert (RESERVED in row) == (spec.info.consumer == RESERVED), key
        if spec.info.env:
            assert f"`{spec.info.env}`" in row, key


def test_environment_variables_are_unique() -> None:
    names = [spec.info.env for spec in KEYS.values() if spec.info.env]
    assert len(names) == len(set(names))


LAYERS: list[LayerName] = ["global", "project", "env", "cli"]


@given(st.lists(st.tuples(st.sampled_from(LAYERS), st.none() | st.integers(1, 500)), max_size=6))
def test_the_last_layer_that_sets_a_key_wins(plan: list[tuple[LayerName, int | None]]) -> None:
    layers = [
        Layer(Source(name, f"place-{i}"), {} if value is None else {"max_parallel": value})
        for i, (name, value) in enumerate(plan)
    ]
    effective = resolve(layers)
    setters = [(f"place-{i}", v) for i, (_, v) in enumerate(plan) if v is not None]
    assert len(effective.trace["max_parallel"]) == 1 + len(setters)
    if setters:
        assert effective.values.max_parallel == setters[-1][1]
        assert effective.sources["max_parallel"].location == setters[-1][0]
    else:
        assert effective.sources["max_parallel"].layer == "default"


@given(st.lists(st.text()))
def test_json_lists_round_trip_any_strings(args: list[str]) -> None:
    spec = KEYS["claude.args"]
    assert parse_text(spec, json.dumps(args)) == tuple(args)
