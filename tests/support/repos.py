"""Throwaway git repositories and a fake `claude` on PATH, for tests that run real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

FAKE_CLAUDE = Path(__file__).with_name("fake_claude.py")
IDENTITY = {"user.name": "Conformance", "user.email": "conformance@example.invalid"}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` for test set-up and checks; returns stdout, raises on failure."""
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {repo}:\n{result.stderr}")
    return result.stdout


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """`git merge-base --is-ancestor` in `repo`."""
    done = subprocess.run(
        ["git", "merge-base", "--is-ancestor", ancestor, descendant],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def make_repo(path: Path) -> Path:
    """A git repository at `path` on branch master with one commit adding README.md."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "master")
    for key, value in {**IDENTITY, "commit.gpgsign": "false"}.items():
        git(path, "config", key, value)
    (path / "README.md").write_text("# demo\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "init")
    return path


def commit_file(repo: Path, name: str, content: str, message: str | None = None) -> str:
    """Write `name`, commit it, and return the new HEAD sha."""
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", "--", name)
    git(repo, "commit", "-q", "-m", message or f"edit {name}")
    return git(repo, "rev-parse", "HEAD").strip()


def install_fake_claude(bin_dir: Path) -> Path:
    """Copy the fake as an executable `claude` in `bin_dir` that runs with this Python."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    target = bin_dir / "claude"
    body = FAKE_CLAUDE.read_text().split("\n", 1)[1]  # replace the env shebang
    target.write_text(f"#!{sys.executable}\n{body}")
    target.chmod(0o755)
    return target


def write_rules(home: Path, rules: list[dict[str, Any]]) -> None:
    """Set the fake's rules (spec/conformance.md §2.2) for calls made with this HOME."""
    state = home / ".fake-claude"
    state.mkdir(parents=True, exist_ok=True)
    (state / "rules.json").write_text(json.dumps(rules))


def fake_calls(home: Path) -> list[dict[str, Any]]:
    """The fake's calls, begin and end records joined by seq, in seq order.

    A call that was killed has its begin record only: no "end" and no "exit" key.
    """
    log = home / ".fake-claude" / "calls.jsonl"
    if not log.exists():
        return []
    calls: dict[int, dict[str, Any]] = {}
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        phase = rec.pop("phase", "end")
        merged = calls.setdefault(rec["seq"], {})
        merged.update(rec if phase == "end" else {**rec, **merged})
    return [calls[seq] for seq in sorted(calls)]


def prodigy_env(tmp: Path) -> dict[str, str]:
    """A complete environment for running `prodigy` as a subprocess, isolated under `tmp`.

    HOME and PRODIGY_HOME live in tmp/home (with a .gitconfig giving the git identity),
    and PATH starts with tmp/bin, which holds the fake `claude`.
    """
    home, bin_dir = tmp / "home", tmp / "bin"
    home.mkdir(parents=True, exist_ok=True)
    install_fake_claude(bin_dir)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Conformance\n\temail = conformance@example.invalid\n"
        "[init]\n\tdefaultBranch = master\n[commit]\n\tgpgsign = false\n"
    )
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    path = [str(bin_dir), str(Path(sys.executable).parent), str(git_dir), "/usr/bin", "/bin"]
    return {
        "HOME": str(home),
        "PRODIGY_HOME": str(home / ".prodigy"),
        "PATH": os.pathsep.join(dict.fromkeys(path)),
        "PRODIGY_AUTOMATION": "true",
        "LANG": "C.UTF-8",
    }
