"""A throwaway repo + fake `claude` + the real `prodigy` CLI, for the MapReduce tests."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.support.cli import CliResult, run_prodigy
from tests.support.repos import (
    commit_file,
    fake_calls,
    git,
    is_ancestor,
    make_repo,
    prodigy_env,
    write_rules,
)


class MapReduceRepo:
    """`root/repo` (seeded on master), `root/home` (HOME, PRODIGY_HOME), `root/wf` workflows."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = prodigy_env(root)
        self.home = root / "home"
        self.repo = make_repo(root / "repo")
        (root / "wf").mkdir(exist_ok=True)
        self.seed = self.head()

    def items(self, items: Any, name: str = "items.json") -> None:
        commit_file(self.repo, name, json.dumps(items), f"seed {name}")
        self.seed = self.head()

    def run(
        self, workflow: str, *args: str, timeout: float = 90, env: dict[str, str] | None = None
    ) -> CliResult:
        """Write `workflow` (dedented) to wf/wf.yml and `prodigy run` it with `-y`."""
        path = self.root / "wf" / "wf.yml"
        path.write_text(textwrap.dedent(workflow).lstrip("\n"))
        return run_prodigy(
            "run",
            path,
            "-y",
            *args,
            cwd=self.repo,
            env={**self.env, **(env or {})},
            timeout=timeout,
        )

    def prodigy(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 90
    ) -> CliResult:
        """Any other `prodigy` command in the repository (dlq, events ...)."""
        return run_prodigy(*args, cwd=self.repo, env={**self.env, **(env or {})}, timeout=timeout)

    def rules(self, rules: list[dict[str, Any]]) -> None:
        write_rules(self.home, rules)

    def calls(self) -> list[dict[str, Any]]:
        return [c for c in fake_calls(self.home) if c.get("mode") != "version"]

    def prompts(self) -> list[str]:
        return [c["prompt"] for c in self.calls()]

    def git(self, *args: str) -> str:
        return git(self.repo, *args)

    def head(self, ref: str = "master") -> str:
        return self.git("rev-parse", ref).strip()

    def cat(self, path: str, ref: str = "master") -> str:
        return self.git("show", f"{ref}:{path}")

    def tree(self, ref: str = "master") -> list[str]:
        return self.git("ls-tree", "-r", "--name-only", ref).split()

    def worktrees(self) -> list[str]:
        out = self.git("worktree", "list", "--porcelain").splitlines()
        return [line.split(" ", 1)[1] for line in out if line.startswith("worktree ")]

    def branches(self) -> list[str]:
        return self.git("for-each-ref", "--format=%(refname:short)", "refs/heads").split()

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with closing(sqlite3.connect(self.home / ".prodigy" / "prodigy.db")) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def job_id(self) -> str:
        rows = self.query("SELECT id FROM jobs ORDER BY created_at DESC")
        assert rows, "no MapReduce job in the store"
        return str(rows[0]["id"])

    def dlq(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT * FROM dlq ORDER BY item_id")
        out = []
        for row in rows:
            record = dict(row)
            for key in ("item_data", "failure_history", "worktree_artifacts"):
                record[key] = json.loads(record[key]) if record[key] else None
            out.append(record)
        return out

    def events(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT event_type, payload FROM events ORDER BY seq")
        return [{"event_type": r["event_type"], **json.loads(r["payload"])} for r in rows]

    def items_state(self) -> dict[str, str]:
        rows = self.query("SELECT item_id, state FROM items ORDER BY idx")
        return {r["item_id"]: r["state"] for r in rows}

    def sandbox(self) -> Path:
        """A directory outside the repository and the state home that nothing may touch."""
        sandbox = self.root / "sandbox"
        sandbox.mkdir(exist_ok=True)
        (sandbox / "sentinel").write_text("untouched\n")
        return sandbox

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return is_ancestor(self.repo, ancestor, descendant)
