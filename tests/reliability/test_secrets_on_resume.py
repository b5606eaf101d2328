"""Issue 12, item 4: resume, resume-job and dlq retry get the real secret values, never `***`,
and refuse when the key is lost. Drives the real `prodigy` CLI.
"""

from __future__ import annotations

import json
import secrets
import stat
from pathlib import Path

from tests.support.leaks import find_leaks, state_files
from tests.support.reliability import CrashRepo

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
    done = cr.call("resume", cr.sequential_session_id(), "-y", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cr.cat("sign.txt") == f"sign=sig-{token}\nc=cap-{token}-{token}\narg={token}\n"
    _key_is_private(cr)
    texts = {
        "run": failed.stdout + failed.stderr,
        "resume": done.stdout + done.stderr,
        **cr.outputs(("events", "ls", "--json"), ("checkpoints", "ls"), ("logs", "--tail", "99")),
    }
    assert find_leaks({"token": token}, state_files(cr.state_home), texts) == []


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
    texts = {**outputs, **cr.outputs(("events", "ls", "--json"), ("logs", "--tail", "99"))}
    assert find_leaks({"token": token}, state_files(cr.state_home), texts) == []


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
        **cr.outputs(("dlq", "list", "--json"), ("events", "ls", "--json")),
    }
    assert find_leaks({"token": token}, state_files(cr.state_home), texts) == []


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
