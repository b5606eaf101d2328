"""Helpers for agent tests: run a coroutine, and a `claude` stand-in that replays a stream."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# A stand-in `claude` that replays a JSONL file verbatim: lets tests feed exact streams
# (huge lines, garbage, error results) through the real agent and the real process code.
REPLAY = """\
import json, os, sys
sys.stdout.write(open(os.environ["REPLAY_STDOUT"], encoding="utf-8").read())
sys.stdout.flush()
sys.stderr.write(os.environ.get("REPLAY_STDERR", ""))
json.dump(sys.argv[1:], open(os.environ["REPLAY_ARGV"], "w"))
sys.exit(int(os.environ.get("REPLAY_EXIT", "0")))
"""


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Replay:
    """Configures the replaying stand-in, installed as `replay-claude` next to the fake."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.dir = tmp_path / "replay"
        self.dir.mkdir()
        self.executable = self.dir / "replay-claude"
        self.executable.write_text(f"#!{sys.executable}\n{REPLAY}")
        self.executable.chmod(0o755)
        self.argv_file = self.dir / "argv.txt"
        self.env = env

    def configure(
        self, lines: list[str | dict[str, Any]], *, stderr: str = "", exit_code: int = 0
    ) -> dict[str, str]:
        stdout = self.dir / "stdout.jsonl"
        text = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines)
        stdout.write_text(text, encoding="utf-8")
        return {
            **self.env,
            "REPLAY_STDOUT": str(stdout),
            "REPLAY_STDERR": stderr,
            "REPLAY_EXIT": str(exit_code),
            "REPLAY_ARGV": str(self.argv_file),
        }

    def argv(self) -> list[str]:
        return list(json.loads(self.argv_file.read_text()))
