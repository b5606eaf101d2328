"""Loading configuration from real files, an environment mapping and overrides; paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prodigy.app.config import load_config
from prodigy.app.paths import (
    db_path,
    find_repo_root,
    global_config_path,
    locks_dir,
    logs_dir,
    prodigy_home,
    project_config_path,
    worktrees_dir,
)
from prodigy.core.config import Source
from prodigy.core.errors import ConfigError


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "prodigy-home"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_five_layers_in_order(home: Path, repo: Path) -> None:
    global_file = write(
        global_config_path(home),
        "max_parallel: 2\ngrace_period: 1\nretention_days: 7\nagent: scripted\n",
    )
    project_file = write(
        project_config_path(repo), "max_parallel: 3\ngrace_period: 2\nretention_days: 8\n"
    )
    env = {"PRODIGY_HOME": str(home), "PRODIGY_MAX_PARALLEL": "4", "PRODIGY_GRACE_PERIOD": "3"}
    effective = load_config(repo_root=repo, env=env, overrides={"max_parallel": 5})
    values = effective.values
    assert (values.max_parallel, values.grace_period, values.retention_days) == (5, 3.0, 8)
    assert (values.agent, values.dlq.capacity) == ("scripted", 1000)
    assert effective.sources["max_parallel"] == Source("cli", "command line")
    assert effective.sources["grace_period"] == Source("env", "PRODIGY_GRACE_PERIOD")
    assert effective.sources["retention_days"] == Source("project", str(project_file))
    assert effective.sources["agent"] == Source("global", str(global_file))
    assert effective.sources["dlq.capacity"].layer == "default"
    assert [s.value for s in effective.trace["max_parallel"]] == [10, 2, 3, 4, 5]


def test_project_file_comes_from_the_repo_root_given_not_the_cwd(
    home: Path, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project_config_path(repo), "max_parallel: 3\n")
    other = tmp_path / "other"
    write(project_config_path(other), "max_parallel: 9\n")
    monkeypatch.chdir(other)
    env = {"PRODIGY_HOME": str(home)}
    assert load_config(repo_root=repo, env=env).values.max_parallel == 3
    assert load_config(repo_root=None, env=env).values.max_parallel == 10


def test_a_repository_at_home_reads_the_shared_file_once(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write(tmp_path / ".prodigy" / "config.yml", "max_parallel: 3\n")
    effective = load_config(repo_root=tmp_path, env={"HOME": str(tmp_path)})
    assert effective.sources["max_parallel"] == Source("global", str(path))
    assert len(effective.trace["max_parallel"]) == 2


def test_missing_files_mean_defaults_and_empty_files_are_fine(home: Path, repo: Path) -> None:
    effective = load_config(repo_root=repo, env={"PRODIGY_HOME": str(home)})
    assert effective.values.claude.executable == "claude"
    write(global_config_path(home), "# nothing yet\n")
    assert load_config(repo_root=repo, env={"PRODIGY_HOME": str(home)}).warnings == ()


def test_invalid_value_in_a_file_names_the_file_and_key(home: Path) -> None:
    path = write(global_config_path(home), "agent: claude\nmax_parallel: lots\n")
    with pytest.raises(ConfigError) as caught:
        load_config(repo_root=None, env={"PRODIGY_HOME": str(home)})
    assert str(caught.value) == (
        f"{path}: max_parallel: must be an integer >= 1, got 'lots' (line 2)"
    )


def test_unknown_key_in_a_file_warns_with_line_and_suggestion(home: Path, repo: Path) -> None:
    path = write(project_config_path(repo), "claude:\n  executable: c\n  arg: [-x]\n")
    effective = load_config(repo_root=repo, env={"PRODIGY_HOME": str(home)})
    assert effective.warnings == (
        f"{path}: unknown key 'claude.arg' (line 3); did you mean 'claude.args'?",
    )
    assert effective.values.claude.executable == "c"


def test_yaml_syntax_error_names_file_and_line(home: Path) -> None:
    path = write(global_config_path(home), "max_parallel: 2\nclaude: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: not valid YAML at line \d+"):
        load_config(repo_root=None, env={"PRODIGY_HOME": str(home)})


def test_a_file_that_is_not_a_mapping_is_an_error(home: Path) -> None:
    path = write(global_config_path(home), "- max_parallel\n")
    with pytest.raises(
        ConfigError, match=rf"^{re.escape(str(path))}: must be a mapping of keys to values"
    ):
        load_config(repo_root=None, env={"PRODIGY_HOME": str(home)})


def test_yaml_scalars_keep_their_types(home: Path) -> None:
    write(
        global_config_path(home),
        "auto_cleanup: &off false\nauto_commit: *off\nmax_parallel: 0x10\nclaude:\n"
        "  args: [--model, sonnet, --max-turns, '30']\n",
    )
    values = load_config(repo_root=None, env={"PRODIGY_HOME": str(home)}).values
    assert values.auto_cleanup is False
    assert values.auto_commit is False
    assert values.max_parallel == 16
    assert values.claude.args == ("--model", "sonnet", "--max-turns", "30")


def test_named_environment_variables(home: Path) -> None:
    env = {
        "PRODIGY_HOME": str(home),
        "PRODIGY_CLAUDE": "/opt/claude",
        "PRODIGY_CLAUDE_ARGS": "--model,sonnet",
        "PRODIGY_AGENT": "scripted",
        "PRODIGY_AUTO_CLEANUP": "false",
        "PRODIGY_DLQ_CAPACITY": "50",
        "PRODIGY_STEP_TIMEOUT": "90",
        "PRODIGY_LOG_LEVEL": "debug",
        "PRODIGY_CLAUDE_API_KEY": "sk-abc",
    }
    values = load_config(repo_root=None, env=env).values
    assert values.claude.executable == "/opt/claude"
    assert values.claude.args == ("--model", "sonnet")
    assert values.agent == "scripted"
    assert values.auto_cleanup is False
    assert values.dlq.capacity == 50
    assert values.step_timeout == 90.0
    assert values.log_level == "debug"
    assert values.claude_api_key == "sk-abc"


def test_nested_environment_form_and_its_precedence(home: Path) -> None:
    env = {
        "PRODIGY_HOME": str(home),
        "PRODIGY__CLAUDE__EXECUTABLE": "nested-claude",
        "PRODIGY__CLAUDE__ARGS": '["--model", "opus"]',
        "PRODIGY__MAX_PARALLEL": "6",
        "PRODIGY_MAX_PARALLEL": "7",
        "PRODIGY__PROJECT__NAME": "demo",
    }
    effective = load_config(repo_root=None, env=env)
    assert effective.values.claude.executable == "nested-claude"
    assert effective.sources["claude.executable"] == Source("env", "PRODIGY__CLAUDE__EXECUTABLE")
    assert effective.values.claude.args == ("--model", "opus")
    assert effective.values.project.name == "demo"
    # The named variable is more specific than the generic nested form.
    assert effective.values.max_parallel == 7
    assert [s.source.location for s in effective.trace["max_parallel"]] == [
        "built-in",
        "PRODIGY__MAX_PARALLEL",
        "PRODIGY_MAX_PARALLEL",
    ]


def test_editor_is_the_fallback_for_default_editor(home: Path) -> None:
    env = {"PRODIGY_HOME": str(home), "EDITOR": "vi"}
    assert load_config(repo_root=None, env=env).values.default_editor == "vi"
    env["PRODIGY_EDITOR"] = "code -w"
    assert load_config(repo_root=None, env=env).values.default_editor == "code -w"


def test_empty_variables_count_as_unset(home: Path) -> None:
    write(global_config_path(home), "agent: scripted\n")
    env = {"PRODIGY_HOME": str(home), "PRODIGY_AGENT": "", "PRODIGY_MAX_PARALLEL": " "}
    effective = load_config(repo_root=None, env=env)
    assert effective.values.agent == "scripted"
    assert effective.values.max_parallel == 10


def test_bad_environment_values_name_the_variable(home: Path) -> None:
    env = {"PRODIGY_HOME": str(home), "PRODIGY_MAX_PARALLEL": "lots", "PRODIGY_AGENT": "gpt"}
    with pytest.raises(ConfigError) as caught:
        load_config(repo_root=None, env=env)
    assert str(caught.value).splitlines() == [
        "PRODIGY_AGENT: agent: must be one of claude, codex, gemini, scripted, got 'gpt'",
        "PRODIGY_MAX_PARALLEL: max_parallel: must be an integer >= 1, got 'lots'",
    ]


def test_unknown_nested_variable_warns_and_storage_home_stays_read_only(home: Path) -> None:
    env = {"PRODIGY_HOME": str(home), "PRODIGY__MAX_PARALEL": "3"}
    (warning,) = load_config(repo_root=None, env=env).warnings
    assert (
        warning == "PRODIGY__MAX_PARALEL: unknown key 'max_paralel'; did you mean 'max_parallel'?"
    )
    env = {"PRODIGY_HOME": str(home), "PRODIGY__STORAGE__HOME": "/x"}
    with pytest.raises(ConfigError, match=r"PRODIGY__STORAGE__HOME: storage\.home: is read-only"):
        load_config(repo_root=None, env=env)


def test_overrides_accept_typed_values_and_text(home: Path) -> None:
    overrides: dict[str, object] = {
        "claude.executable": "x",
        "max_parallel": "3",
        "dlq.capacity": 9,
    }
    values = load_config(
        repo_root=None, env={"PRODIGY_HOME": str(home)}, overrides=overrides
    ).values
    assert (values.claude.executable, values.max_parallel, values.dlq.capacity) == ("x", 3, 9)


def test_storage_home_shows_where_prodigy_home_came_from(tmp_path: Path) -> None:
    effective = load_config(repo_root=None, env={"HOME": str(tmp_path)})
    assert effective.values.storage.home == str(tmp_path / ".prodigy")
    assert effective.sources["storage.home"].layer == "default"
    effective = load_config(repo_root=None, env={"HOME": str(tmp_path), "PRODIGY_HOME": "~/p"})
    assert effective.values.storage.home == str(tmp_path / "p")
    assert effective.sources["storage.home"] == Source("env", "PRODIGY_HOME")


def test_global_file_lives_under_prodigy_home(tmp_path: Path) -> None:
    write(tmp_path / "custom" / "config.yml", "max_parallel: 4\n")
    env = {"HOME": str(tmp_path / "elsewhere"), "PRODIGY_HOME": str(tmp_path / "custom")}
    assert load_config(repo_root=None, env=env).values.max_parallel == 4


def test_prodigy_home_and_standard_locations(tmp_path: Path) -> None:
    assert prodigy_home({"HOME": str(tmp_path)}) == tmp_path / ".prodigy"
    assert prodigy_home({"HOME": str(tmp_path), "PRODIGY_HOME": ""}) == tmp_path / ".prodigy"
    assert prodigy_home({"HOME": str(tmp_path), "PRODIGY_HOME": "~"}) == tmp_path
    assert prodigy_home({"PRODIGY_HOME": "/srv/p"}) == Path("/srv/p")
    assert prodigy_home({"PRODIGY_HOME": "rel"}).is_absolute()
    home = Path("/srv/p")
    assert db_path(home) == home / "prodigy.db"
    assert worktrees_dir(home) == home / "worktrees"
    assert logs_dir(home) == home / "logs"
    assert locks_dir(home) == home / "locks"


def test_find_repo_root_walks_up_to_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    assert find_repo_root(repo / "a" / "b") == repo
    assert find_repo_root(repo) == repo
    linked = tmp_path / "linked"
    write(linked / ".git", "gitdir: /somewhere/.git/worktrees/linked\n")
    assert find_repo_root(linked) == linked
    assert find_repo_root(tmp_path / "nowhere") is None
