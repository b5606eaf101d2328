"""T23 and the security cases of issue 7: secrets never reach disk or terminal, state files are
private, `config show` masks keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import quote

from tests.support.leaks import find_leaks, state_files
from tests.support.mapreduce import MapReduceRepo

SECRETS_WF = """
name: secrets
mode: mapreduce
env_files: [.env]
env:
  SERVICE_KEY: "{service_key}"
  PLAIN: visible
secrets:
  API_TOKEN: SECRET_SOURCE
setup:
  - shell: echo "setup $API_TOKEN $DB_PASSWORD $SERVICE_KEY $CI_DEPLOY_TOKEN" && echo "$API_TOKEN" >&2
    capture_output: setup_out
map:
  input: items.json
  max_parallel: 2
  agent_template:
    - shell: |
        echo "token $API_TOKEN"; echo "token $API_TOKEN" >&2
        printf '%s' "$API_TOKEN" | base64
        printf '{{"t": "%s"}}\\n' "$API_TOKEN"
        echo "$DB_PASSWORD $SERVICE_KEY $CI_DEPLOY_TOKEN $MY_SECRET"
        echo "item ${{item.v}}"
      capture_output: agent_out
    - claude: /print-secret ${{item.n}}
    - shell: exit 3
reduce:
  - shell: echo "reduce $API_TOKEN ${{map.results}}"
"""


def test_t23_secrets_never_reach_the_state_home_logs_or_the_terminal(mr: MapReduceRepo) -> None:
    token = "tk/" + secrets.token_urlsafe(24) + '+"&='
    values = {
        "API_TOKEN": token,  # declared secrets:
        "DB_PASSWORD": "pw" + secrets.token_hex(12),  # env_files, named like a password
        "SERVICE_KEY": "sk" + secrets.token_hex(12),  # workflow env, named *_KEY
        "CI_DEPLOY_TOKEN": "ci" + secrets.token_hex(12),  # the process environment, *_TOKEN
        "MY_SECRET": "ms" + secrets.token_hex(12),  # the process environment, *_SECRET
    }
    sentinel = "sentinel" + secrets.token_hex(12)
    (mr.repo / ".env").write_text(f"DB_PASSWORD={values['DB_PASSWORD']}\n")
    mr.items([{"n": 1, "v": "plain"}, {"n": 2, "v": token}])
    blob = json.dumps({"token": token})
    encoded = base64.b64encode(token.encode()).decode()
    mr.rules(
        [
            {
                "match": "^/print-secret",
                "stdout": f"here {token} and {blob} and {encoded} and {quote(token, safe='')}",
                "stderr": f"stderr {token}\n",
                "exit": 1,
            }
        ]
    )
    done = mr.run(
        SECRETS_WF.format(service_key=values["SERVICE_KEY"]),
        "-vv",
        env={
            "SECRET_SOURCE": token,
            "CI_DEPLOY_TOKEN": values["CI_DEPLOY_TOKEN"],
            "MY_SECRET": values["MY_SECRET"],
            "SENTINEL_ENV": sentinel,
        },
    )
    assert done.returncode in (0, 1), done.stderr
    assert "***" in done.stdout + done.stderr, "nothing was masked: did the steps run?"
    listed = {
        " ".join(args): mr.prodigy(*args)
        for args in (
            ("dlq", "list", "--json"),
            ("dlq", "show", "item_1", "--job", mr.job_id(), "--json"),
            ("events", "ls", "--json"),
            ("sessions", "ls", "--all"),
            ("logs", "--tail", "200"),
        )
    }
    texts = {"run stdout": done.stdout, "run stderr": done.stderr}
    for name, run in listed.items():
        texts[f"{name} stdout"] = run.stdout
        texts[f"{name} stderr"] = run.stderr
    texts["merge commits"] = mr.git("log", "--all", "--format=%B")
    files = state_files(mr.home / ".prodigy")
    assert any(f.suffix in (".log", ".jsonl", ".json") for f in files), files
    leaks = find_leaks({**values, "SENTINEL_ENV": sentinel}, files, texts)
    assert leaks == [], "\n".join(leaks)


def test_t23_state_files_are_private(mr: MapReduceRepo) -> None:
    mr.items([{"n": 1}])
    done = mr.run(
        """
        name: modes
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - claude: /fake-echo hi
            - shell: echo hi
        """
    )
    assert done.returncode == 0, done.stderr
    home = mr.home / ".prodigy"
    wrong = []
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if Path(root, d) != home / "worktrees"]
        for d in dirs:
            mode = stat.S_IMODE(Path(root, d).stat().st_mode)
            if mode & 0o077:
                wrong.append(f"{Path(root, d)} {mode:o}")
        for f in files:
            mode = stat.S_IMODE(Path(root, f).stat().st_mode)
            if mode & 0o077:
                wrong.append(f"{Path(root, f)} {mode:o}")
    mode = stat.S_IMODE(home.stat().st_mode)
    assert mode == 0o700, f"{home} {mode:o}"
    assert wrong == [], "\n".join(wrong)


def test_t23_config_show_masks_keys(mr: MapReduceRepo) -> None:
    key = "sk-ant-" + secrets.token_hex(16)
    env_key = "sk-env-" + secrets.token_hex(16)
    (mr.home / ".prodigy").mkdir(exist_ok=True)
    (mr.home / ".prodigy" / "config.yml").write_text(f"claude_api_key: {key}\n")
    shown = [mr.prodigy("config", "show"), mr.prodigy("config", "show", "--json")]
    mr.env["PRODIGY_CLAUDE_API_KEY"] = env_key
    shown.append(mr.prodigy("config", "show"))
    only = mr.prodigy("config", "show", "claude_api_key")
    assert only.stdout == "***\n"
    for run in shown:
        assert run.returncode == 0, run.stderr
        assert "claude_api_key" in run.stdout, run.stdout
        assert not find_leaks(
            {"key": key, "env key": env_key}, [], {"out": run.stdout + run.stderr}
        )
