"""Issue 12 items 10 and 11: bad input gives a one-line error, a non-zero exit, and leaves
nothing behind (no traceback, no crashed session, no worktree, no branch)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.cli import PRODIGY
from tests.support.mapreduce import MapReduceRepo


def _prodigy(
    mr: MapReduceRepo, *args: str, memory: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [str(PRODIGY), *args],
        cwd=mr.repo,
        env=mr.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_yaml_nested_600_levels_is_refused_by_validate(mr: MapReduceRepo) -> None:
    path = mr.root / "wf" / "deep.yml"
    path.write_text("name: x\nsteps:\n  - shell: echo\n    env: " + "[" * 600 + "]" * 600 + "\n")
    done = _prodigy(mr, "validate", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "deep.yml:4:" in done.stdout + done.stderr
    assert "nested more than 100 levels deep" in done.stdout + done.stderr


def test_a_yaml_alias_bomb_is_refused_within_bounded_memory(mr: MapReduceRepo) -> None:
    lines = ["name: x", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines += ["steps:", "  - shell: echo", "    env: *a9"]
    path = mr.root / "wf" / "bomb.yml"
    path.write_text("\n".join(lines) + "\n")
    # 9^10 strings expanded would need gigabytes; 1 GiB of address space is plenty to refuse
    done = _prodigy(mr, "validate", str(path), memory=1 << 30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "alias bomb" in done.stdout + done.stderr


BAD_ITEMS = {
    "deep": '[{"x": ' + "[" * 3000 + "]" * 3000 + "}]",
    "surrogate": '[{"x": "ok"}, {"x": "\\ud800"}]',
}


@pytest.mark.parametrize("kind", sorted(BAD_ITEMS))
def test_bad_items_stop_the_run_and_leave_nothing_behind(mr: MapReduceRepo, kind: str) -> None:
    (mr.repo / "items.json").write_text(BAD_ITEMS[kind])
    mr.git("add", "items.json")
    mr.git("commit", "-qm", "items")
    done = mr.run(
        """
        name: bad-items
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: echo ${item.x}
        """
    )
    error = _one_line_error(done)
    assert ("nested more than 100 levels" if kind == "deep" else "lone surrogate") in error
    assert done.returncode == 2
    assert mr.query("SELECT id, status FROM sessions") == []
    assert mr.worktrees() == [str(mr.repo)]
    assert mr.branches() == ["master"]
    assert mr.calls() == []


def _read_only(home: Path, *args: str) -> list[str]:
    """`args` run inside a mount namespace where `home` is a read-only bind mount."""
    mount = f"mount --bind {home} {home} && mount -o remount,bind,ro {home}"
    return ["unshare", "-rm", "sh", "-c", f'{mount} && exec "$@"', "sh", *args]


def _can_mount_read_only(tmp: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(_read_only(tmp, "true"), capture_output=True, check=False)
    return probe.returncode == 0


def test_a_read_only_prodigy_home_reads_and_refuses_writes_in_one_line(
    mr: MapReduceRepo,
) -> None:
    if not _can_mount_read_only(mr.root) and os.environ.get("CI") != "true":
        pytest.skip("needs unshare -rm (user and mount namespaces) for a read-only mount")
    mr.items([{"x": 1}])
    workflow = """
        name: ro
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: echo ${item.x}
    """
    assert mr.run(workflow).returncode == 0
    home = mr.home / ".prodigy"
    before = sorted(p.name for p in home.rglob("*"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _read_only(home, str(PRODIGY), *args),
            cwd=mr.repo,
            env=mr.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    for command in (("sessions", "ls", "--all"), ("events", "ls"), ("dlq", "list")):
        done = run(*command)
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr
    assert "completed" in run("sessions", "ls", "--all").stdout
    written = run("run", str(mr.root / "wf" / "wf.yml"), "-y")
    assert "PRODIGY_HOME" in _one_line_error(written)
    assert mr.worktrees() == [str(mr.repo)]
    assert sorted(p.name for p in home.rglob("*")) == before


REDOS = """
name: redos
mode: mapreduce
map:
  input: items.json
  filter: "text matches '^(a+)+$'"
  agent_template:
    - shell: printf '%s' '${item.text}' > out-${item_index}.txt && git add -A && git commit -qm x
"""


def test_a_catastrophic_regex_in_a_filter_finishes_at_once(mr: MapReduceRepo) -> None:
    """Item 12: with a backtracking engine this filter ran for more than ten minutes."""
    mr.items([{"text": "a" * 40 + "!"}, {"text": "a" * 40}] * 3)
    done = mr.run(REDOS, timeout=60)  # RE2 is linear: a hang would hit this timeout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Processing 3 items" in done.stdout + done.stderr
    assert len(mr.dlq()) == 0


def test_a_regex_re2_cannot_run_is_a_one_line_validate_error(mr: MapReduceRepo) -> None:
    path = mr.root / "wf" / "backref.yml"
    path.write_text(REDOS.replace("^(a+)+$", "(a)\\\\1"))
    done = _prodigy(mr, "validate", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "patterns use RE2 syntax: no backreferences" in done.stdout + done.stderr
    assert "absl" not in done.stderr  # RE2's own logging stays quiet


def test_write_file_formats_hostile_yaml_and_json_without_a_crash(mr: MapReduceRepo) -> None:
    """Item 11's alias bomb and item 10's deep nesting, arriving as a write_file content."""
    bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)
    )
    mr.items([{"text": bomb, "fmt": "yaml"}, {"text": "[" * 5000 + "]" * 5000, "fmt": "json"}])
    done = mr.run(
        """
        name: formats
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - write_file:
                path: out-${item_index}.txt
                content: "${item.text}"
                format: yaml
              when: "${item.fmt} == 'yaml'"
            - write_file:
                path: out-${item_index}.txt
                content: "${item.text}"
                format: json
              when: "${item.fmt} == 'json'"
            - shell: git add -A && git commit -qm "item ${item_index}"
        """
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert len(mr.cat("out-0.txt")) < 10_000  # anchors kept: the bomb is not expanded
    [entry] = mr.dlq()
    assert entry["item_id"] == "item_1"
    assert "nested too deeply" in str(entry["failure_history"])


@pytest.mark.slow
def test_ctrl_c_stops_planning_a_big_input(mr: MapReduceRepo) -> None:
    """Item 12: planning (parse, filter, sort of 1.5 million items) runs off the event loop,
    so SIGINT stops the run during planning with exit 130 and the resume command."""
    import json
    import signal

    items = [{"text": "a" * 40 + "!", "n": i} for i in range(1_500_000)]
    (mr.repo / "items.json").write_text(json.dumps(items))
    mr.git("add", "items.json")
    mr.git("commit", "-qm", "items")
    path = mr.root / "wf" / "plan.yml"
    path.write_text(REDOS.replace("  agent_template:", '  sort_by: "n DESC"\n  agent_template:'))
    process = subprocess.Popen(
        [str(PRODIGY), "run", str(path), "-y"],
        cwd=mr.repo,
        env=mr.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Executing MapReduce workflow" in line:
            break
    process.send_signal(signal.SIGINT)
    output = process.stdout.read()
    assert process.wait(timeout=300) == 130, output
    assert "interrupted; resume with: prodigy resume session-" in output
    assert "Traceback" not in output
    assert "Processing" not in output  # stopped before the map phase
