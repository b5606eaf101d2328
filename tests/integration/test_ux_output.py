"""Issue 19: what a run prints, and where: errors on stderr, readable failure text, the
items table once, the board naming items, grouped help, a demo whose hints work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from prodigy.cli.map_display import MapBoard
from prodigy.core.records import EventRecord
from tests.support.cli import run_prodigy
from tests.support.mapreduce import MapReduceRepo

FAILING = """
name: failing
steps:
  - shell: |
      {
        echo "about to fail"
        exit 3
      }
"""
MAP = """
name: two-items
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 1
  agent_template:
    - shell: test "${item.ok}" = yes
    - claude: "/fake-noop ${item.name}"
"""
STOPPING = """
name: stops
mode: mapreduce
error_policy:
  continue_on_failure: false
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 1
  agent_template:
    - shell: test "${item.ok}" = yes || test -f "$HOME/allow"
"""


def test_a_failed_run_says_so_on_stderr_and_names_the_shell_step_by_its_first_line(
    tmp_path: Path,
) -> None:
    mr = MapReduceRepo(tmp_path)
    done = mr.run(FAILING)
    assert done.returncode == 1
    assert "Session failed at step 1" in done.stderr
    assert "Session failed" not in done.stdout
    assert "Last output" in done.stderr and "about to fail" in done.stderr
    assert 'echo "about to fail" (+1 line)' in done.stdout  # not `shell: {`
    assert "shell: {" not in done.stdout + done.stderr


def test_the_items_table_is_printed_once_before_the_summary(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "alpha", "ok": "yes"}, {"name": "beta", "ok": "no"}])
    done = mr.run(MAP)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("MapReduce items") == 1
    assert out.index("MapReduce items") < out.index("MapReduce job")
    row = next(line for line in out.splitlines() if "item_1" in line and "failed" in line)
    assert "│ exit code 1" in row  # the reason first, the step after it
    table = out.split("MapReduce items")[1]
    assert "[step 1]" in table and "${item" not in table


def test_dlq_text_keeps_the_reason_whole_and_the_command_name(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "a", "ok": "yes"}])
    wf = MAP.replace("/fake-noop ${item.name}", "/fake-fail 4 line one")
    assert mr.run(wf).returncode == 0
    listed = mr.prodigy("dlq", "list")
    assert listed.returncode == 0, listed.stderr
    assert "\\n" not in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if line.startswith("item_0"))
    error = row.split("  ")[-1]
    assert not error.startswith("...")  # cut at the end, never the front
    shown = mr.prodigy("dlq", "show", "item_0")
    history = shown.stdout.split("Failure history:")[1].splitlines()
    assert history[1].count("claude: /fake-fail") == 1  # the step label once, not twice
    (entry,) = mr.dlq()
    assert "/fake-fail" in entry["error_signature"]


def test_map_resume_prints_progress_and_the_items_table(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"ok": "no"}, {"ok": "yes"}, {"ok": "yes"}])
    first = mr.run(STOPPING)
    assert first.returncode == 1
    (mr.home / "allow").write_text("")
    session = str(mr.query("SELECT id FROM sessions")[0]["id"])
    resumed = mr.prodigy("resume", session, "-y")
    assert resumed.returncode == 0, resumed.stderr
    assert "map: " in resumed.stdout
    assert "MapReduce items" in resumed.stdout
    assert "item_2" in resumed.stdout.split("MapReduce items")[1]


def test_the_board_shows_what_each_running_item_is(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "src/alpha.py", "ok": "yes"}])
    assert mr.run(MAP).returncode == 0
    started = [e for e in mr.events() if e["event_type"] == "agent_started"]
    assert started[0]["item_label"] == "src/alpha.py"
    board = MapBoard()
    board.apply(
        EventRecord(
            seq=1,
            id="e",
            ts="t",
            event_type="agent_started",
            payload={"item_id": "item_0", "item_label": "src/alpha.py"},
            job_id="j",
            agent_id="a0",
        )
    )
    from rich.console import Console

    from prodigy.app.mapreduce.events import MapCounts

    board.counts = MapCounts(total=1, done=0, failed=0, running=1, merging=0)
    console = Console(width=120, record=True, color_system=None)
    console.print(board.render())
    assert "item_0 src/alpha.py" in console.export_text()


def test_run_help_groups_its_options() -> None:
    done = run_prodigy("run", "--help", cwd=Path.cwd(), env=os.environ)
    assert done.code == 0, done
    sections = [line for line in done.stdout.splitlines() if line.endswith(":")]
    for title in ("Running:", "Limits:", "Workflow inputs:", "Agents:", "Output:"):
        assert title in sections
    assert "Other options:" not in sections  # every option has its group


def test_demo_suggests_a_prodigy_that_runs_when_it_is_not_on_path(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PATH",) and not k.startswith("PYTEST")}
    env["PATH"] = "/usr/bin:/bin"
    env["HOME"] = str(tmp_path / "home")
    env["PRODIGY_HOME"] = str(tmp_path / "home" / ".prodigy")
    done = run_prodigy("demo", tmp_path / "demo", cwd=Path.cwd(), env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    hint = next(
        line
        for line in done.stdout.splitlines()
        if line.startswith("  ") and line.endswith(" dlq list")
    )
    program = hint.strip().removesuffix(" dlq list")
    assert program != "prodigy"
    assert Path(program).is_absolute() and os.access(program, os.X_OK)
    listed = subprocess.run(
        [program, "dlq", "list", "--json"], capture_output=True, text=True, env=env, check=False
    )
    assert listed.returncode == 0 and json.loads(listed.stdout)
    assert sys.executable  # the program is this environment's prodigy


def test_the_spinner_is_cleared_not_printed_again_when_the_display_closes() -> None:
    """After Ctrl-C the display closes mid-step: its last frame is erased, not left behind."""
    import io

    from rich.console import Console

    from prodigy.cli.display import LiveDisplay
    from prodigy.core.progress import StepStarted

    screen = io.StringIO()
    display = LiveDisplay(
        0,
        console=Console(file=screen, force_terminal=True, width=80),
        err_console=Console(file=io.StringIO()),
    )
    display.emit(StepStarted(index=0, total=1, label="shell: sleep 5", command="sleep 5"))
    display._live.refresh()  # a spinner frame is on the screen, as when Ctrl-C arrives
    display.close()
    out = screen.getvalue()
    after_last_frame = out[out.rfind("shell: sleep 5") :]
    assert "0s" in after_last_frame.split("\x1b[2K")[0]  # that was the spinner frame
    assert "\x1b[2K" in after_last_frame  # and it is erased, nothing printed after it
    assert "sleep" not in after_last_frame.split("\x1b[2K", 1)[1]
