"""`prodigy demo`: a sample repository and workflow, run with the scripted agent (no model)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from prodigy.app.run import ReadLine, start_run
from prodigy.app.run_options import RunOptions
from prodigy.core.errors import UsageError
from prodigy.core.progress import Note, Reporter
from prodigy.runtime import git

# Each file carries one "ISSUE" comment for an agent to fix.
SOURCES = {
    "src/greet.py": "def greet(name):\n    # ISSUE: greet politely\n    return 'hi ' + name\n",
    "src/mathx.py": "def add(a, b):\n    # ISSUE: add needs a docstring\n    return a + b\n",
    "src/text.py": "def shout(s):\n    # ISSUE: shout should strip spaces\n    return s.upper()\n",
}

FIX_COMMAND = """---
description: Fix the ISSUE comment in one file (demo command, run by the scripted agent)
---
Fix the issue described in the ISSUE comment of $ARGUMENTS, then commit.
@run sed -i 's/# ISSUE: /# FIXED: /' $ARGUMENTS
@commit fix: resolve the issue in $ARGUMENTS
@print fixed $ARGUMENTS
"""

WORKFLOW = """# prodigy demo workflow: find the files with ISSUE comments, fix each one, report.
name: demo-fix-issues
env:
  REPORT: ISSUES_REPORT.md
commands:
  - shell: grep -rl "ISSUE:" src | sort
    capture: files
    capture_format: lines
  - claude: "/fix-issue src/greet.py"
    commit_required: true
  - claude: "/fix-issue src/mathx.py"
    commit_required: true
  - claude: "/fix-issue src/text.py"
    commit_required: true
  - shell: |
      {
        echo "# Issues fixed by the demo"
        grep -rn "FIXED:" src
      } > "$REPORT"
      git add "$REPORT" && git commit -qm "docs: issues report"
    commit_required: true
  - shell: "! grep -rq 'ISSUE:' src"
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


async def run_demo(
    directory: Path | None, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """Create the sample repository and run its workflow with the scripted agent."""
    target = directory or Path(tempfile.mkdtemp(prefix="prodigy-demo-"))
    workflow = create_demo_repo(target)
    identity = ("-c", "user.name=prodigy demo", "-c", "user.email=demo@prodigy.invalid")
    await git.git(target, "init", "-q", "-b", "main")
    await git.git(target, "config", "user.name", "prodigy demo")
    await git.git(target, "config", "user.email", "demo@prodigy.invalid")
    await git.git(target, "add", "-A")
    await git.git(target, *identity, "commit", "-qm", "demo: sample project with issues")
    reporter.emit(Note("info", f"Demo repository: {target}"))
    options = RunOptions(workflow=workflow, repo=target, yes=True, agent="scripted")
    code = await start_run(options, reporter, env, read_line)
    reporter.emit(
        Note(
            "info",
            "What happened: each claude step ran the scripted agent (no model) in the session "
            "worktree, committed its fix, and the session was merged into main.\n"
            f"Look around:\n  cd {target}\n  git log --graph --oneline\n"
            "  cat ISSUES_REPORT.md\n  prodigy sessions ls",
        )
    )
    return code
