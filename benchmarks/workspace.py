"""Throwaway repositories and prodigy homes for the benchmarks, and running `prodigy` in them
as a real process whose own peak memory is reported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.timing import ROOT, ChildRun, python_argv, run_child

IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@prodigy.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@prodigy.invalid",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Workspace:
    """A git repository on branch main plus its own HOME and PRODIGY_HOME."""

    root: Path

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def home(self) -> Path:
        return self.root / "prodigy-home"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **IDENTITY,
            "HOME": str(self.root / "home"),
            "PRODIGY_HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
        }

    def prodigy(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> ChildRun:
        """`prodigy ARGS` in the repository; max_rss_mb is the coordinator's own peak
        (RUSAGE_SELF, written by the wrapper at exit), excluding git and agent children."""
        rss_file = self.root / "rss.txt"
        rss_file.unlink(missing_ok=True)
        full = {**(env or self.env()), "BENCH_RSS_FILE": str(rss_file), "PYTHONPATH": str(ROOT)}
        argv = python_argv("-m", "benchmarks.prodigy_rss", *args)
        done = run_child(argv, cwd=self.repo, env=full, check=check)
        own = float(rss_file.read_text()) / 1024 if rss_file.exists() else done.max_rss_mb
        return ChildRun(done.wall, own, done.stdout, done.stderr, done.returncode, done.cpu)


def make_workspace(root: Path, files: dict[str, str] | None = None) -> Workspace:
    """A fresh workspace at `root` (replacing any old one) with `files` committed on main."""
    shutil.rmtree(root, ignore_errors=True)
    space = Workspace(root)
    for folder in (space.repo, space.home, root / "home"):
        folder.mkdir(parents=True)
    git(space.repo, "init", "-q", "-b", "main")
    for key, value in (
        ("user.name", "bench"),
        ("user.email", "bench@prodigy.invalid"),
        ("commit.gpgsign", "false"),
    ):
        git(space.repo, "config", key, value)
    for name, text in {"README.md": "# bench\n", **(files or {})}.items():
        (space.repo / name).write_text(text)
    git(space.repo, "add", "-A")
    git(space.repo, "commit", "-q", "-m", "init")
    return space


def reset_repo(space: Workspace) -> None:
    """Back to the first commit with no prodigy state, so every run starts the same."""
    git(space.repo, "reset", "-q", "--hard", first_commit(space))
    git(space.repo, "worktree", "prune")
    for branch in git(space.repo, "branch", "--format=%(refname:short)").split():
        if branch != "main":
            git(space.repo, "branch", "-q", "-D", branch)
    shutil.rmtree(space.home, ignore_errors=True)
    space.home.mkdir()


def first_commit(space: Workspace) -> str:
    return git(space.repo, "rev-list", "--max-parents=0", "HEAD").split()[0]


def items_json(count: int) -> str:
    return json.dumps([{"n": i} for i in range(count)])


def commits_on_main(space: Workspace, pattern: str) -> int:
    return len(git(space.repo, "log", "--format=%s", f"--grep={pattern}", "main").splitlines())


def mapreduce_workflow(step: str, max_parallel: int, extra: Sequence[str] = ()) -> str:
    lines = [
        "name: bench",
        "mode: mapreduce",
        "map:",
        "  input: items.json",
        f"  max_parallel: {max_parallel}",
        *extra,
        "  agent_template:",
        f"    - {step}",
    ]
    return "\n".join(lines) + "\n"
