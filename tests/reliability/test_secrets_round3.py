"""Issue 12, items 4, 8, 9, 13, 14: secrets through resume and retry, multi-line and
step-level secrets, scratch files a SIGKILL leaves, and bounded step output.

Every test drives the real `prodigy` CLI on a real git repository.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
from pathlib import Path

import pytest
from tests.integration.mapreduce_harness import PRODIGY
from tests.reliability.harness import CrashRepo


@pytest.fixture
def cr(tmp_path: Path) -> CrashRepo:
    return CrashRepo(tmp_path)


def _session(cr: CrashRepo) -> str:
    rows = cr.query("SELECT id FROM sessions ORDER BY started_at DESC")
    assert rows, "no session in the store"
    return str(rows[0]["id"])


def _values_dirs(root: Path) -> list[Path]:
    return [p for p in root.rglob("prodigy-values-*") if p.is_dir()]


# --- item 13: scratch files of large values ----------------------------------------------

SCRATCH_WF = """\
name: scratch
secrets:
  API_TOKEN: SECRET_SOURCE
commands:
  - shell: python3 -c "print('x' * 120000)"; echo "$API_TOKEN"
    capture: big
  - shell: |
      test -n "${big}"
      if [ ! -e "$HOME/killed" ]; then touch "$HOME/killed"; kill -9 $PPID; sleep 30; fi
      echo done > done.txt
      git add done.txt && git commit -qm done
"""


def test_scratch_files_of_a_killed_run_stay_private_and_are_swept(cr: CrashRepo) -> None:
    """A step given a 120 KB value (holding a token) is SIGKILLed with prodigy: its value file
    is under PRODIGY_HOME (0700), not the system temp dir, and `sessions clean` and
    `resume` remove it."""
    token = "tok" + secrets.token_hex(16)
    system_tmp = cr.root / "systmp"
    system_tmp.mkdir()
    env = {"SECRET_SOURCE": token, "TMPDIR": str(system_tmp)}
    cr.write_workflow(SCRATCH_WF)
    killed = cr.call("run", str(cr.workflow_path), "-y", env=env)
    assert killed.returncode == -9, killed.stderr
    assert _values_dirs(system_tmp) == []
    left = _values_dirs(cr.state_home / "tmp")
    assert len(left) == 1, left
    for directory in (left[0], left[0].parent, cr.state_home / "tmp"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    held = "".join(p.read_text() for p in left[0].rglob("*") if p.is_file())
    assert token in held  # the real value, private

    clean = cr.call("sessions", "clean", "-y", env=env)
    assert clean.returncode == 0, clean.stderr
    assert _values_dirs(cr.state_home) == []

    # and resume sweeps what a dead run left, before running again
    (cr.home / "killed").unlink()
    killed = cr.call("resume", _session(cr), "-y", env=env)
    assert killed.returncode == -9, killed.stderr
    assert len(_values_dirs(cr.state_home / "tmp")) == 1
    done = cr.call("resume", _session(cr), "-y", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _values_dirs(cr.state_home) == []
    assert _values_dirs(system_tmp) == []
    assert cr.cat("done.txt").strip() == "done"
    assert not any(os.scandir(cr.state_home / "tmp"))


# --- item 9: secrets in a step's own env --------------------------------------------------


def _forms(value: str) -> dict[str, bytes]:
    return {
        "raw": value.encode(),
        "base64": base64.b64encode(value.encode()),
        "json": json.dumps(value)[1:-1].encode(),
    }


def _leaks(values: dict[str, str], home: Path, texts: dict[str, str]) -> list[str]:
    """Where any form of any value appears: files under PRODIGY_HOME (not the worktrees,
    which are checkouts) and the given command outputs."""
    blobs = {name: text.encode() for name, text in texts.items()}
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if Path(root, d) != home / "worktrees"]
        blobs.update({str(Path(root, f)): Path(root, f).read_bytes() for f in files})
    return [
        f"{name} ({form}) in {where}"
        for name, value in values.items()
        for form, needle in _forms(value).items()
        for where, blob in blobs.items()
        if needle in blob
    ]


def _outputs(cr: CrashRepo, *commands: tuple[str, ...]) -> dict[str, str]:
    texts = {}
    for args in commands:
        done = cr.call(*args)
        texts[" ".join(args)] = done.stdout + done.stderr
    return texts


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
        **_outputs(
            cr,
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
    leaks = _leaks({**values, **seq_values}, cr.state_home, texts)
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
        **_outputs(
            cr,
            ("dlq", "list", "--json"),
            ("dlq", "show", "item_0", "--job", cr.job_id(), "--json"),
            ("events", "ls", "--json"),
            ("logs", "--tail", "200"),
        ),
    }
    values = {f"pem line {i}": line for i, line in enumerate(body)} | {"token": token}
    leaks = _leaks(values, cr.state_home, texts)
    hexed = token.encode().hex()
    leaks += [where for where, text in texts.items() if hexed in text or hexed.upper() in text]
    assert leaks == [], "\n".join(leaks)


# --- item 4: resume and retry get the real values, never `***` --------------------------

SEQ_RESUME_WF = """\
name: seq-resume
secrets:
  SIGN_KEY: SIGN_SOURCE
commands:
  - shell: printf 'sig-%s' "$SIGN_KEY"
    capture: sign
  - shell: printf 'cap-%s-%s' "$SIGN_KEY" "$SIGN_KEY"
    capture: c
  - shell: test -e "$HOME/go"
  - shell: |
      printf 'sign=%s\\nc=%s\\narg=%s\\n' "${sign}" "${c}" "${ARG_1}" > sign.txt
      git add sign.txt && git commit -qm sign
"""


def _key_is_private(cr: CrashRepo) -> None:
    key = cr.state_home / "keys" / "store.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


def test_resume_of_a_sequential_session_uses_the_real_secret(cr: CrashRepo) -> None:
    """Captures and `--args` holding a secret, used after the resume point, are the real
    values (the store keeps `***`, with the real value sealed under a key outside it)."""
    token = "sk-" + secrets.token_hex(12)
    env = {"SIGN_SOURCE": token}
    cr.write_workflow(SEQ_RESUME_WF)
    failed = cr.call("run", str(cr.workflow_path), "-y", "--args", token, env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    (cr.home / "go").touch()
    done = cr.call("resume", _session(cr), "-y", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cr.cat("sign.txt") == f"sign=sig-{token}\nc=cap-{token}-{token}\narg={token}\n"
    _key_is_private(cr)
    texts = {
        "run": failed.stdout + failed.stderr,
        "resume": done.stdout + done.stderr,
        **_outputs(cr, ("events", "ls", "--json"), ("checkpoints", "ls"), ("logs", "--tail", "99")),
    }
    assert _leaks({"token": token}, cr.state_home, texts) == []


MAP_RESUME_WF = """\
name: map-resume
mode: mapreduce
secrets:
  API_TOKEN: TOKEN_SOURCE
setup:
  - shell: printf 'tok-%s' "$API_TOKEN"
    capture: tok
  - shell: printf '%s-2' "${tok}"
    capture: tok2
map:
  input: items.json
  max_parallel: 1
  agent_template:
    - shell: |
        mkdir -p out && printf '%s|%s|%s\\n' "${tok}" "${tok2}" "${item.v}" > "out/${item.id}.txt"
        git add out && git commit -qm "item ${item.id}"
      commit_required: true
reduce:
  - shell: |
      printf '%s\\n' "${tok}" > reduce.txt
      git add reduce.txt && git commit -qm reduce
"""


def test_resume_job_after_sigkills_feeds_real_setup_captures_and_item_values(
    cr: CrashRepo,
) -> None:
    """SIGKILL after setup step 1, then again before the second merge; each resume-job sees
    the real setup captures and item values, accepts the unchanged input (items holding a
    secret used to look "new and missing"), and every item lands exactly once."""
    token = "tk-" + secrets.token_hex(12)
    env = {"TOKEN_SOURCE": token}
    values = [token, "plain", f"x-{token}", "p4"]
    cr.items([{"id": f"k{n}", "v": v} for n, v in enumerate(values, 1)])
    cr.write_workflow(MAP_RESUME_WF)
    outputs = {}
    first = cr.call(
        "run", str(cr.workflow_path), "-y", env={**env, "PRODIGY_CRASH_AT": "after-setup-step-1:1"}
    )
    assert first.returncode == 137, first.stdout + first.stderr
    job = cr.job_id()
    second = cr.call("resume-job", job, "-y", env={**env, "PRODIGY_CRASH_AT": "before-merge:2"})
    assert second.returncode == 137, second.stdout + second.stderr
    assert "new and" not in second.stdout + second.stderr
    third = cr.call("resume-job", job, "-y", env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    outputs = {
        "1": first.stdout + first.stderr,
        "2": second.stdout,
        "3": third.stdout + third.stderr,
    }
    files = {f"out/k{n}.txt": f"tok-{token}|tok-{token}-2|{v}\n" for n, v in enumerate(values, 1)}
    cr.check(expect_items=[f"item_{i}" for i in range(4)], expect_files=files)
    assert cr.cat("reduce.txt") == f"tok-{token}\n"
    _key_is_private(cr)
    texts = {**outputs, **_outputs(cr, ("events", "ls", "--json"), ("logs", "--tail", "99"))}
    assert _leaks({"token": token}, cr.state_home, texts) == []


RETRY_WF = """\
name: retry-secret
mode: mapreduce
secrets:
  API_TOKEN: TOKEN_SOURCE
map:
  input: items.json
  agent_template:
    - shell: |
        test -e "$HOME/go" || exit 1
        mkdir -p out && printf '%s %s\\n' "${item.v}" "${ARG_1}" > "out/${item.id}.txt"
        git add out && git commit -qm "item ${item.id}"
      commit_required: true
"""


def test_dlq_retry_of_an_item_holding_a_secret_commits_the_real_value(cr: CrashRepo) -> None:
    token = "tk-" + secrets.token_hex(12)
    env = {"TOKEN_SOURCE": token}
    cr.items([{"id": "k1", "v": f"value {token}"}])
    cr.write_workflow(RETRY_WF)
    failed = cr.call("run", str(cr.workflow_path), "-y", "--args", token, env=env)
    assert cr.items_state() == {"item_0": "dead_lettered"}, failed.stdout + failed.stderr
    (cr.home / "go").touch()
    retried = cr.call("dlq", "retry", cr.job_id(), "-y", env=env)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    expected = {"out/k1.txt": f"value {token} {token}\n"}  # item data and `--args`
    cr.check(expect_items=["item_0"], expect_files=expected)
    texts = {
        "run": failed.stdout + failed.stderr,
        "retry": retried.stdout + retried.stderr,
        **_outputs(cr, ("dlq", "list", "--json"), ("events", "ls", "--json")),
    }
    assert _leaks({"token": token}, cr.state_home, texts) == []


def test_force_with_secret_items_adds_only_new_items_and_lands_each_once(cr: CrashRepo) -> None:
    """The input gains one item after a crash; `--force` adds exactly that one: items holding
    a secret are recognised as the same items (they used to be re-added and land twice)."""
    token = "tk-" + secrets.token_hex(12)
    env = {"TOKEN_SOURCE": token}
    items = [{"id": f"k{n}", "v": f"{token}-{n}"} for n in range(1, 4)]
    cr.items(items)
    cr.write_workflow(MAP_RESUME_WF)
    crashed = cr.call(
        "run", str(cr.workflow_path), "-y", env={**env, "PRODIGY_CRASH_AT": "before-merge:2"}
    )
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    parent = Path(cr.query("SELECT parent_worktree FROM jobs")[0]["parent_worktree"])
    grown = [*reversed(items), {"id": "k4", "v": f"{token}-4"}]
    (parent / "items.json").write_text(json.dumps(grown))
    refused = cr.call("resume-job", cr.job_id(), "-y", env=env)
    assert refused.returncode == 2
    assert "1 new and 0 missing" in refused.stderr, refused.stderr
    forced = cr.call("resume-job", cr.job_id(), "-y", "--force", env=env)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    files = {f"out/k{n}.txt": f"tok-{token}|tok-{token}-2|{token}-{n}\n" for n in range(1, 5)}
    check = cr.check(expect_items=[f"item_{i}" for i in range(4)], expect_files=files)
    assert len(check.landed) == 4


def test_a_lost_key_refuses_to_resume_instead_of_using_masked_values(cr: CrashRepo) -> None:
    token = "tk-" + secrets.token_hex(12)
    env = {"TOKEN_SOURCE": token}
    cr.items([{"id": "k1", "v": token}, {"id": "k2", "v": "plain"}])
    cr.write_workflow(MAP_RESUME_WF)
    crashed = cr.call(
        "run", str(cr.workflow_path), "-y", env={**env, "PRODIGY_CRASH_AT": "before-merge:1"}
    )
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    (cr.state_home / "keys" / "store.key").unlink()
    refused = cr.call("resume-job", cr.job_id(), "-y", env=env)
    assert refused.returncode != 0
    assert "key file is missing" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "***" not in cr.git("log", "--all", "-p")


# --- item 14: big step output stays bounded in memory and in the store --------------------

BIG_WF = """\
name: big-output
commands:
  - shell: |
      python3 -c "import sys; w = sys.stdout.write; [w('line %07d %s\\\\n' % (i, 'x' * 1000)) for i in range({lines})]"
      echo LAST-LINE
    output_file: out.txt
  - shell: |
      wc -c < out.txt > out-size.txt
      git add out-size.txt && git commit -qm size
"""


def _db_bytes(cr: CrashRepo) -> int:
    return sum(p.stat().st_size for p in cr.state_home.glob("prodigy.db*") if p.is_file())


def test_big_uncaptured_output_is_kept_as_a_tail_and_whole_in_the_log(cr: CrashRepo) -> None:
    """3 MB of stdout: the store (steps, checkpoints: shell.output, test.output,
    CAPTURED_OUTPUT) keeps at most a 64 KiB tail each; the step log and output_file have
    all of it."""
    lines = 3000
    cr.write_workflow(BIG_WF.format(lines=lines))
    done = cr.call("run", str(cr.workflow_path), "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    total = lines * 1014 + len("LAST-LINE\n")
    assert cr.cat("out-size.txt").strip() == str(total)
    (output,) = [r[0] for r in cr.query("SELECT output FROM steps WHERE step_index = 0")]
    assert len(output) < 70_000, len(output)
    assert output.rstrip().endswith("LAST-LINE")
    (variables,) = cr.query("SELECT variables FROM checkpoints ORDER BY seq LIMIT 1")[0]
    kept = json.loads(variables)
    for name in ("shell.output", "test.output", "CAPTURED_OUTPUT"):
        assert 60_000 < len(kept[name]) < 70_000, (name, len(kept[name]))
        assert kept[name].startswith("[... ") and "earlier bytes not kept here" in kept[name]
        assert kept[name].rstrip().endswith("LAST-LINE")
    assert len(variables) < 4 * 70_000, len(variables)
    assert _db_bytes(cr) < 2_000_000, _db_bytes(cr)
    logs = sorted((cr.state_home / "logs").rglob("*.log"), key=lambda p: p.stat().st_size)
    text = logs[-1].read_text()
    assert "line 0000000 " in text and "line 0002999 " in text and "LAST-LINE" in text
    assert logs[-1].stat().st_size > total


CAPTURE_WF = """\
name: big-capture
commands:
  - shell: python3 -c "import sys; sys.stdout.write('y' * {size})"
    capture: big
  - shell: |
      printf '%s' "${{big}}" | wc -c > big-size.txt
      git add big-size.txt && git commit -qm size
"""


def test_a_named_capture_gets_all_of_the_output_up_to_its_limit(cr: CrashRepo) -> None:
    size = 2 * 1024 * 1024
    cr.write_workflow(CAPTURE_WF.format(size=size))
    done = cr.call("run", str(cr.workflow_path), "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert cr.cat("big-size.txt").strip() == str(size)

    cr.write_workflow(CAPTURE_WF.format(size=17 * 1024 * 1024))
    over = cr.call("run", str(cr.workflow_path), "-y")
    assert over.returncode == 1
    shown = over.stdout + over.stderr
    assert "capture big: the output is 17825792 bytes, more than the 16 MiB" in shown, shown


@pytest.mark.slow
def test_fifty_megabytes_of_output_keep_memory_and_the_database_small(cr: CrashRepo) -> None:
    """~50 MB of stdout in one step: peak RSS of prodigy stays far below the output size
    (it was 10x the output before) and the database stays small. Measured, not timed."""
    lines = 50_000
    cr.write_workflow(BIG_WF.format(lines=lines))
    proc = subprocess.Popen(
        [str(PRODIGY), "run", str(cr.workflow_path), "-y"],
        cwd=cr.repo,
        env=cr.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS {peak_mb:.1f} MB for {lines * 1014 / 1e6:.1f} MB of output")
    assert peak_mb < 150, peak_mb
    assert _db_bytes(cr) < 2_000_000, _db_bytes(cr)
    assert cr.cat("out-size.txt").strip() == str(lines * 1014 + len("LAST-LINE\n"))
