"""`prodigy config show|trace` run through the real command tree in a throwaway repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli

API_KEY = "sk-ant-REALLY-SECRET-0123456789"
TOKEN = "ghp_also-secret-987654"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a project config; the cwd is a subdirectory of it."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "pkg").mkdir(parents=True)
    (root / ".prodigy").mkdir()
    (root / ".prodigy" / "config.yml").write_text(
        f"max_parallel: 8\nclaude_api_key: {API_KEY}\n"
        f"project:\n  name: demo\n  variables:\n    DEPLOY_TOKEN: {TOKEN}\n"
    )
    monkeypatch.chdir(root / "src" / "pkg")
    return root


def global_file() -> Path:
    path = Path(os.environ["PRODIGY_HOME"]) / "config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_show_prints_every_key_value_and_source(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    global_file().write_text("max_parallel: 4\nretention_days: 7\n")
    monkeypatch.setenv("PRODIGY_GRACE_PERIOD", "2")
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 0, err
    lines = out.splitlines()
    assert "claude.executable = claude   (default)" in lines
    assert f"max_parallel = 8   (project: {repo / '.prodigy' / 'config.yml'})" in lines
    assert f"retention_days = 7   (global: {global_file()})" in lines
    assert "grace_period = 2.0   (env: PRODIGY_GRACE_PERIOD)" in lines
    assert f"storage.home = {os.environ['PRODIGY_HOME']}   (env: PRODIGY_HOME)" in lines


def test_show_masks_secrets_in_text_and_json(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODIGY__PROJECT__CLAUDE_API_KEY", "sk-from-the-env-555")
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 0
    assert "claude_api_key = ***   (project:" in out
    assert "project.claude_api_key = ***   (env: PRODIGY__PROJECT__CLAUDE_API_KEY)" in out
    code, json_out, json_err = run_cli(capsys, "config", "show", "--json")
    assert code == 0
    document = json.loads(json_out)
    assert document["values"]["claude_api_key"] == "***"
    assert document["values"]["project.variables"] == {"DEPLOY_TOKEN": "***"}
    assert document["sources"]["max_parallel"] == {
        "layer": "project",
        "location": str(repo / ".prodigy" / "config.yml"),
    }
    for secret in (API_KEY, TOKEN, "sk-from-the-env-555"):
        assert secret not in out + err + json_out + json_err


def test_show_one_key_prints_just_its_value(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shown = run_cli(capsys, "config", "show", "max_parallel")
    assert (shown.code, shown.stdout) == (0, "8\n")
    shown = run_cli(capsys, "config", "show", "claude.executable")
    assert (shown.code, shown.stdout) == (0, "claude\n")
    shown = run_cli(capsys, "config", "show", "claude_api_key")
    assert (shown.code, shown.stdout) == (0, "***\n")
    code, out, _ = run_cli(capsys, "config", "show", "claude_api_key", "--json")
    assert code == 0
    assert json.loads(out)["values"] == {"claude_api_key": "***"}
    assert API_KEY not in out


def test_show_a_section_lists_its_keys(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "config", "show", "claude")
    assert code == 0
    assert [line.split(" = ")[0] for line in out.splitlines()] == [
        "claude.args",
        "claude.executable",
        "claude.timeout",
    ]


def test_unknown_key_exits_2_with_a_suggestion(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "config", "show", "max_paralel")
    assert code == 2
    assert out == ""
    assert "unknown key 'max_paralel'; did you mean 'max_parallel'?" in err
    assert run_cli(capsys, "config", "trace", "claude.exe").code == 2


def test_trace_lists_every_layer_in_order_and_the_winner(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    global_file().write_text("max_parallel: 4\n")
    monkeypatch.setenv("PRODIGY_MAX_PARALLEL", "12")
    code, out, _ = run_cli(capsys, "config", "trace", "max_parallel")
    assert code == 0
    assert out.splitlines() == [
        "max_parallel = 12",
        "  default  10   (built-in)",
        f"  global   4   ({global_file()})",
        f"  project  8   ({repo / '.prodigy' / 'config.yml'})",
        "  env      12   (PRODIGY_MAX_PARALLEL)   <- wins",
    ]
    code, out, _ = run_cli(capsys, "config", "trace", "max_parallel", "--json")
    entry = json.loads(out)["keys"]["max_parallel"]
    assert entry["value"] == 12
    assert entry["winner"] == {"layer": "env", "location": "PRODIGY_MAX_PARALLEL"}
    assert [layer["value"] for layer in entry["layers"]] == [10, 4, 8, 12]


def test_a_secret_value_is_masked_wherever_it_appears(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODIGY_CLAUDE_ARGS", f"--api-key,{API_KEY},--model,sonnet")
    code, out, _ = run_cli(capsys, "config", "show", "claude.args")
    assert code == 0
    assert out == '["--api-key", "***", "--model", "sonnet"]\n'


def test_trace_masks_every_layers_secret(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    global_file().write_text("claude_api_key: sk-global-secret-1111\n")
    monkeypatch.setenv("PRODIGY_CLAUDE_API_KEY", "sk-env-secret-2222")
    code, text_out, _ = run_cli(capsys, "config", "trace")
    assert code == 0
    code, json_out, _ = run_cli(capsys, "config", "trace", "--json")
    layers = json.loads(json_out)["keys"]["claude_api_key"]["layers"]
    assert [layer["value"] for layer in layers] == [None, "***", "***", "***"]
    for secret in ("sk-global-secret-1111", "sk-env-secret-2222", API_KEY, TOKEN):
        assert secret not in text_out + json_out


def test_invalid_config_exits_2_naming_file_and_key(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    global_file().write_text("max_parallel: lots\n")
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 2
    assert out == ""
    assert f"{global_file()}: max_parallel: must be an integer >= 1, got 'lots'" in err


def test_unknown_file_key_is_a_warning_on_stderr(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    global_file().write_text("agnet: scripted\n")
    code, out, err = run_cli(capsys, "config", "show", "agent", "--json")
    assert code == 0
    assert f"warning: {global_file()}: unknown key 'agnet' (line 1); did you mean 'agent'?" in err
    assert json.loads(out)["warnings"] == [
        f"{global_file()}: unknown key 'agnet' (line 1); did you mean 'agent'?"
    ]


def test_outside_a_repository_no_project_file_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    loose = tmp_path / "loose"
    (loose / ".prodigy").mkdir(parents=True)
    (loose / ".prodigy" / "config.yml").write_text("max_parallel: 3\n")
    (loose / "sub").mkdir()
    monkeypatch.chdir(loose / "sub")
    shown = run_cli(capsys, "config", "show", "max_parallel")
    assert (shown.code, shown.stdout) == (0, "10\n")
