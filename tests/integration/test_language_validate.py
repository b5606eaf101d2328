"""S15 (validate with threshold and on_incomplete) and validation edge cases via `prodigy run`."""

from __future__ import annotations

from tests.support.scenario import Scenario

S15 = """
name: s15a-validate
commands:
  - claude: "/fake-write-commit impl.txt v1"
    commit_required: true
    validate:
      shell: |
        echo x >> ${{HOME}}/s15-validations
        if [ -f extra.txt ]; then
          echo '{{"completion_percentage": 100, "status": "complete"}}'
        else
          echo '{{"completion_percentage": 50, "status": "incomplete", "missing": ["extra.txt"]}}'
        fi
      threshold: 100
{on_incomplete}
"""
HANDLER = """      on_incomplete:
        claude: "{prompt}"
        max_attempts: 2
        fail_workflow: true
"""


def validations(sc: Scenario) -> int:
    return len((sc.home / "s15-validations").read_text().splitlines())


def test_s15a_on_incomplete_completes_the_work(sc: Scenario) -> None:
    prompt = "/fake-write-commit extra.txt missing=${validation.missing}"
    wf = sc.workflow("s15a", S15.format(on_incomplete=HANDLER.format(prompt=prompt)))
    run = sc.run(wf)
    assert run.code == 0, run
    assert {"impl.txt", "extra.txt"} <= set(sc.tree())
    assert validations(sc) == 2
    assert len(sc.calls()) == 2
    assert sc.cat("master:extra.txt") == 'missing=["extra.txt"]\n'
    assert "Validation passed: 100.0% complete (threshold: 100.0%)" in run.stdout


def test_s15b_handler_that_does_nothing_fails_after_max_attempts(sc: Scenario) -> None:
    wf = sc.workflow("s15b", S15.format(on_incomplete=HANDLER.format(prompt="/fake-noop")))
    run = sc.run(wf)
    assert run.code != 0, run
    assert [p for p in sc.prompts() if p == "/fake-noop"] == ["/fake-noop"] * 2
    assert validations(sc) == 3
    assert sc.head("master") == sc.init_sha
    assert "Validation failed after 2 attempts. Completion: 50.0%" in run.output


def test_s15c_incomplete_without_handler_fails(sc: Scenario) -> None:
    wf = sc.workflow("s15c", S15.format(on_incomplete=""))
    run = sc.run(wf)
    assert run.code != 0, run
    assert validations(sc) == 1
    assert sc.head("master") == sc.init_sha
    assert "Validation incomplete: 50.0% complete" in run.output


def test_output_that_is_not_json_fails_validation(sc: Scenario) -> None:
    wf = sc.workflow(
        "notjson",
        """
        name: notjson
        commands:
          - shell: "true"
            validate: {shell: "echo all good"}
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "not a JSON completion report: all good" in run.output


def test_result_file_threshold_and_fail_workflow_false(sc: Scenario) -> None:
    wf = sc.workflow(
        "rf",
        """
        name: rf
        commands:
          - shell: "true"
            validate:
              shell: 'echo "{\\"completion_percentage\\": 80, \\"status\\": \\"incomplete\\"}" > v.json'
              result_file: v.json
              threshold: 90
              on_incomplete: {shell: "echo tried >> ${HOME}/tries", max_attempts: 1, fail_workflow: false}
          - shell: 'echo "${validation.completion} ${validation.status}" > seen.txt && git add seen.txt v.json && git commit -qm seen'
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert (sc.home / "tries").read_text() == "tried\n"
    assert sc.cat("master:seen.txt") == "80.0 incomplete\n"
    assert "Validation incomplete: 80.0% complete (threshold: 90.0%)" in run.output
