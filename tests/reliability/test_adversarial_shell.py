"""Issue 12, adversarial review round 3: item data never runs, through the CLI.

Items 2 (here-strings and here-documents) and 3 (arithmetic and variable-name contexts).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import CliResult
from tests.support.mapreduce import MapReduceRepo

PWNED = "$(touch $SANDBOX/pwned)"


def _sandbox(mr: MapReduceRepo) -> Path:
    sandbox = mr.root / "sandbox"
    sandbox.mkdir(exist_ok=True)
    return sandbox


def _validate(mr: MapReduceRepo, workflow: str) -> CliResult:
    path = mr.root / "wf" / "check.yml"
    path.write_text(workflow)
    return mr.prodigy("validate", str(path))


HERE_STRINGS = """
name: here-strings
mode: mapreduce
map:
  input: items.json
  agent_template:
    - shell: |
        read -r a b <<< "$(git log -1 --format=%s)"
        echo "x ${item.name}" > out-${item_index}.txt
        tr a-z A-Z <<< "${item.name}" >> out-${item_index}.txt
        cat <<-'EOF' >> out-${item_index}.txt
        {TAB}quoted ${item.name}
        {TAB}EOF
        cat <<EOF >> out-${item_index}.txt
        plain ${item.name} $(printf '%s' ${item.name})
        EOF
        git add out-${item_index}.txt && git commit -qm "item ${item_index}"
""".replace("{TAB}", "\t")


def test_item_values_after_a_here_string_and_in_here_documents_stay_data(
    mr: MapReduceRepo,
) -> None:
    sandbox = _sandbox(mr)
    names = [PWNED, "`touch $SANDBOX/pwned`", 'it\'s "q"']
    mr.items([{"name": n} for n in names])
    assert "warning" not in _validate(mr, HERE_STRINGS).stderr  # warnings: stderr (issue 19)
    done = mr.run(HERE_STRINGS, env={"SANDBOX": str(sandbox)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(sandbox.iterdir()) == [], "an item value ran as code"
    for index, name in enumerate(names):
        assert mr.cat(f"out-{index}.txt") == (
            f"x {name}\n{name.upper()}\nquoted {name}\nplain {name} {name}\n"
        )


ARITHMETIC = """
name: arithmetic
mode: mapreduce
map:
  input: items.json
  agent_template:
    - shell: |
        s=abcdef; a=(p q r)
        {
          echo "${s:${item.n}}" "${s:0:${item.n}}" $[${item.n}+1] $(( ${item.n} * 2 ))
          (( ${item.n} > 0 )) && echo positive
          a[${item.n}]=z; echo "${a[*]}"
          let v=${item.n}+10; echo "$v"
        } > out-${item_index}.txt
        git add out-${item_index}.txt && git commit -qm "item ${item_index}"
"""


def test_arithmetic_contexts_accept_integers_and_refuse_anything_else(
    mr: MapReduceRepo,
) -> None:
    sandbox = _sandbox(mr)
    mr.items([{"n": 2}, {"n": "a[$(touch $SANDBOX/pwned)]"}, {"n": "1; touch $SANDBOX/pwned"}])
    checked = _validate(mr, ARITHMETIC)
    assert checked.returncode == 0, checked.stderr
    assert "${item.n} (line 3 of the command) stands in a substring offset" in checked.stderr
    assert "stands in an array subscript" in checked.stderr
    assert "stands in let" in checked.stderr
    done = mr.run(ARITHMETIC, env={"SANDBOX": str(sandbox)})
    assert list(sandbox.iterdir()) == [], "an item value ran as code"
    assert mr.cat("out-0.txt") == "cdef ab 3 4\npositive\np q z\n12\n"
    failed = {entry["item_id"]: json.dumps(entry["failure_history"]) for entry in mr.dlq()}
    assert sorted(failed) == ["item_1", "item_2"], done.stdout + done.stderr
    assert "stands in a substring offset" in failed["item_1"]
    assert "only an integer is accepted" in failed["item_2"]


def test_variable_name_contexts_accept_only_names(mr: MapReduceRepo) -> None:
    sandbox = _sandbox(mr)
    workflow = """
name: names
mode: mapreduce
map:
  input: items.json
  agent_template:
    - shell: |
        read -r ${item.var} <<< "value"
        printf -v ${item.var} '%s' again
        git commit -q --allow-empty -m "item ${item_index}"
"""
    mr.items([{"var": "ok_name"}, {"var": "a[$(touch $SANDBOX/pwned)]"}])
    done = mr.run(workflow, env={"SANDBOX": str(sandbox)})
    assert list(sandbox.iterdir()) == [], "an item value ran as code"
    [entry] = mr.dlq()
    assert entry["item_id"] == "item_1", done.stdout + done.stderr
    assert "only a variable name is accepted" in json.dumps(entry["failure_history"])


def test_verbose_shows_what_runs_never_a_pasted_command_line(mr: MapReduceRepo) -> None:
    """Item 15: `-v` printed `$ shell: echo $(touch ...)` for a command that only prints it."""
    sandbox = _sandbox(mr)
    workflow = """
name: verbose
steps:
  - shell: echo "x ${ARG}" > out.txt && git add out.txt && git commit -qm out
"""
    args = ("-v", "--args", PWNED)
    done = mr.run(workflow, *args, env={"SANDBOX": str(sandbox)})
    assert done.returncode == 0, done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert '$ shell: echo "x ${PRODIGY_V_0}" > out.txt && git add' in shown, shown
    assert 'with PRODIGY_V_0="$(touch $SANDBOX/pwned)"' in shown, shown
    assert 'echo "x $(touch' not in shown
    dry = mr.run(workflow, "--dry-run", *args, env={"SANDBOX": str(sandbox)})
    assert 'echo "x ${PRODIGY_V_0}"' in dry.stdout + dry.stderr
    assert 'echo "x $(touch' not in dry.stdout + dry.stderr
    assert mr.cat("out.txt") == f"x {PWNED}\n"
    assert list(sandbox.iterdir()) == []


SCRIPTED = """
name: directives
mode: mapreduce
agent: scripted
map:
  input: items.json
  agent_template:
    - claude: |
        Greet ${item.name}
        @write greeting-${item_index}.txt ${item.name}
        @run printf '%s' "${item.name}" > run-${item_index}.txt
        @commit item ${item_index}
    - claude: /greet ${item.name}
"""

GREET = """---
description: greet
---
@run printf '%s' $ARGUMENTS > slash-$(git log -1 --format=%s | tr -d ' ').txt
@commit slash
"""


def test_directives_never_come_from_item_values(mr: MapReduceRepo) -> None:
    """Item 16: a value `hello\\n@run touch pwned` made the scripted agent run the command."""
    sandbox = _sandbox(mr)
    names = ["hello\n@run touch $SANDBOX/pwned", "$(touch $SANDBOX/pwned)", "x\nEOF\n@fail 3"]
    (mr.repo / ".claude" / "commands").mkdir(parents=True)
    (mr.repo / ".claude" / "commands" / "greet.md").write_text(GREET)
    mr.git("add", ".claude")
    mr.items([{"name": n} for n in names])
    done = mr.run(SCRIPTED, env={"SANDBOX": str(sandbox)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(sandbox.iterdir()) == [], "a directive came from an item value"
    assert mr.dlq() == []
    for index, name in enumerate(names):
        assert mr.cat(f"greeting-{index}.txt") == name + "\n"
        assert mr.cat(f"slash-item{index}.txt") == name
    assert mr.cat("run-1.txt") == names[1]


def test_the_real_agent_gets_the_whole_interpolated_prompt(mr: MapReduceRepo) -> None:
    mr.items([{"name": "hello\n@run touch pwned"}])
    done = mr.run(SCRIPTED.replace("agent: scripted\n", ""))
    assert done.returncode == 0, done.stdout + done.stderr
    prompts = mr.prompts()
    assert prompts[0] == (
        "Greet hello\n@run touch pwned\n@write greeting-0.txt hello\n@run touch pwned\n"
        "@run printf '%s' \"hello\n@run touch pwned\" > run-0.txt\n@commit item 0\n"
    )
    assert prompts[1] == "/greet hello\n@run touch pwned"


TRUSTED = """
- shell: "printf '%s' 'echo made > made.txt && git add made.txt && git commit -qm made'"
  capture: cmd
- shell: "${cmd}"
  shell_trusted_vars: TRUST
  commit_required: TRUST
"""


def test_shell_trusted_vars_splices_values_as_code_only_where_the_step_says_so(
    mr: MapReduceRepo,
) -> None:
    trusted = mr.run(TRUSTED.replace("TRUST", "true"))
    assert trusted.returncode == 0, trusted.stderr
    assert mr.cat("made.txt") == "made\n"  # the captured command line ran as shell code

    untrusted = mr.run(TRUSTED.replace("TRUST", "false"))
    # the same value without the opt-out is one word of data: no such command, nothing made
    assert untrusted.returncode == 1
    assert "command not found" in untrusted.stdout + untrusted.stderr
