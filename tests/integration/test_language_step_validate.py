"""step_validate through `prodigy run`: forms, criteria, retries, ignore, skip."""

from __future__ import annotations

from tests.support.scenario import Scenario


def run_one(sc: Scenario, step_yaml: str):  # type: ignore[no-untyped-def]
    wf = sc.workflow("sv", "name: sv\ncommands:\n" + step_yaml)
    return sc.run(wf)


def test_string_check_passes_and_fails(sc: Scenario) -> None:
    ok = run_one(sc, "  - shell: echo x > tool\n    step_validate: 'test -f tool'\n")
    assert ok.code == 0, ok
    bad = run_one(sc, "  - shell: 'true'\n    step_validate: 'test -f tool'\n")
    assert bad.code == 1, bad
    assert "step_validate failed: `test -f tool` exited 1, expected 0" in bad.output


def test_detailed_form_with_output_regex_and_any(sc: Scenario) -> None:
    run = run_one(
        sc,
        """\
  - shell: echo "version 2.1"
    step_validate:
      commands:
        - {command: "echo version 2.1", expect_output: "version 2\\\\.\\\\d"}
        - {command: "exit 3", expect_exit_code: 3}
        - {command: "false"}
      success_criteria: {atleast: 2}
""",
    )
    assert run.code == 0, run
    strict = run_one(
        sc,
        """\
  - shell: "true"
    step_validate:
      commands: [{command: "echo v1", expect_output: "v2"}]
""",
    )
    assert strict.code == 1, strict
    assert "output does not match 'v2'" in strict.output


def test_retries_until_the_check_passes(sc: Scenario) -> None:
    run = run_one(
        sc,
        """\
  - shell: "true"
    step_validate:
      commands: ["echo x >> ${HOME}/n; test $(wc -l < ${HOME}/n) -ge 2"]
      max_attempts: 3
      retry_delay: 0
""",
    )
    assert run.code == 0, run
    assert (sc.home / "n").read_text() == "x\nx\n"


def test_ignore_and_skip(sc: Scenario) -> None:
    ignored = run_one(
        sc, "  - shell: 'true'\n    step_validate: 'false'\n    ignore_validation_failure: true\n"
    )
    assert ignored.code == 0, ignored
    assert "(ignored)" in ignored.output
    skipped = run_one(
        sc,
        "  - shell: 'true'\n    step_validate: 'echo ran >> ${HOME}/ran'\n    skip_validation: true\n",
    )
    assert skipped.code == 0, skipped
    assert not (sc.home / "ran").exists()
