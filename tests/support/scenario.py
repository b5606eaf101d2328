"""A conformance scenario root (spec/conformance.md §1): a repo, a fake `claude`, the CLI.

Every scenario gets a fresh root with `home/` (HOME and PRODIGY_HOME=home/.prodigy, a
.gitconfig with the git identity), `bin/` (the fake `claude`, first on PATH), `wf/`
(workflow files, outside the repository) and `repo/` (the default seed: README.md
`# demo`, one commit `init` on master). `prodigy` runs as a real subprocess with stdin
from /dev/null or an explicit string and a timeout on every call.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.support.cli import (
    DEFAULT_TIMEOUT,
    CliResult,
    finish_prodigy,
    run_prodigy,
    start_prodigy,
)
from tests.support.repos import fake_calls, git, is_ancestor, make_repo, prodigy_env, write_rules


class Scenario:
    """One scenario root; see the module docstring for the layout."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.bin = root / "bin"
        self.wf = root / "wf"
        self.repo = root / "repo"
        self.env = prodigy_env(root)
        self.wf.mkdir(parents=True, exist_ok=True)
        make_repo(self.repo)
        self._init = self.head()

    # --- driving prodigy -------------------------------------------------------------

    def workflow(self, name: str, text: str) -> Path:
        """Write `wf/<name>.yml` (text is dedented) and return its path."""
        path = self.wf / f"{name}.yml"
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def prodigy(
        self,
        *args: str | Path,
        stdin: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        cwd: Path | None = None,
    ) -> CliResult:
        """Run `prodigy ARGS` in the main checkout (or `cwd`) and wait for it."""
        return run_prodigy(*args, cwd=cwd or self.repo, env=self.env, stdin=stdin, timeout=timeout)

    def run(self, workflow: Path, *args: str, **kw: Any) -> CliResult:
        """`prodigy run WORKFLOW -y ARGS` (the conformance default invocation)."""
        return self.prodigy("run", workflow, "-y", *args, **kw)

    def start(self, *args: str | Path) -> subprocess.Popen[str]:
        """Start `prodigy ARGS` in the background (stdin /dev/null, output to pipes)."""
        return start_prodigy(*args, cwd=self.repo, env=self.env)

    @staticmethod
    def finish(proc: subprocess.Popen[str], timeout: float = DEFAULT_TIMEOUT) -> CliResult:
        """Wait for a background prodigy and collect its output."""
        return finish_prodigy(proc, timeout)

    # --- the fake claude ---------------------------------------------------------------

    def calls(self) -> list[dict[str, Any]]:
        """The fake's calls (begin and end records joined), `--version` probes excluded."""
        return [c for c in fake_calls(self.home) if c.get("mode") != "version"]

    def prompts(self) -> list[str]:
        return [str(c["prompt"]) for c in self.calls()]

    def rules(self, rules: list[dict[str, Any]]) -> None:
        write_rules(self.home, rules)

    # --- git checks (names from conformance.md §1) -----------------------------------

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return git(cwd or self.repo, *args)

    def head(self, ref: str = "HEAD", cwd: Path | None = None) -> str:
        return self.git("rev-parse", ref, cwd=cwd).strip()

    @property
    def init_sha(self) -> str:
        """The seed commit `init`."""
        return self._init

    def tree(self, ref: str = "master") -> list[str]:
        return self.git("ls-tree", "-r", "--name-only", ref).splitlines()

    def cat(self, spec: str) -> str:
        """`git show REF:PATH`."""
        return self.git("show", spec)

    def subjects(self, ref: str = "master") -> list[str]:
        return self.git("log", "--topo-order", "--format=%s", ref).splitlines()

    def parents(self, ref: str = "master") -> list[str]:
        return self.git("rev-list", "--parents", "-n", "1", ref).split()[1:]

    def worktrees(self) -> list[Path]:
        lines = self.git("worktree", "list", "--porcelain").splitlines()
        return [
            Path(line.removeprefix("worktree ")) for line in lines if line.startswith("worktree ")
        ]

    def session_worktrees(self) -> list[Path]:
        """Worktrees other than the main checkout."""
        return [w for w in self.worktrees() if w.resolve() != self.repo.resolve()]

    def branches(self) -> list[str]:
        return self.git("for-each-ref", "--format=%(refname:short)", "refs/heads").split()

    def status(self, cwd: Path | None = None) -> str:
        return self.git("status", "--porcelain", cwd=cwd)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return is_ancestor(self.repo, ancestor, descendant)

    # --- state and processes ---------------------------------------------------------

    @property
    def db(self) -> Path:
        return self.home / ".prodigy" / "prodigy.db"

    def session_ids(self) -> list[str]:
        """Session ids in the store, read directly; empty when the database does not exist."""
        if not self.db.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "sessions" not in tables:
                return []
            return [str(r[0]) for r in conn.execute("SELECT id FROM sessions")]

    def session_status(self, session_id: str) -> str | None:
        """The status column of one session, read directly from the store."""
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            row = conn.execute("SELECT status FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else str(row[0])

    def session_rows(self) -> int:
        return len(self.session_ids())

    @staticmethod
    def pids(marker: str) -> list[int]:
        """Live processes whose command line contains `marker` (zombies excluded)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if marker in cmdline and state != "Z":
                found.append(int(entry.name))
        return found

    def kill_leftovers(self) -> list[int]:
        """Kill every process whose command line mentions this root; returns their pids."""
        pids = self.pids(str(self.root))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids


def wait_for(check: Callable[[], object], timeout: float = 20.0, step: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {check}")
        time.sleep(step)


@contextlib.contextmanager
def open_scenario(root: Path) -> Iterator[Scenario]:
    """A fresh scenario in `root`; afterwards kills anything a test left running there."""
    scenario = Scenario(root)
    try:
        yield scenario
    finally:
        scenario.kill_leftovers()
