"""run_process with real processes: streaming, timeouts, cancellation, no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prodigy.runtime.process import (
    ExecutableNotFoundError,
    ProcessRequest,
    ProcessResult,
    run_process,
)

ENV = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
# Runs a program with SIGTERM ignored from its first instruction (GNU env).
IGNORING_TERM = ["env", "--ignore-signal=TERM"]


def run(argv: list[str], tmp_path: Path, **kwargs: object) -> ProcessResult:
    return asyncio.run(run_process(ProcessRequest(tuple(argv), tmp_path, ENV, **kwargs)))  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def pid_from(path: Path, seconds: float = 30.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.01)
    raise AssertionError(f"no pid written to {path}")


def test_captures_output_and_exit_code(tmp_path: Path) -> None:
    result = run(["bash", "-c", "echo out; echo err >&2; exit 3"], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok and not result.timed_out
    assert run(["true"], tmp_path).ok


def test_streams_lines_as_they_arrive(tmp_path: Path) -> None:
    # The process prints its second line only once the first has reached the callback:
    # lines delivered at exit only would leave it waiting until its timeout.
    seen: list[str] = []
    script = "echo first; until [ -e seen ]; do sleep 0.01; done; echo second"

    def on_line(line: str) -> None:
        seen.append(line)
        (tmp_path / "seen").touch()

    result = asyncio.run(
        run_process(
            ProcessRequest(("bash", "-c", script), tmp_path, ENV, timeout=60), on_stdout=on_line
        )
    )
    assert not result.timed_out
    assert seen == ["first", "second"]
    assert result.stdout == "first\nsecond\n"


def test_five_megabyte_line_and_unterminated_last_line(tmp_path: Path) -> None:
    lines: list[str] = []
    code = "import sys; sys.stdout.write('x' * 5_000_000 + '\\n' + 'tail')"
    result = asyncio.run(
        run_process(
            ProcessRequest((sys.executable, "-c", code), tmp_path, ENV), on_stdout=lines.append
        )
    )
    assert [len(line) for line in lines] == [5_000_000, 4]
    assert lines[1] == "tail" and len(result.stdout) == 5_000_005


def test_keep_output_false_still_streams(tmp_path: Path) -> None:
    lines: list[str] = []
    result = asyncio.run(
        run_process(
            ProcessRequest(("bash", "-c", "echo a; echo b >&2"), tmp_path, ENV, keep_output=False),
            on_stdout=lines.append,
            on_stderr=lines.append,
        )
    )
    assert sorted(lines) == ["a", "b"] and result.stdout == result.stderr == ""


def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    result = run(["printf", "caf\\303\\251 \\377\\n"], tmp_path)
    assert result.stdout == "café \ufffd\n"


def test_env_is_exactly_the_given_mapping(tmp_path: Path) -> None:
    env = {"ONLY": "this", "PATH": "/usr/bin:/bin"}
    result = asyncio.run(run_process(ProcessRequest(("env",), tmp_path, env)))
    assert sorted(result.stdout.splitlines()) == ["ONLY=this", "PATH=/usr/bin:/bin"]


def test_cwd_and_stdin(tmp_path: Path) -> None:
    assert run(["pwd"], tmp_path).stdout.strip() == str(tmp_path)
    assert run(["cat"], tmp_path, stdin=b"bytes\x00in").stdout == "bytes\x00in"
    assert run(["cat"], tmp_path).stdout == ""  # stdin is /dev/null, cat does not wait


def test_missing_program_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExecutableNotFoundError, match="no-such-program-xyz"):
        run(["no-such-program-xyz"], tmp_path)
    with pytest.raises(Exception, match="does not exist"):
        run(["true"], tmp_path / "missing")


def test_timeout_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; while :; do sleep 0.1; done"
    start = time.monotonic()
    result = run([*IGNORING_TERM, "bash", "-c", script], tmp_path, timeout=2, grace_period=0.5)
    elapsed = time.monotonic() - start
    assert result.timed_out and not result.ok
    assert result.returncode == -signal.SIGKILL
    assert result.stderr.endswith("timed out after 2 s\n")
    assert 2.4 < elapsed < 60  # the grace period was waited; generous above: a loaded machine
    assert wait_gone(pid_from(pid_file))


def test_timeout_kills_descendants_that_left_the_group(tmp_path: Path) -> None:
    # Agent CLIs run shell commands in a group or session of their own (Gemini CLI: setsid)
    pid_file = tmp_path / "pid"
    script = f"setsid bash -c 'echo $$ > {pid_file}; exec sleep 60' & wait"
    result = run(["bash", "-c", script], tmp_path, timeout=1, grace_period=0.5)
    assert result.timed_out
    assert wait_gone(pid_from(pid_file))


def test_timeout_sigterm_ends_a_polite_child_before_grace(tmp_path: Path) -> None:
    start = time.monotonic()
    result = run(["sleep", "300"], tmp_path, timeout=0.3, grace_period=300)
    assert result.returncode == -signal.SIGTERM
    assert time.monotonic() - start < 60  # not the 300 s grace


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"{' '.join(IGNORING_TERM)} bash -c 'echo $$ > {pid_file}; sleep 100' & wait"
    result = run(["bash", "-c", script], tmp_path, timeout=3, grace_period=0.2)
    assert result.timed_out
    assert wait_gone(pid_from(pid_file))


def test_background_leftover_is_killed_after_the_leader_exits(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    start = time.monotonic()
    result = run(["bash", "-c", f"sleep 300 & echo $! > {pid_file}; echo done"], tmp_path)
    assert result.ok and result.stdout == "done\n"
    assert time.monotonic() - start < 60  # did not wait for the pipe the sleeper holds
    assert wait_gone(pid_from(pid_file))


def test_escaped_process_holding_the_pipe_does_not_hang_us(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"setsid sleep 300 & echo $! > {pid_file}; echo done"
    start = time.monotonic()
    result = run(["bash", "-c", script], tmp_path)
    assert result.stdout == "done\n"
    assert time.monotonic() - start < 60  # not until the sleeper ends
    os.kill(pid_from(pid_file), signal.SIGKILL)  # it left our group; clean up after ourselves


def test_cancellation_kills_the_group_and_reraises(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"trap '' TERM; sleep 100 & echo $! > {pid_file}; wait"

    async def scenario() -> None:
        task = asyncio.create_task(
            run_process(ProcessRequest(("bash", "-c", script), tmp_path, ENV, grace_period=0.3))
        )
        await asyncio.to_thread(pid_from, pid_file)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert wait_gone(pid_from(pid_file))


def test_callback_errors_are_raised_after_the_process_ends(tmp_path: Path) -> None:
    def boom(line: str) -> None:
        raise ValueError(f"bad line {line}")

    with pytest.raises(ValueError, match="bad line x"):
        asyncio.run(run_process(ProcessRequest(("echo", "x"), tmp_path, ENV), on_stdout=boom))


def test_tail_shows_the_last_lines_with_stderr_last(tmp_path: Path) -> None:
    result = run(["bash", "-c", "seq 1 30; echo why >&2; exit 1"], tmp_path)
    assert result.tail(3).splitlines() == ["29", "30", "why"]


HURRY_SCRIPT = """
import asyncio, os, sys, time
from pathlib import Path
from prodigy.runtime.process import ProcessRequest, hurry, run_process

async def main():
    ignoring = ("env", "--ignore-signal=TERM", "sleep", "300")  # from its first instruction
    req = ProcessRequest(ignoring, Path("."), {"PATH": os.environ["PATH"]}, grace_period=300)
    task = asyncio.create_task(run_process(req))
    await asyncio.sleep(0.3)
    task.cancel()                      # first Ctrl-C: SIGTERM, then a 300 s grace period
    await asyncio.sleep(0.3)
    start = time.monotonic()
    hurry()                            # second Ctrl-C: kill now
    try:
        await task
    except asyncio.CancelledError:
        pass
    pending = time.monotonic() - start
    start = time.monotonic()
    later = await run_process(ProcessRequest(ignoring, Path("."),
                              {"PATH": os.environ["PATH"]}, timeout=0.1, grace_period=300))
    print(round(pending, 2), round(time.monotonic() - start, 2), later.returncode)

asyncio.run(main())
"""


def test_hurry_skips_pending_and_future_grace_periods(tmp_path: Path) -> None:
    # A separate interpreter: hurry() is process-wide and must not leak into other tests.
    out = subprocess.run(
        [sys.executable, "-c", HURRY_SCRIPT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    ).stdout.split()
    pending, future, code = float(out[0]), float(out[1]), int(out[2])
    assert pending < 30 and future < 30  # instead of 300 s of grace each
    assert code == -signal.SIGKILL
