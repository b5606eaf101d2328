"""run_step on real repositories for foreach, validate, goal_seek and step_validate."""

from __future__ import annotations

from pathlib import Path

from tests.support.steps import run_first_step

from prodigy.core.variables import Scope


def test_foreach_items_see_the_outer_variables(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        """
        commands:
          - foreach:
              foreach: ["x", "y"]
              do: [{shell: "echo ${prefix}-${item}-${index}/${total} >> out.txt"}]
        """,
        Scope({"prefix": "p"}),
    )
    assert outcome.result.success
    assert (repo / "out.txt").read_text() == "p-x-0/2\np-y-1/2\n"
    assert outcome.result.stdout == "Foreach completed: 2 total, 2 successful, 0 failed\n"


def test_foreach_command_failure_names_the_command(tmp_path: Path) -> None:
    _, outcome, _ = run_first_step(
        tmp_path,
        """
        commands:
          - foreach: {foreach: "echo oops; exit 2", do: [{shell: "true"}]}
        """,
    )
    assert not outcome.result.success
    assert "foreach input command failed (exit code 2): oops" in outcome.result.error


def test_validate_sets_variables_for_later_steps(tmp_path: Path) -> None:
    _, outcome, reporter = run_first_step(
        tmp_path,
        """
        commands:
          - shell: "true"
            validate:
              shell: "echo '{\\"completion_percentage\\": 95, \\"missing\\": [\\"a\\"]}'"
              threshold: 90
        """,
    )
    assert outcome.result.success
    validation = outcome.scope["validation"]
    assert isinstance(validation, dict)
    assert validation["completion"] == 95.0 and validation["missing"] == ["a"]
    assert "Validation passed: 95.0% complete (threshold: 90.0%); missing: a" in reporter.texts()


def test_validate_with_no_command_fails(tmp_path: Path) -> None:
    _, outcome, _ = run_first_step(
        tmp_path,
        """
        commands:
          - shell: "true"
            validate: {result_file: v.json}
        """,
    )
    assert not outcome.result.success
    assert "No validation command specified" in outcome.result.error


def test_validation_runs_only_after_success(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        """
        commands:
          - shell: "exit 1"
            validate: {shell: "touch validated"}
        """,
    )
    assert not outcome.result.success
    assert not (repo / "validated").exists()


def test_goal_seek_attempt_sees_validation_output(tmp_path: Path) -> None:
    repo, outcome, _ = run_first_step(
        tmp_path,
        """
        commands:
          - goal_seek:
              goal: g
              shell: "echo '${validation.output:-start}' >> seen.txt"
              validate: "echo score: $(wc -l < seen.txt)0"
              threshold: 20
        """,
    )
    assert outcome.result.success, outcome.result.error
    assert (repo / "seen.txt").read_text() == "start\nscore: 10\n\n"
