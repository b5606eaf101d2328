"""Sub-workflows (`workflows:`) through `prodigy run`: same worktree, inputs, outputs."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from tests.support.scenario import Scenario, wait_for


def _file(sc: Scenario, name: str, text: str) -> Path:
    path = sc.wf / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


BUILD = """
name: build
commands:
  - shell: echo "built ${flavour} for ${target}" > build.txt && git add build.txt && git commit -qm build
  - shell: printf v1.2  # a capture keeps a trailing newline
    capture: version
  - shell: echo "digest=abc123" >> "$PRODIGY_OUTPUT"
"""


def test_sub_workflow_runs_first_in_the_same_worktree_and_returns_outputs(sc: Scenario) -> None:
    _file(sc, "sub/build.yml", BUILD)
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          build:
            source: sub/build.yml
            inputs:
              flavour: release
              target: "${env.USER_TARGET}"
            outputs: [version, digest]
        commands:
          - shell: echo "${build.version} ${build.digest}" > out.txt && cat build.txt >> out.txt && git add out.txt && git commit -qm out
        """,
    )
    sc.env["USER_TARGET"] = "linux"
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:build.txt") == "built release for linux\n"
    assert sc.cat("master:out.txt") == "v1.2 abc123\nbuilt release for linux\n"
    assert sc.subjects()[1:3] == ["out", "build"]  # one session branch, child first
    assert "sub-workflow 'build'" in run.output


def test_child_variables_do_not_leak_into_the_parent(sc: Scenario) -> None:
    _file(sc, "child.yml", "name: c\ncommands:\n  - shell: echo secret-ish\n    capture: hidden\n")
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          child: {source: child.yml}
        commands:
          - shell: echo "[${hidden:-unset}]" > v.txt && git add v.txt && git commit -qm v
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:v.txt") == "[unset]\n"


def test_parameters_are_the_childs_composition_params(sc: Scenario) -> None:
    _file(
        sc,
        "greet.yml",
        """
        name: greet
        parameters:
          required:
            - {name: who, type: string, description: name to greet}
        commands:
          - shell: echo "hello ${who}" > g.txt && git add g.txt && git commit -qm greet
        """,
    )
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          greet: {source: greet.yml, parameters: {who: world}}
        commands: []
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:g.txt") == "hello world\n"


def test_failing_sub_workflow_stops_the_run_and_names_itself(sc: Scenario) -> None:
    _file(sc, "bad.yml", "name: bad\ncommands:\n  - shell: echo ok\n  - shell: exit 7\n")
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          bad: {source: bad.yml}
        commands:
          - shell: touch never && git add never && git commit -qm never
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "sub-workflow 'bad'" in run.output
    assert "step 2" in run.output
    assert sc.head("master") == sc.init_sha


def test_continue_on_error_goes_on_without_outputs(sc: Scenario) -> None:
    _file(sc, "bad.yml", "name: bad\ncommands:\n  - shell: exit 3\n")
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          flaky: {source: bad.yml, continue_on_error: true}
        commands:
          - shell: echo after > a.txt && git add a.txt && git commit -qm after
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "after\n"
    assert "continue_on_error" in run.output


def test_missing_output_fails_with_the_fix(sc: Scenario) -> None:
    _file(sc, "child.yml", "name: c\ncommands:\n  - shell: 'true'\n")
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          child: {source: child.yml, outputs: [result]}
        commands: []
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "output 'result' was not set" in run.output
    assert "PRODIGY_OUTPUT" in run.output


def test_timeout_kills_a_slow_sub_workflow(sc: Scenario) -> None:
    marker = f"sleep {300 + os.getpid() % 50}.75"  # no other test's sleep looks like this
    _file(sc, "slow.yml", f"name: slow\ncommands:\n  - shell: {marker}\n")
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          slow: {source: slow.yml, timeout: 1}
        commands: []
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "timed out after 1 s" in run.output
    assert run.seconds < 60  # not the 300 s sleep
    wait_for(lambda: sc.pids(marker) == [], timeout=30)  # killed: gone once they exit


def test_parallel_sub_workflows_run_together(sc: Scenario) -> None:
    for name in ("a", "b"):
        _file(
            sc,
            f"{name}.yml",
            f"""
            name: {name}
            commands:
              - shell: touch {name}.started; for i in $(seq 100); do test -e {"b" if name == "a" else "a"}.started && break; sleep 0.05; done; test -e {"b" if name == "a" else "a"}.started
              - shell: echo {name} > {name}.txt
            """,
        )
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          a: {source: a.yml, parallel: true}
          b: {source: b.yml, parallel: true}
        commands:
          - shell: git add a.txt b.txt && git commit -qm both
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "a\n"
    assert sc.cat("master:b.txt") == "b\n"


def test_working_dir_and_load_errors_before_anything_starts(sc: Scenario) -> None:
    _file(
        sc,
        "child.yml",
        "name: c\ncommands:\n  - shell: pwd > here.txt && git add here.txt && git commit -qm here\n",
    )
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          child: {source: child.yml, working_dir: sub}
        commands: []
        """,
    )
    (sc.repo / "sub").mkdir()
    (sc.repo / "sub" / "keep").write_text("")
    sc.git("add", "-A")
    sc.git("commit", "-qm", "sub")
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:sub/here.txt").rstrip().endswith("/sub")
    _file(sc, "broken.yml", "name: b\ncommands:\n  - shel: typo\n")
    wf2 = sc.workflow("parent2", "name: p\nworkflows:\n  b: {source: broken.yml}\ncommands: []\n")
    sessions = sc.session_rows()
    run = sc.run(wf2)
    assert run.code == 2, run
    assert "broken.yml" in run.output
    assert sc.session_rows() == sessions


def test_a_sub_workflow_that_runs_itself_is_refused(sc: Scenario) -> None:
    wf = sc.workflow("loop", "name: loop\nworkflows:\n  me: {source: loop.yml}\ncommands: []\n")
    run = sc.run(wf)
    assert run.code == 2, run
    assert "circle" in run.output
    assert sc.session_rows() == 0


def test_resume_after_a_failed_sub_workflow_runs_it_again(sc: Scenario) -> None:
    _file(
        sc,
        "once.yml",
        """
        name: once
        commands:
          - shell: test -e "$HOME/fixed"
          - shell: echo sub >> t.txt && git add t.txt && git commit -qm sub
        """,
    )
    wf = sc.workflow(
        "parent",
        """
        name: parent
        workflows:
          once: {source: once.yml}
        commands:
          - shell: echo parent >> t.txt && git add t.txt && git commit -qm parent
        """,
    )
    first = sc.run(wf)
    assert first.code == 1, first
    assert "Session failed before its steps" in first.output
    (sc.home / "fixed").write_text("")
    resumed = sc.prodigy("resume", first.session_id(), "-y")
    assert resumed.code == 0, resumed
    assert sc.cat("master:t.txt") == "sub\nparent\n"
