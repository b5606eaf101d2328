"""app/validate called directly on workflow files: the report `prodigy validate` prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workflows import write_workflow

from prodigy.app.validate import validate_workflow

SECRET_FROM_ENV = """\
name: secret-env
env:
  API_TOKEN:
    secret: true
    value: "${GITHUB_TOKEN}"
steps:
  - shell: echo "$API_TOKEN"
"""


def test_a_valid_workflow_has_no_diagnostics(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "commands:\n  - shell: echo hi\n")
    report = validate_workflow(path)
    assert report.valid and report.diagnostics == ()
    assert report.to_json() == {"valid": True, "path": str(path), "diagnostics": []}


def test_every_problem_is_reported_at_once_with_its_place_and_a_suggestion(
    tmp_path: Path,
) -> None:
    path = write_workflow(tmp_path, "commands:\n  - shel: echo hi\n  - shell: ls\n    timout: 5\n")
    report = validate_workflow(path)
    assert not report.valid
    [error] = report.errors
    assert (error.file, error.line, error.column, error.suggestion) == (str(path), 2, 5, "shell")
    [warning] = report.warnings
    assert warning.yaml_path == "commands[1].timout" and warning.suggestion == "timeout"
    assert warning.line == 4


def test_an_unset_secret_reference_is_a_warning_and_strict_makes_it_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    path = write_workflow(tmp_path, SECRET_FROM_ENV)
    report = validate_workflow(path)
    assert report.valid
    [warning] = report.warnings
    assert warning.yaml_path == "env.API_TOKEN.value"
    assert (warning.line, warning.column) == (5, 13)
    assert "GITHUB_TOKEN" in warning.message
    strict = validate_workflow(path, strict=True)
    assert not strict.valid and [d.yaml_path for d in strict.errors] == ["env.API_TOKEN.value"]
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    assert validate_workflow(path).diagnostics == ()
