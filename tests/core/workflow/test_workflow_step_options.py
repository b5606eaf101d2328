"""Every accepted spelling of a step option (capture, on_failure, validate, retry, timeout,
env, anchors) loads into the same normalized model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workflows import load_workflow_text, only_step

from prodigy.core.workflow import (
    ClaudeAction,
    ShellAction,
    load_workflow,
)


@pytest.mark.parametrize(
    ("spelling", "capture_output", "capture"),
    [
        ("capture_output: true", True, None),
        ("capture_output: false", False, None),
        ("capture_output: sha", True, "sha"),
        ("capture: sha", None, "sha"),
    ],
)
def test_capture_spellings(
    tmp_path: Path, spelling: str, capture_output: bool | None, capture: str | None
) -> None:
    step = only_step(tmp_path, f"{{shell: make, {spelling}}}")
    assert (step.capture_output, step.capture) == (capture_output, capture)


@pytest.mark.parametrize(
    ("streams", "stdout", "stderr"),
    [
        ("stdout", True, False),
        ("stderr", False, True),
        ("both", True, True),
        ("{stderr: true}", True, True),
    ],
)
def test_capture_streams_string_and_map_forms(
    tmp_path: Path, streams: str, stdout: bool, stderr: bool
) -> None:
    step = only_step(tmp_path, f"{{shell: make, capture: b, capture_streams: {streams}}}")
    assert (step.capture_streams.stdout, step.capture_streams.stderr) == (stdout, stderr)


ON_FAILURE = {
    "true": ("true", [], False, None),
    "false": ("false", [], True, None),
    "string shell": ("'make clean'", [ShellAction(command="make clean")], False, None),
    "string claude": ("/fix-build", [ClaudeAction(prompt="/fix-build")], False, None),
    "list": (
        "['rm -rf target', /fix]",
        [ShellAction(command="rm -rf target"), ClaudeAction(prompt="/fix")],
        False,
        None,
    ),
    "advanced": (
        "{claude: /fix, max_attempts: 3, fail_workflow: true}",
        [ClaudeAction(prompt="/fix")],
        True,
        3,
    ),
    "max_retries alias": ("{shell: fix, max_retries: 2}", [ShellAction(command="fix")], False, 3),
    "detailed": (
        "{commands: [{shell: rollback, continue_on_error: true}], strategy: cleanup}",
        [ShellAction(command="rollback")],
        False,
        None,
    ),
    "handler with both": (
        "{shell: a, claude: /b}",
        [ShellAction(command="a"), ClaudeAction(prompt="/b")],
        False,
        None,
    ),
}


@pytest.mark.parametrize(
    ("spelling", "handlers", "fail", "attempts"), ON_FAILURE.values(), ids=ON_FAILURE.keys()
)
def test_on_failure_forms(
    tmp_path: Path, spelling: str, handlers: list[object], fail: bool, attempts: int | None
) -> None:
    step = only_step(tmp_path, f"{{shell: build, on_failure: {spelling}}}")
    assert step.on_failure is not None
    assert [h.action for h in step.on_failure.handlers] == handlers
    assert step.on_failure.fail_workflow is fail
    assert step.on_failure.max_attempts == attempts


def test_detailed_on_failure_keeps_strategy_and_continue_on_error(tmp_path: Path) -> None:
    step = only_step(
        tmp_path,
        "{shell: deploy, on_failure: {commands: [{shell: rollback, continue_on_error: true}], "
        "strategy: cleanup, handler_failure_fatal: true, timeout: 30}}",
    )
    assert step.on_failure is not None
    assert step.on_failure.strategy == "cleanup"
    assert step.on_failure.handler_failure_fatal and step.on_failure.timeout == 30
    assert step.on_failure.handlers[0].continue_on_error


def test_every_step_option_is_carried(tmp_path: Path) -> None:
    step = load_workflow_text(
        tmp_path,
        """\
        - shell: make
          id: build
          commit_required: true
          output_file: out.log
          timeout: 5m
          env: {RUST_LOG: debug, PORT: 8080}
          working_dir: web
          when: "${ok} == true"
          on_success: {shell: "echo ok"}
          on_exit_code: {2: {shell: "make clean"}}
          retry: {attempts: 4, backoff: fibonacci, initial_delay: 200ms, retry_on: [network, {pattern: "5\\\\d\\\\d"}]}
          validate:
            shell: ./check.sh
            result_file: v.json
            threshold: 90
            on_incomplete: {claude: "/complete ${validation.gaps}", max_attempts: 3, fail_workflow: false}
          step_validate: ["test -x bin/tool", "claude: /verify"]
          skip_validation: false
          validation_timeout: 30
          ignore_validation_failure: true
          auto_commit: true
          commit_config: {message_template: "style: ${step.name}", sign: true}
          capture_format: json
          analysis: {max_cache_age: 300}
        """,
    ).steps[0]
    assert (step.id, step.commit_required, step.output_file, step.timeout) == (
        "build",
        True,
        "out.log",
        300,
    )
    assert dict(step.env) == {"RUST_LOG": "debug", "PORT": "8080"}
    assert (step.working_dir, step.when) == ("web", "${ok} == true")
    assert step.on_success is not None and step.on_success.action == ShellAction(command="echo ok")
    assert step.on_exit_code[2].action == ShellAction(command="make clean")
    assert step.retry is not None
    assert (step.retry.attempts, step.retry.backoff.kind, step.retry.initial_delay) == (
        4,
        "fibonacci",
        0.2,
    )
    assert step.retry.retry_on == ("network",) and step.retry.retry_on_patterns == ("5\\d\\d",)
    assert step.validate is not None
    assert step.validate.commands[0].action == ShellAction(command="./check.sh")
    assert (step.validate.result_file, step.validate.threshold) == ("v.json", 90.0)
    assert step.validate.on_incomplete is not None
    assert (
        step.validate.on_incomplete.max_attempts,
        step.validate.on_incomplete.fail_workflow,
    ) == (3, False)
    assert step.step_validate is not None
    assert [(c.command_type, c.command) for c in step.step_validate.commands] == [
        ("shell", "test -x bin/tool"),
        ("claude", "/verify"),
    ]
    assert (step.validation_timeout, step.ignore_validation_failure, step.auto_commit) == (
        30,
        True,
        True,
    )
    assert step.commit_config is not None and step.commit_config.sign
    assert step.capture_format == "json"
    assert step.analysis is not None and dict(step.analysis) == {"max_cache_age": 300}


@pytest.mark.parametrize(
    ("spelling", "commands"),
    [
        ("{shell: ./check.sh}", [ShellAction(command="./check.sh")]),
        ("{command: ./check.sh}", [ShellAction(command="./check.sh")]),
        ("{claude: /validate}", [ClaudeAction(prompt="/validate")]),
        (
            "{commands: [{shell: a}, {claude: /b}]}",
            [ShellAction(command="a"), ClaudeAction(prompt="/b")],
        ),
        ("[{shell: a}, {claude: /b}]", [ShellAction(command="a"), ClaudeAction(prompt="/b")]),
    ],
)
def test_validate_forms(tmp_path: Path, spelling: str, commands: list[object]) -> None:
    step = only_step(tmp_path, f"{{claude: /impl, validate: {spelling}}}")
    assert step.validate is not None
    assert [c.action for c in step.validate.commands] == commands


@pytest.mark.parametrize(
    ("spelling", "kind", "base", "increment"),
    [
        ("fixed", "fixed", 2.0, None),
        ("exponential", "exponential", 2.0, None),
        ("{exponential: {base: 3.0}}", "exponential", 3.0, None),
        ("{linear: {increment: 2s}}", "linear", 2.0, 2.0),
    ],
)
def test_retry_backoff_forms(
    tmp_path: Path, spelling: str, kind: str, base: float, increment: float | None
) -> None:
    step = only_step(tmp_path, f"{{shell: x, retry: {{attempts: 2, backoff: {spelling}}}}}")
    assert step.retry is not None
    assert (step.retry.backoff.kind, step.retry.backoff.base, step.retry.backoff.increment) == (
        kind,
        base,
        increment,
    )


def test_retry_config_is_read_as_retry(tmp_path: Path) -> None:
    path = tmp_path / "wf.yml"
    path.write_text("- {shell: x, retry_config: {attempts: 5}}\n")
    result = load_workflow(path)
    assert result.workflow.steps[0].retry is not None
    assert result.workflow.steps[0].retry.attempts == 5
    assert any("retry_config" in w.yaml_path for w in result.warnings)


def test_steps_remember_where_they_were_written(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """\
        name: j
        mode: mapreduce
        map:
          input: i.json
          agent_template:
            - shell: a
            - claude: /b
        """,
    )
    assert workflow.map is not None
    where = workflow.map.agent_template[1].location
    assert (where.line, where.column, where.yaml_path) == (7, 7, "map.agent_template[1]")
    assert where.file.endswith("wf.yml")


def test_model_is_immutable(tmp_path: Path) -> None:
    step = only_step(tmp_path, "{shell: make, env: {A: b}}")
    with pytest.raises(AttributeError):
        step.timeout = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        step.env["A"] = "c"  # type: ignore[index]


def test_environment_sections(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """\
        env:
          PLAIN: text
          DYNAMIC: {command: "git rev-parse HEAD", cache: true}
        secrets:
          TOKEN: GH_TOKEN
          DB: {provider: file, key: .secrets/db}
          VAULTED: {provider: {custom: vault2}, key: k, version: "3"}
        env_files: [.env, .env.local]
        profiles:
          dev: {description: local, NODE_ENV: development}
          ci: {env: {NODE_ENV: test}}
        commands: [{shell: make}]
        """,
    )
    assert workflow.env["PLAIN"] == "text"
    assert dict(workflow.env["DYNAMIC"]) == {"command": "git rev-parse HEAD", "cache": True}  # type: ignore[arg-type]
    assert (workflow.secrets["TOKEN"].provider, workflow.secrets["TOKEN"].key) == (
        "env",
        "GH_TOKEN",
    )
    assert (workflow.secrets["DB"].provider, workflow.secrets["DB"].key) == ("file", ".secrets/db")
    assert (workflow.secrets["VAULTED"].provider, workflow.secrets["VAULTED"].version) == (
        "vault2",
        "3",
    )
    assert workflow.env_files == (".env", ".env.local")
    assert workflow.profiles["dev"].description == "local"
    assert dict(workflow.profiles["dev"].env) == {"NODE_ENV": "development"}
    assert dict(workflow.profiles["ci"].env) == {"NODE_ENV": "test"}


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("30", 30),
        ("'45'", 45),
        ("90s", 90),
        ("1m30s", 90),
        ("2h", 7200),
        ("{secs: 5, nanos: 0}", 5),
    ],
)
def test_timeout_spellings(tmp_path: Path, written: str, seconds: int) -> None:
    assert only_step(tmp_path, f"{{shell: x, timeout: {written}}}").timeout == seconds


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """\
        commands:
          - &build {shell: make, timeout: 60}
          - <<: *build
            timeout: 120
        """,
    )
    assert [(s.action, s.timeout) for s in workflow.steps] == [
        (ShellAction(command="make"), 60),
        (ShellAction(command="make"), 120),
    ]
