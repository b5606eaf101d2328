"""Using a registered template from a workflow, through `prodigy run`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.scenario import Scenario

GREET = """
name: greet
parameters:
  required:
    - {name: who, type: string, description: who to greet}
commands:
  - shell: echo "hello ${who}" >> greet.txt && git add greet.txt && git commit -qm greet
"""


def _file(sc: Scenario, name: str, text: str) -> Path:
    path = sc.wf / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_a_workflow_uses_a_registered_template_by_name(sc: Scenario) -> None:
    src = _file(sc, "greet.yml", GREET)
    assert sc.prodigy("template", "register", src, "-n", "hello").code == 0
    src.unlink()  # only the registry copy remains
    wf = sc.workflow(
        "use",
        """
        name: use-template
        template:
          name: greeting
          source: hello
          with: {who: registry}
        commands: []
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:greet.txt") == "hello registry\n"


def test_unknown_template_name_says_where_it_looked(sc: Scenario) -> None:
    wf = sc.workflow("use", "name: u\ntemplate: {name: x, source: nowhere}\ncommands: []\n")
    run = sc.run(wf)
    assert run.code == 2, run
    assert "template 'nowhere' not found" in run.output
    assert "prodigy template register" in run.output
    assert sc.session_rows() == 0
