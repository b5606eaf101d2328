"""`prodigy demo`: a sample repository and workflow, run with the scripted agent (no model)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from prodigy.app.run import start_run
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.options import RunOptions
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.runtime import git
from prodigy.runtime.model_server import ModelServer

DEMO_AGENTS = ("scripted", "claude", "codex", "gemini")

# Each file carries one "ISSUE" comment for an agent to fix; the one marked (hard) makes the
# scripted fixer fail, so the demo also shows a failed item landing in the dead letter queue.
SOURCES = {
    "src/greet.py": "def greet(name):\n    # ISSUE: greet politely\n    return 'hi ' + name\n",
    "src/mathx.py": "def add(a, b):\n    # ISSUE: add needs a docstring\n    return a + b\n",
    "src/text.py": "def shout(s):\n    # ISSUE: shout should strip spaces\n    return s.upper()\n",
    "src/dates.py": "def today():\n    # ISSUE(hard): time zones are wrong\n    return None\n",
}

FIX_COMMAND = """---
description: Fix the ISSUE comment in one file (demo command, run by the scripted agent)
---
Fix the issue described in the ISSUE comment of $ARGUMENTS, then commit.
@run if grep -q 'ISSUE(hard)' $ARGUMENTS; then echo 'needs a human: time zones' >&2; exit 3; fi
@run sed -i 's/# ISSUE: /# FIXED: /' $ARGUMENTS
@commit fix: resolve the issue in $ARGUMENTS
@print fixed $ARGUMENTS
"""

WORKFLOW = """# prodigy demo: find files with ISSUE comments, fix each in a worktree, summarize.
name: demo-fix-issues
mode: mapreduce
setup:
  - shell: grep -rl "ISSUE" src | sort | wc -l
    capture: found
map:
  input: grep -rl "ISSUE" src | sort      # one work item per file: ${item.item}
  agent_template:
    - claude: "/fix-issue ${item.item}"
      commit_required: true
  max_parallel: 3
reduce:
  - shell: |
      {
        echo "# Demo summary"
        echo "files with issues: ${found}"
        echo "fixed: ${map.successful} of ${map.total}, failed: ${map.failed}"
        grep -rn "FIXED:" src
      } > SUMMARY.md
      git add SUMMARY.md && git commit -qm "docs: demo summary"
"""


def create_demo_repo(directory: Path) -> Path:
    """A small git repository with issues to fix and the demo workflow; returns the workflow."""
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(f"{directory} is not empty; give an empty or new directory")
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in SOURCES.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    command = directory / ".claude" / "commands" / "fix-issue.md"
    command.parent.mkdir(parents=True)
    command.write_text(FIX_COMMAND, encoding="utf-8")
    workflow = directory / "workflow.yml"
    workflow.write_text(WORKFLOW, encoding="utf-8")
    return workflow


@contextlib.contextmanager
def offline_agent_env(agent: str, env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """`env` pointing `agent`'s real CLI at a scripted model server started for the demo.

    The server answers the prompts' directives the way the scripted agent follows them, so
    the demo runs the real CLI offline and free. Codex and Gemini CLI get their own
    configuration folders, removed afterwards; the scripted agent needs nothing.
    """
    if agent == "scripted":
        yield dict(env)
        return
    homes = Path(tempfile.mkdtemp(prefix=f"prodigy-demo-{agent}-"))
    try:
        with ModelServer() as server:
            extra = {
                "claude": lambda: {**server.client_env(max_retries=0), "IS_SANDBOX": "1"},
                "codex": lambda: server.codex_env(homes / "codex-home"),
                "gemini": lambda: server.gemini_env(homes / "gemini-home"),
            }[agent]()
            yield {**env, **extra}
    finally:
        shutil.rmtree(homes, ignore_errors=True)


async def run_demo(
    directory: Path | None,
    reporter: Reporter,
    env: Mapping[str, str],
    read_line: ReadLine,
    agent: str = "scripted",
    *,
    program: str = "prodigy",
) -> int:
    """Create the sample repository and run its workflow with `agent`.

    `scripted` needs no model; `claude`, `codex` and `gemini` run the real CLI against a
    scripted model server on loopback (docs/testing.md), still offline. `program` is how
    the user can start prodigy again (a path when it is not on PATH), for the commands
    suggested at the end.
    """
    if agent not in DEMO_AGENTS:
        raise UsageError(f"unknown demo agent {agent!r}; choose one of {', '.join(DEMO_AGENTS)}")
    target = directory or Path(tempfile.mkdtemp(prefix="prodigy-demo-"))
    workflow = create_demo_repo(target)
    identity = ("-c", "user.name=prodigy demo", "-c", "user.email=demo@prodigy.invalid")
    await git.git(target, "init", "-q", "-b", "main")
    await git.git(target, "config", "user.name", "prodigy demo")
    await git.git(target, "config", "user.email", "demo@prodigy.invalid")
    await git.git(target, "add", "-A")
    await git.git(target, *identity, "commit", "-qm", "demo: sample project with issues")
    reporter.emit(Note("info", f"Demo repository: {target}"))
    options = RunOptions(workflow=workflow, repo=target, yes=True, agent=agent)
    with offline_agent_env(agent, env) as run_env:
        code = await start_run(options, reporter, run_env, read_line)
    reporter.emit(
        Note(
            "info",
            "What happened: setup counted the files with ISSUE comments; the map phase gave "
            f"each file to its own agent ({_who(agent)}) in its own worktree, "
            "3 at a time, and merged each fix into the session; src/dates.py failed on "
            "purpose and went to the dead letter queue; reduce wrote SUMMARY.md; the session "
            "was merged into main.\n"
            f"Look around:\n  cd {target}\n  git log --graph --oneline\n  cat SUMMARY.md\n"
            f"  {program} dlq list\n  {program} events ls\n  {program} sessions ls --all",
        )
    )
    return code


def _who(agent: str) -> str:
    if agent == "scripted":
        return "the scripted agent: no model"
    return f"the real {agent} CLI, answered by a scripted model server"
