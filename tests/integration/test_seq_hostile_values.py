"""Sequential runs against the real `prodigy` CLI (issue 3): hostile captured values and
`--args` reach steps as data, never as shell code.
"""

from __future__ import annotations

import json
import re

from tests.support.scenario import Scenario

HOSTILE = "a \"dq\" 'sq' $(touch PWNED1) `touch PWNED2` ; touch PWNED3 & $HOME\nline 2 * ~ \\ end"


def test_hostile_captured_output_reaches_later_steps_as_data(sc: Scenario) -> None:
    (sc.home / "hostile.txt").write_text(HOSTILE)
    wf = sc.workflow(
        "hostile",
        """
        name: hostile
        commands:
          - shell: cat ${HOME}/hostile.txt
            capture_output: v
          - shell: printf '%s' ${v} > unquoted.txt
          - shell: printf '%s' "${v}" > double.txt
          - shell: printf '%s' '${v}' > single.txt
          - claude: "/fake-echo ${v}"
          - shell: cat ${HOME}/hostile.txt
          - shell: printf '%s' ${shell.output} > default.txt
          - shell: git add -A && git commit -qm hostile
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    for name in ("unquoted.txt", "double.txt", "single.txt", "default.txt"):
        assert sc.cat(f"master:{name}") == HOSTILE, name
    assert sc.prompts() == [f"/fake-echo {HOSTILE}"]
    assert not list(sc.root.rglob("PWNED*")), "a captured value was run as code"


def test_hostile_args_reach_steps_as_data_and_verbose_shows_commands(sc: Scenario) -> None:
    wf = sc.workflow(
        "hostile-args",
        """
        commands:
          - shell: printf '%s' "$ARG" > a.txt && printf '%s' ${ARG} > b.txt
          - shell: git add -A && git commit -qm args
        """,
    )
    run = sc.run(wf, "-v", "--args", HOSTILE)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == HOSTILE
    assert sc.cat("master:b.txt") == HOSTILE
    assert not list(sc.root.rglob("PWNED*"))
    shown = re.search(r"^\s+\$ shell: printf (.*)$", run.stdout, re.M)
    # -v shows what bash runs: references to the values, then each value (issue 12 item 15)
    assert (
        shown
        and shown.group(1)
        == """'%s' "${PRODIGY_V_0}" > a.txt && printf '%s' "$PRODIGY_V_0" > b.txt"""
    )
    assert f"with PRODIGY_V_0={json.dumps(HOSTILE)[:60]}" in run.stdout
