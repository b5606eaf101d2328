"""`when:` on every step kind and write_file's checks, through `prodigy run`."""

from __future__ import annotations

import stat

import pytest

from tests.support.scenario import Scenario


def test_when_skips_every_step_kind_and_says_so(sc: Scenario) -> None:
    wf = sc.workflow(
        "when",
        """
        name: when
        commands:
          - shell: echo no
            capture_output: flag
          - shell: echo shell > shell.txt
            when: "${flag} == 'yes'"
          - claude: "/fake-write claude.txt x"
            when: "${flag} == 'yes'"
          - write_file: {path: wf.txt, content: "x"}
            when: "${flag} == 'yes'"
          - foreach: {foreach: [a], do: [{shell: "echo ${item} > fe.txt"}]}
            when: "${flag} == 'yes'"
          - shell: echo ran > ran.txt && git add ran.txt && git commit -qm ran
            when: "${flag} != 'yes'"
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.tree() == ["README.md", "ran.txt"]
    assert sc.calls() == []
    assert run.output.lower().count("skipped") >= 4


def test_write_file_formats_mode_and_create_dirs(sc: Scenario) -> None:
    wf = sc.workflow(
        "wf",
        """
        name: wf
        commands:
          - shell: echo -n widget
            capture_output: name
          - write_file:
              path: "out/${name}.json"
              content: '{"name": "${name}", "n": [1, 2]}'
              format: json
              create_dirs: true
          - write_file:
              path: conf.yml
              content: "a: {b: 1}"
              format: yaml
          - write_file: {path: run.sh, content: "#!/bin/sh\\necho hi\\n", mode: "0755"}
          - shell: git add -A && git commit -qm files
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert (
        sc.cat("master:out/widget.json")
        == '{\n  "name": "widget",\n  "n": [\n    1,\n    2\n  ]\n}\n'
    )
    assert sc.cat("master:conf.yml") == "a:\n  b: 1\n"
    sc.git("checkout", "-q", "master")
    assert (sc.repo / "run.sh").stat().st_mode & stat.S_IXUSR


@pytest.mark.parametrize(
    ("path", "fmt", "content", "message"),
    [
        ("ROOT/escape.txt", "text", "x", "leaves the worktree"),
        ("../escape.txt", "text", "x", "leaves the worktree"),
        ("sub/../../escape.txt", "text", "x", "leaves the worktree"),
        ("bad.json", "json", "{not json", "not valid JSON"),
        ("bad.yml", "yaml", "a: [1", "not valid YAML"),
        ("deep/x.txt", "text", "x", "create_dirs: true"),
    ],
)
def test_write_file_refuses(sc: Scenario, path: str, fmt: str, content: str, message: str) -> None:
    wf = sc.workflow(
        "bad",
        f"""
        name: bad
        commands:
          - write_file: {{path: "{path.replace("ROOT", str(sc.root))}", content: "{content}", format: {fmt}}}
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert message in run.output
    assert list(sc.root.rglob("escape.txt")) == []


def test_a_when_that_cannot_be_evaluated_fails_with_its_location(sc: Scenario) -> None:
    wf = sc.workflow(
        "badwhen",
        """
        name: badwhen
        commands:
          - shell: echo x > x.txt
            when: "(${flag} == 1"
        """,
    )
    run = sc.run(wf)
    assert run.code != 0, run
    assert "when" in run.output
    assert "badwhen.yml" in run.output
