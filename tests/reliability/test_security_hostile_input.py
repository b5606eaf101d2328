"""T21-T22 and the security cases of issue 7: hostile item values are data, never code; unsafe
keys and ids never escape the worktree or the state home.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from tests.support.mapreduce import MapReduceRepo
from tests.support.reliability import check_job

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
    sandbox = mr.sandbox()
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
    sandbox = mr.sandbox()
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
    sandbox = mr.sandbox()
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
