"""Completion reports: parsing, thresholds, non-JSON as failure, expected_schema, variables."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.validation import (
    check_schema,
    parse_report,
    schema_problems,
    validation_values,
)


def test_full_report() -> None:
    text = json.dumps(
        {
            "completion_percentage": 87.5,
            "status": "incomplete",
            "implemented": ["a"],
            "missing": ["b", "c"],
            "gaps": {"g1": {"description": "d", "severity": "high"}},
        }
    )
    report = parse_report(text, source="stdout")
    assert report.completion == 87.5
    assert report.passes(85) and not report.passes(90)
    values = validation_values(report)["validation"]
    assert isinstance(values, dict)
    assert values["missing_count"] == 2
    assert values["gaps"] == {"g1": {"description": "d", "severity": "high"}}
    assert values["status"] == "incomplete"


def test_the_last_json_line_after_log_lines_is_the_report() -> None:
    report = parse_report('checking...\n{"completion_percentage": 100}\n', source="stdout")
    assert report.completion == 100.0 and report.status == "complete"
    assert report.passes(100)


@given(st.text())
def test_text_that_is_not_a_report_never_passes(text: str) -> None:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    report = parse_report(text, source="stdout")
    if not (isinstance(data, dict) and "completion_percentage" in data):
        assert not report.passes(0)
        assert report.status == "failed"


def test_problems_are_named() -> None:
    assert "not a JSON completion report: done" in str(parse_report("done", source="x").problem)
    assert "must be a number" in str(
        parse_report('{"completion_percentage": "90"}', source="x").problem
    )
    assert "status must be one of" in str(
        parse_report('{"completion_percentage": 90, "status": "ok"}', source="x").problem
    )


def test_failed_status_never_passes() -> None:
    report = parse_report('{"completion_percentage": 100, "status": "failed"}', source="x")
    assert not report.passes(0)


def test_expected_schema() -> None:
    schema = {
        "type": "object",
        "required": ["completion_percentage", "summary"],
        "properties": {"completion_percentage": {"type": "number", "maximum": 100}},
    }
    document = {"completion_percentage": 120}
    problems = schema_problems(document, schema)
    assert "$: missing required field 'summary'" in problems
    assert "$.completion_percentage: 120 is above the maximum 100" in problems
    report = parse_report(json.dumps(document), source="x")
    checked = check_schema(report, document, schema)
    assert not checked.passes(0)
    assert "expected_schema" in str(checked.problem)
    fine = {"completion_percentage": 100, "summary": "ok"}
    assert check_schema(parse_report(json.dumps(fine), source="x"), fine, schema).passes(100)
