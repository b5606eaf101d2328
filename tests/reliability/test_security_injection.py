"""T24 and the security cases of issue 7: item values cannot forge events or control the
terminal; write_file and output_file stay inside the worktree.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.support.cli import CliResult
from tests.support.mapreduce import MapReduceRepo

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


def _inject(mr: MapReduceRepo) -> CliResult:
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
    sandbox = mr.sandbox()
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
