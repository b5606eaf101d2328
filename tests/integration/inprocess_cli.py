"""`prodigy ...` in this process (the real `main`, real store and git), for tests that make
many read-only calls on one job: a new interpreter per call costs about a second."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from prodigy.cli.main import main
from tests.integration.mapreduce_harness import MapReduceRepo


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    """Call as `cli(mr, "dlq", "list")`; HOME, PRODIGY_HOME, PATH and cwd are the repo's."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def __call__(self, mr: MapReduceRepo, *args: str) -> Done:
        for name in ("HOME", "PRODIGY_HOME", "PATH"):
            self.monkeypatch.setenv(name, mr.env[name])
        self.monkeypatch.chdir(mr.repo)
        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        return Done(code, captured.out, captured.err)
