"""The two ways tests run `prodigy`, and the one result both return.

- `run_prodigy` / `start_prodigy`: the installed `prodigy` as a real subprocess (stdin from
  /dev/null or an explicit string, a timeout on every call). Use it for anything that spawns
  agents, takes locks across processes, crashes or is signalled.
- `run_cli` / `InProcessCli`: the real `main()` in this process with the real store and git, capturing
  output through pytest's `capsys`. A new interpreter per call costs about a second, so tests
  that make many read-only calls (`dlq list`, `events`, `config show`) use this one.

Both return a `CliResult`.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from prodigy.cli.main import main

PRODIGY = Path(sys.executable).parent / "prodigy"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class CliResult:
    """One finished `prodigy` invocation: exit code, stdout and stderr."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    @property
    def returncode(self) -> int:
        """The exit code under subprocess.CompletedProcess's name (MapReduce tests read it)."""
        return self.code

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        """stdout parsed as JSON; fails the test, showing the run, when the exit code is not 0."""
        assert self.code == 0, f"prodigy {' '.join(self.args)} failed:\n{self}"
        return json.loads(self.stdout)

    def session_id(self) -> str:
        """The id from the `Starting session: <id>` line (or any `session-<uuid>` mention)."""
        found = re.search(r"Starting session: (\S+)", self.output) or re.search(
            r"\b(session-[0-9a-f-]{8,})", self.output
        )
        assert found, f"no session id in the output of prodigy {' '.join(self.args)}:\n{self}"
        return found.group(1)

    def __iter__(self) -> Iterator[Any]:
        """`code, out, err = result`: the in-process inspection tests unpack it."""
        return iter((self.code, self.stdout, self.stderr))

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"


def run_prodigy(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CliResult:
    """Run `prodigy ARGS` as a subprocess in `cwd` with exactly `env`, and wait for it."""
    argv = tuple(str(a) for a in args)
    started = time.monotonic()
    done = subprocess.run(
        [str(PRODIGY), *argv],
        cwd=cwd,
        env=dict(env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def start_prodigy(
    *args: str | Path, cwd: Path, env: Mapping[str, str], new_session: bool = False
) -> subprocess.Popen[str]:
    """Start `prodigy ARGS` in the background (stdin /dev/null, output to pipes).

    `new_session` puts it in its own process group, so a test can kill it with its agents.
    """
    return subprocess.Popen(
        [str(PRODIGY), *(str(a) for a in args)],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )


def finish_prodigy(proc: subprocess.Popen[str], timeout: float = DEFAULT_TIMEOUT) -> CliResult:
    """Wait for a background prodigy and collect its output."""
    started = time.monotonic()
    stdout, stderr = proc.communicate(timeout=timeout)
    args = tuple(str(a) for a in proc.args[1:])  # type: ignore[index]
    return CliResult(args, proc.returncode, stdout, stderr, time.monotonic() - started)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliResult:
    """`prodigy ARGS` through `main()` in this process, in the current environment and cwd."""
    argv = tuple(str(a) for a in args)
    started = time.monotonic()
    code = main(list(argv))
    captured = capsys.readouterr()
    return CliResult(argv, code, captured.out, captured.err, time.monotonic() - started)


def run_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Any:
    """`run_cli` that must succeed, its stdout parsed as JSON."""
    return run_cli(capsys, *args).json()


class Place(Protocol):
    """Where a test's prodigy runs: a scenario or MapReduce root (its env and checkout)."""

    env: dict[str, str]
    repo: Path


class InProcessCli:
    """`prodigy ARGS` through the real `main()` in this process; see the module docstring.

    `cli("config", "show")` runs in the test's own environment (the isolated HOME of
    tests/conftest.py) and cwd; `cli.in_repo(mr, "dlq", "list")` first takes HOME,
    PRODIGY_HOME, PATH and the cwd of a scenario or MapReduce root.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def __call__(self, *args: str | Path, stdin: str | None = None) -> CliResult:
        if stdin is not None:
            self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        self.capsys.readouterr()  # drop what the test printed before
        return run_cli(self.capsys, *args)

    def in_repo(self, place: Place, *args: str | Path, stdin: str | None = None) -> CliResult:
        for name in ("HOME", "PRODIGY_HOME", "PATH"):
            self.monkeypatch.setenv(name, place.env[name])
        self.monkeypatch.chdir(place.repo)
        return self(*args, stdin=stdin)
