"""Issue 12, items 8 and 9: secrets in a step's own env, and multi-line secrets in every
encoding, are masked everywhere. Drives the real `prodigy` CLI.
"""

from __future__ import annotations

import base64
import secrets

from tests.support.leaks import find_leaks, state_files
from tests.support.reliability import CrashRepo

STEP_ENV_WF = """\
name: stepenv
mode: mapreduce
profiles:
  unused: {{DEPLOY_TOKEN: "{profile}"}}
setup:
  - shell: echo "setup $PASSWORD"
    env: {{PASSWORD: "{setup}"}}
    capture: setup_out
  - foreach:
      foreach: ["a"]
      do:
        - shell: echo "foreach $SIGN"
          env:
            SIGN: {{secret: true, value: "{foreach}"}}
map:
  input: items.json
  agent_template:
    - shell: echo "agent $API_KEY $MY_TOKEN"; echo "agent $API_KEY" >&2; exit 3
      env:
        API_KEY: "{agent}"
        MY_TOKEN: "${{env.TOKEN_SOURCE}}"
      on_failure:
        commands:
          - shell: echo "handler $HANDLER_SECRET"
            env: {{HANDLER_SECRET: "{handler}"}}
        max_attempts: 2
        fail_workflow: true
reduce:
  - shell: echo "reduce $DB_PASSWORD ${{map.failed}}"
    env: {{DB_PASSWORD: "{reduce}"}}
"""

SEQ_ENV_WF = """\
name: stepenv-seq
commands:
  - shell: echo "first $API_KEY"
    env: {{API_KEY: "{first}"}}
    capture: first_out
  - shell: echo "last $SIGNING_KEY"; exit 4
    env:
      SIGNING_KEY: {{secret: true, value: "{last}"}}
"""


def test_secrets_in_step_env_are_masked_everywhere(cr: CrashRepo) -> None:
    """A step's own `env:` secrets (named like secrets or `secret: true`) in setup, foreach,
    map agents, on_failure handlers, reduce and unused profiles never reach the terminal
    (-vv), "Last output", logs, steps, checkpoints, DLQ, events or the stored workflow."""
    values = {
        key: f"{key}-" + secrets.token_hex(10)
        for key in ("profile", "setup", "foreach", "agent", "handler", "reduce", "dyn")
    }
    cr.items([{"n": 1}])
    cr.write_workflow(STEP_ENV_WF.format(**values))
    mapped = cr.call("run", str(cr.workflow_path), "-y", "-vv", env={"TOKEN_SOURCE": values["dyn"]})
    assert "***" in mapped.stdout + mapped.stderr, mapped.stdout + mapped.stderr
    job = cr.job_id()
    assert cr.items_state() == {"item_0": "dead_lettered"}, mapped.stderr

    seq_values = {key: f"{key}-" + secrets.token_hex(10) for key in ("first", "last")}
    cr.write_workflow(SEQ_ENV_WF.format(**seq_values))
    seq = cr.call("run", str(cr.workflow_path), "-y", "-vv")
    assert seq.returncode == 1
    assert "Last output" in seq.stdout + seq.stderr
    assert "last ***" in seq.stdout + seq.stderr

    texts = {
        "map run": mapped.stdout + mapped.stderr,
        "seq run": seq.stdout + seq.stderr,
        **cr.outputs(
            ("dlq", "list", "--json"),
            ("dlq", "show", "item_0", "--job", job, "--json"),
            ("events", "ls", "--json"),
            ("sessions", "ls", "--all", "--json"),
            ("checkpoints", "ls"),
            ("logs", "--tail", "200"),
        ),
    }
    texts["workflow_text"] = "".join(
        r[0] or "" for r in cr.query("SELECT workflow_text FROM sessions")
    )
    assert "***" in texts["workflow_text"]
    leaks = find_leaks({**values, **seq_values}, state_files(cr.state_home), texts)
    assert leaks == [], "\n".join(leaks)


# --- item 8: multi-line secrets and encodings ---------------------------------------------

PEM_WF = """\
name: pem
mode: mapreduce
secrets:
  PEM_KEY: {provider: file, key: .secrets/key.pem}
  API_TOKEN: TOKEN_SOURCE
map:
  input: items.json
  agent_template:
    - shell: |
        echo "$PEM_KEY"
        echo "$PEM_KEY" >&2
        python3 -c 'import os; print(os.environ["API_TOKEN"].encode().hex())'
        printf '%s' "$API_TOKEN" | base64 -w0; echo
        exit 1
"""


def test_multi_line_secret_lines_and_encodings_are_masked(cr: CrashRepo) -> None:
    """A PEM key from a file provider printed by a failing agent with -vv: none of its lines
    (nor a token's hex or base64 form) reaches the terminal, the DLQ, the store or the logs."""
    body = [base64.b64encode(secrets.token_bytes(48)).decode() for _ in range(4)]
    pem = "\n".join(["-----BEGIN PRIVATE KEY-----", *body, "-----END PRIVATE KEY-----"])
    token = "tok-" + secrets.token_hex(12)
    (cr.repo / ".secrets").mkdir()
    (cr.repo / ".secrets" / "key.pem").write_text(pem + "\n")
    cr.items([{"n": 1}])
    cr.write_workflow(PEM_WF)
    done = cr.call("run", str(cr.workflow_path), "-y", "-vv", env={"TOKEN_SOURCE": token})
    assert cr.items_state() == {"item_0": "dead_lettered"}, done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert shown.count("***") >= 6, shown  # the lines were printed, masked
    texts = {
        "run": shown,
        **cr.outputs(
            ("dlq", "list", "--json"),
            ("dlq", "show", "item_0", "--job", cr.job_id(), "--json"),
            ("events", "ls", "--json"),
            ("logs", "--tail", "200"),
        ),
    }
    values = {f"pem line {i}": line for i, line in enumerate(body)} | {"token": token}
    leaks = find_leaks(values, state_files(cr.state_home), texts)
    hexed = token.encode().hex()
    leaks += [where for where, text in texts.items() if hexed in text or hexed.upper() in text]
    assert leaks == [], "\n".join(leaks)
