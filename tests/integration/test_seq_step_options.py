"""Sequential runs against the real `prodigy` CLI (issue 3): step options (commit_required,
on_failure, max_iterations, map inputs, capture formats, when, on_success, output_file,
working_dir, step env).
"""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_commit_required_failure_names_the_step(sc: Scenario) -> None:
    wf = sc.workflow(
        "nocommit",
        """
        commands:
          - shell: echo nothing to commit
            id: make-change
            commit_required: true
          - shell: touch after.txt
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "make-change" in run.output
    assert "commit" in run.output
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after.txt").exists()


def test_on_failure_string_true_and_non_fatal_handler_let_the_run_continue(sc: Scenario) -> None:
    wf = sc.workflow(
        "handlers",
        """
        commands:
          - shell: exit 3
            on_failure: "echo handled-by-string > h1.txt"
          - shell: exit 4
            on_failure: true
          - shell: exit 5
            on_failure:
              shell: echo handled-by-map > h3.txt
              fail_workflow: false
          - shell: echo reached > end.txt && git add -A && git commit -qm handled
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:h1.txt") == "handled-by-string\n"
    assert sc.cat("master:h3.txt") == "handled-by-map\n"
    assert sc.cat("master:end.txt") == "reached\n"


def test_on_failure_false_fails_the_run(sc: Scenario) -> None:
    wf = sc.workflow(
        "fatal", "commands:\n  - shell: exit 4\n    on_failure: false\n  - shell: touch after\n"
    )
    run = sc.run(wf)
    assert run.code == 1, run
    (worktree,) = sc.session_worktrees()
    assert not (worktree / "after").exists()


def test_max_iterations_stops_early_when_a_pass_commits_nothing(sc: Scenario) -> None:
    wf = sc.workflow("passes", "commands:\n  - shell: echo pass >> ${HOME}/passes\n")
    run = sc.run(wf, "-n", "3")
    assert run.code == 0, run
    assert (sc.home / "passes").read_text() == "pass\n"


def test_max_iterations_runs_every_pass_that_commits(sc: Scenario) -> None:
    wf = sc.workflow(
        "passes",
        "commands:\n  - shell: echo p >> p.txt && git add p.txt && git commit -qm pass-${ITERATION}\n",
    )
    run = sc.run(wf, "-n", "3")
    assert run.code == 0, run
    assert sc.cat("master:p.txt") == "p\np\np\n"
    assert [s for s in sc.subjects("master") if s.startswith("pass-")] == [
        "pass-3",
        "pass-2",
        "pass-1",
    ]


def test_map_runs_the_workflow_once_per_matching_file_stem(sc: Scenario) -> None:
    for name in ("65-cook-refactor.md", "7-fix.md", "notes.txt"):
        (sc.repo / "specs").mkdir(exist_ok=True)
        (sc.repo / "specs" / name).write_text(name)
    sc.git("add", "specs")
    sc.git("commit", "-qm", "specs")
    wf = sc.workflow(
        "mapped",
        """
        commands:
          - shell: echo "$ARG ${ARG}" >> seen.txt && git add seen.txt && git commit -qm "seen ${ARG}"
        """,
    )
    run = sc.run(wf, "--map", "specs/*.md")
    assert run.code == 0, run
    assert sc.cat("master:seen.txt") == "65 65\n7 7\n"


def test_each_map_input_sees_itself_as_prodigy_arg(sc: Scenario) -> None:
    (sc.repo / "specs").mkdir()
    for name in ("1-a.md", "2-b.md"):
        (sc.repo / "specs" / name).write_text(name)
    sc.git("add", "-A")
    sc.git("commit", "-qm", "inputs")
    wf = sc.workflow(
        "inputs",
        """
        commands:
          - shell: printenv PRODIGY_ARG >> seen.txt && git add seen.txt && git commit -qm seen
        """,
    )
    run = sc.run(wf, "--map", "specs/*.md")
    assert run.code == 0, run
    assert sc.cat("master:seen.txt") == "1\n2\n"


def test_capture_formats_json_number_lines_and_fields(sc: Scenario) -> None:
    wf = sc.workflow(
        "formats",
        """
        commands:
          - shell: "printf '{\\"a\\": {\\"b\\": 3}, \\"n\\": \\"x y\\"}'"
            capture: data
            capture_format: json
          - shell: printf ' 42 \\n'
            capture: num
            capture_format: number
          - shell: printf 'l1\\nl2\\n'
            capture: lines
            capture_format: lines
          - shell: echo "${data.a.b}|${data.n}|${num}|${lines[1]}|${lines}" > out.txt
          - shell: git add out.txt && git commit -qm formats
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out.txt") == '3|x y|42|l2|["l1","l2"]\n'


def test_capture_format_json_fails_the_step_on_invalid_json(sc: Scenario) -> None:
    wf = sc.workflow(
        "badjson", "commands:\n  - shell: echo not-json\n    capture: d\n    capture_format: json\n"
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert "json" in run.output.lower()


def test_when_false_skips_the_step_and_shows_it_skipped(sc: Scenario) -> None:
    wf = sc.workflow(
        "when",
        """
        commands:
          - shell: printf 7
            capture: n
            capture_format: number
          - shell: touch skipped.txt
            when: "${n} > 100"
          - shell: touch ran.txt
            when: "${n} == 7"
          - shell: git add -A && git commit -qm when
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "skipped" in run.output
    assert "ran.txt" in sc.tree("master")
    assert "skipped.txt" not in sc.tree("master")


def test_on_success_output_file_working_dir_and_step_env(sc: Scenario) -> None:
    wf = sc.workflow(
        "options",
        """
        env:
          WF_VAR: wf
        commands:
          - shell: echo ok
            on_success:
              shell: echo success-ran > s.txt
          - shell: exit 1
            on_failure: true
            on_success:
              shell: touch never.txt
          - shell: printf to-file
            output_file: o.txt
          - shell: mkdir -p sub && touch sub/.keep
          - shell: pwd > here.txt
            working_dir: sub
          - shell: printenv STEP_VAR WF_VAR > env.txt
            env:
              STEP_VAR: from-step-${WF_VAR}
          - shell: git add -A && git commit -qm options
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:s.txt") == "success-ran\n"
    assert "never.txt" not in sc.tree("master")
    assert sc.cat("master:o.txt") == "to-file"
    assert sc.cat("master:sub/here.txt").rstrip().endswith("/sub")
    assert sc.cat("master:sub/here.txt").strip() != str(sc.repo / "sub")
    assert sc.cat("master:env.txt") == "from-step-wf\nwf\n"


def test_output_file_creates_parent_directories(sc: Scenario) -> None:
    wf = sc.workflow(
        "nested",
        """
        commands:
          - shell: printf nested
            output_file: out/deep/o.txt
          - shell: git add -A && git commit -qm nested
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out/deep/o.txt") == "nested"


def test_step_env_overrides_workflow_env_in_the_command(sc: Scenario) -> None:
    wf = sc.workflow(
        "override",
        """
        env:
          WF_VAR: wf
        commands:
          - shell: echo "$WF_VAR ${WF_VAR}" > env.txt && git add env.txt && git commit -qm env
            env:
              WF_VAR: step-wins
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:env.txt") == "step-wins step-wins\n"
