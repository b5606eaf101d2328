"""Env value forms, conditional choice, profiles, secret sources and precedence layering."""

from __future__ import annotations

import pytest

from prodigy.core.env_resolution import (
    LAYERS,
    conditional,
    dynamic,
    env_form,
    layered,
    secret_key_source,
    secret_value,
    select_profile,
)
from prodigy.core.errors import ConfigError, UsageError
from prodigy.core.workflow import Profile


def test_forms() -> None:
    assert env_form("x") == "static"
    assert env_form({"command": "date", "cache": True}) == "dynamic"
    assert env_form({"condition": "true", "when_true": "a"}) == "conditional"
    assert env_form({"secret": True, "value": "v"}) == "secret"
    assert dynamic("X", {"command": "date"}).cache is False
    with pytest.raises(ConfigError, match=r"env\.X: `command`"):
        dynamic("X", {"command": ""})


def test_conditional_picks_by_expression() -> None:
    spec = {"condition": "${env.CI} == 'true'", "when_true": "ci", "when_false": "local"}
    assert conditional("M", spec, {"env": {"CI": "true"}}) == "ci"
    assert conditional("M", spec, {"env": {"CI": "false"}}) == "local"
    assert conditional("M", {"condition": "false", "when_true": 1}, {}) == ""
    assert conditional("M", {"condition": "true", "when_true": True}, {}) == "true"


def test_secret_value_needs_value() -> None:
    assert secret_value("S", {"secret": True, "value": 42}) == "42"
    with pytest.raises(ConfigError, match="needs `value:`"):
        secret_value("S", {"secret": True})


def test_profiles() -> None:
    profiles = {"dev": Profile(env={"MODE": "dev"})}
    assert select_profile(profiles, None) == {}
    assert select_profile(profiles, "dev") == {"MODE": "dev"}
    with pytest.raises(UsageError, match=r"--profile prod: .*known: dev"):
        select_profile(profiles, "prod")


def test_secret_sources() -> None:
    assert secret_key_source("env", "X") == ("env", "X")
    assert secret_key_source("file", "a/b") == ("file", "a/b")
    assert secret_key_source("vault", "file:s.txt") == ("file", "s.txt")
    assert secret_key_source("aws", "env:Y") == ("env", "Y")
    assert secret_key_source("custom", "Z") == ("env", "Z")


def test_layers_later_wins_in_spec_order() -> None:
    every = {layer: {"X": layer, layer: "1"} for layer in LAYERS}
    result = layered(every)
    assert result["X"] == ("secrets", "secrets")
    without_secrets = layered({k: v for k, v in every.items() if k != "secrets"})
    assert without_secrets["X"][1] == "step env"
