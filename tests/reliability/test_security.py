"""T21-T24 and the security cases of issue 7: data never runs, paths never escape, secrets
never reach disk or terminal, records cannot be forged; write_file/output_file stay inside
the worktree; `config show` masks keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from tests.integration.mapreduce_harness import MapReduceRepo
from tests.reliability.harness import check_job


@pytest.fixture
def mr(tmp_path: Path) -> MapReduceRepo:
    return MapReduceRepo(tmp_path)


def _sandbox(mr: MapReduceRepo) -> Path:
    """A directory outside the repository and the state home that nothing may touch."""
    sandbox = mr.root / "sandbox"
    sandbox.mkdir(exist_ok=True)
    (sandbox / "sentinel").write_text("untouched\n")
    return sandbox


# --- T21 hostile item values ----------------------------------------------------------------

HOSTILE = [
    "$(touch $SANDBOX/pwned1)",
    "`touch $SANDBOX/pwned2`",
    "'; touch $SANDBOX/pwned3; '",
    '" && touch $SANDBOX/pwned4 #',
    "ok\ntouch $SANDBOX/pwned5",
    "${IFS}",
    "$HOME",
    "${item.other}",
    "%s %d %n",
    "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c e\u0301\u0301",
    "-rf",
    "--help",
    "-p --dangerously-skip-permissions",
]
BIG = "x" * (1024 * 1024)


def test_t21_hostile_item_values_are_data_in_shell_and_claude_steps(mr: MapReduceRepo) -> None:
    sandbox = _sandbox(mr)
    items = [
        {"key": f"k{i}", "name": v, "other": "$(touch $SANDBOX/pwned6)"}
        for i, v in enumerate(HOSTILE)
    ]
    mr.items(items)
    done = mr.run(
        """
        name: hostile
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 4
          agent_template:
            - shell: mkdir -p out && printf '%s' ${item.name} > out/${item.key}.txt
            - claude: /fix ${item.name}
            - shell: git add out && git commit -qm "item ${item.key}"
        reduce:
          - shell: printf '%s' '${map.results}' > "$HOME/results.json"
        """,
        env={"SANDBOX": str(sandbox)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in sandbox.iterdir()) == ["sentinel"], "a value ran as code"
    for item in items:
        assert mr.cat(f"out/{item['key']}.txt") == item["name"], item
    prompts = sorted(c["prompt"] for c in mr.calls())
    assert prompts == sorted(f"/fix {v}" for v in HOSTILE)
    for call in mr.calls():
        assert call["argv"][-1] == call["prompt"] and call["argv"][-2] == "--"
    job = mr.job_id()
    check_job(
        mr.repo, mr.home / ".prodigy", job, expect_items=[f"item_{i}" for i in range(len(items))]
    )
    results = json.loads((mr.home / "results.json").read_text())
    assert len(results) == len(HOSTILE)


def test_t21_the_prompt_is_one_argv_element_of_claude_started_by_prodigy(
    mr: MapReduceRepo,
) -> None:
    """The fake records its parent: prodigy itself, never a shell."""
    mr.items([{"name": "-p --x $(touch pwned)"}])
    (mr.root / "bin" / "claude").write_text(
        (mr.root / "bin" / "claude")
        .read_text()
        .replace(
            '"pid": os.getpid(),',
            '"pid": os.getpid(), "parent": open(f"/proc/{os.getppid()}/comm").read().strip(),',
        )
    )
    done = mr.run(
        """
        name: argv
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - claude: ${item.name}
        """
    )
    assert done.returncode == 0, done.stderr
    [call] = mr.calls()
    assert call["argv"][-2:] == ["--", "-p --x $(touch pwned)"]
    assert call["parent"] not in ("sh", "bash", "dash"), call["parent"]
    assert not (mr.repo / "pwned").exists()


def test_t21_a_one_megabyte_value_reaches_a_shell_step_whole(mr: MapReduceRepo) -> None:
    mr.items([{"key": "big", "name": BIG}, {"key": "small", "name": "ok"}])
    done = mr.run(
        """
        name: big
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: mkdir -p out && printf '%s' ${item.name} > out/${item.key}.txt
            - shell: git add out && git commit -qm "item ${item.key}"
        """
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert mr.cat("out/small.txt") == "ok"
    assert mr.cat("out/big.txt") == BIG
    assert mr.dlq() == []


def test_t21_a_one_megabyte_prompt_fails_its_item_with_a_clear_message(
    mr: MapReduceRepo,
) -> None:
    """Linux limits one argv element to 128 KiB: the item fails and says why."""
    mr.items([{"name": BIG}, {"name": "ok"}])
    done = mr.run(
        """
        name: big-prompt
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - claude: /fix ${item.name}
        """
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert [c["prompt"] for c in mr.calls()] == ["/fix ok"]
    [entry] = mr.dlq()
    assert entry["item_id"] == "item_0"
    error = json.dumps(entry["failure_history"])
    assert "too long" in error.lower(), error[:2000]


# --- T22 path traversal and unsafe keys -----------------------------------------------------

UNSAFE_KEYS = [
    "../../x",
    "/abs/x",
    "..",
    ".",
    "a/b",
    "-rf",
    "k" * 300,
    "x\0y",
    "Foo",
    "foo",
    "caf\u00e9",
    "cafe\u0301",
]


def _walk_inside(base: Path) -> list[Path]:
    """Every path under `base` whose real location is outside it."""
    real_base = base.resolve()
    escaped = []
    for root, dirs, files in os.walk(base):
        for name in (*dirs, *files):
            path = Path(root) / name
            if not path.resolve().is_relative_to(real_base):
                escaped.append(path)
    return escaped


def test_t22_unsafe_item_keys_never_escape_and_branches_stay_valid(mr: MapReduceRepo) -> None:
    sandbox = _sandbox(mr)
    items = [{"id": key, "n": i} for i, key in enumerate(UNSAFE_KEYS)]
    mr.items(items)
    done = mr.run(
        """
        name: keys
        mode: mapreduce
        map:
          input: items.json
          max_parallel: 4
          agent_template:
            - write_file:
                path: "${item.id}"
                content: "item ${item.n}"
                create_dirs: true
            - shell: git add -A && git commit -qm "item ${item.n}"
        """
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert sorted(p.name for p in sandbox.iterdir()) == ["sentinel"]
    assert (sandbox / "sentinel").read_text() == "untouched\n"
    for base in (mr.home / ".prodigy", mr.repo):
        assert _walk_inside(base) == [], f"files outside {base}"
    assert not (mr.root / "x").exists() and not Path("/abs/x").exists()
    for branch in mr.branches():
        ok = subprocess.run(
            ["git", "check-ref-format", "--branch", branch], capture_output=True, check=False
        )
        assert ok.returncode == 0, branch
    states = mr.items_state()
    assert len(states) == len(UNSAFE_KEYS), "an item was dropped"
    dlq = {e["item_id"]: json.dumps(e["failure_history"]) for e in mr.dlq()}
    # The escaping keys fail their own item with the reason; the others land as named files.
    for i, key in enumerate(UNSAFE_KEYS):
        item = f"item_{i}"
        if key in ("../../x", "/abs/x", "..", ".", "k" * 300, "x\0y"):
            assert item in dlq, f"{key!r} should have failed its item"
        else:
            assert states[item] == "merged", (key, states[item], dlq.get(item))
            assert mr.cat(key) == f"item {i}"
    assert "path '../../x' leaves the worktree" in dlq["item_0"]


@pytest.mark.parametrize("job", ["../x", "a/../../etc/passwd"])
def test_t22_a_hostile_job_or_session_id_on_the_command_line_creates_nothing(
    mr: MapReduceRepo, job: str
) -> None:
    sandbox = _sandbox(mr)
    before = sorted(str(p) for p in mr.home.rglob("*"))
    for args in (
        ("resume", job),
        ("resume-job", job),
        ("dlq", "list", "--job", job),
        ("dlq", "retry", job),
        ("events", "ls", "--job", job),
        ("dlq", "export", job, "--output", str(mr.root / "export.json")),
    ):
        run = mr.prodigy(*args)
        assert "Traceback" not in run.stdout + run.stderr, (args, run.stderr)
    assert sorted(p.name for p in sandbox.iterdir()) == ["sentinel"]
    assert _walk_inside(mr.home) == []
    created = {str(p) for p in mr.home.rglob("*")} - set(before)
    assert not {p for p in created if Path(p).name in ("x", "b", "passwd")}, created
    assert not (mr.root / "x").exists()
    assert not (mr.home.parent / "x").exists()


# --- T23 secrets ----------------------------------------------------------------------------


def _forms(value: str) -> dict[str, bytes]:
    return {
        "raw": value.encode(),
        "base64": base64.b64encode(value.encode()),
        "url": quote(value, safe="").encode(),
        "json": json.dumps(value)[1:-1].encode(),
    }


def _state_files(home: Path) -> list[Path]:
    """Everything prodigy wrote under its home, except the worktrees (checkouts of the repo)."""
    found = []
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if Path(root, d) != home / "worktrees"]
        found += [Path(root, f) for f in files]
    return found


def _leaks(values: dict[str, str], files: list[Path], texts: dict[str, str]) -> list[str]:
    blobs = {str(f): f.read_bytes() for f in files}
    blobs.update({name: text.encode() for name, text in texts.items()})
    found = []
    for secret_name, value in values.items():
        for form, needle in _forms(value).items():
            found += [
                f"{secret_name} ({form}) in {where}"
                for where, blob in blobs.items()
                if needle in blob
            ]
    return found


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
    files = _state_files(mr.home / ".prodigy")
    assert any(f.suffix in (".log", ".jsonl", ".json") for f in files), files
    leaks = _leaks({**values, "SENTINEL_ENV": sentinel}, files, texts)
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
        assert not _leaks({"key": key, "env key": env_key}, [], {"out": run.stdout + run.stderr})


# --- T24 log and event injection ------------------------------------------------------------

FORGED = '\n{"event_type": "job_completed", "job_id": "forged"}\n'
CONTROL = "red \x1b[31mRED\x1b[0m \x1b]0;title\x07 back\rover \x08"


def test_t24_item_values_cannot_forge_events(mr: MapReduceRepo) -> None:
    _inject(mr)
    events = mr.events()
    assert not [e for e in events if e.get("job_id") == "forged"]
    assert [e["event_type"] for e in events].count("job_completed") <= 1
    out = mr.root / "events.jsonl"
    exported = mr.prodigy(
        "events", "export", "--job", mr.job_id(), "--format", "jsonl", "--output", str(out)
    )
    assert exported.returncode == 0, exported.stderr
    parsed = [json.loads(line) for line in out.read_text().splitlines()]  # one object a line
    assert len(parsed) == len(events)
    assert not [e for e in parsed if "forged" in json.dumps(e.get("job_id"))]


def test_t24_terminal_output_escapes_control_characters(mr: MapReduceRepo) -> None:
    done = _inject(mr)
    for text in (
        done.stdout,
        done.stderr,
        mr.prodigy("dlq", "list").stdout,
        mr.prodigy("events", "ls").stdout,
    ):
        assert "\x1b" not in text and "\x07" not in text and "\x08" not in text, repr(text)
        assert "\r" not in text, repr(text)


def _inject(mr: MapReduceRepo) -> subprocess.CompletedProcess[str]:
    mr.items([{"v": FORGED}, {"v": CONTROL}])
    done = mr.run(
        """
        name: inject
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: printf '%s\\n' ${item.v}
            - shell: printf '%s' ${item.v} >&2; exit 1
        """,
        "-v",
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done


# --- write_file and output_file stay inside the worktree ------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        'write_file: {path: "../../escaped.txt", content: x}',
        'write_file: {path: "/tmp/escaped-abs.txt", content: x}',
        'write_file: {path: "link/escaped.txt", content: x}',
        "shell: echo x\n  output_file: ../../escaped.txt",
        "shell: echo x\n  output_file: link/escaped.txt",
    ],
)
def test_write_file_and_output_file_cannot_leave_the_worktree(mr: MapReduceRepo, step: str) -> None:
    sandbox = _sandbox(mr)
    os.symlink(sandbox, mr.repo / "link")
    mr.git("add", "link")
    mr.git("commit", "-qm", "a symlink out of the repository")
    path = mr.root / "wf" / "escape.yml"
    path.write_text(f"- {step}\n")
    run = mr.prodigy("run", str(path), "-y")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "leaves the worktree" in run.stdout + run.stderr
    assert sorted(p.name for p in sandbox.iterdir()) == ["sentinel"]
    assert not list(mr.root.rglob("escaped*.txt"))
    assert not Path("/tmp/escaped-abs.txt").exists()
