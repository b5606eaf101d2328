"""`prodigy exec` and `prodigy batch`: a generated workflow run exactly like `prodigy run`.

The generated workflow (core.exec_plan) is written as JSON (which is YAML) to a private
temporary directory that is removed however the run ends; batch's file list is a JSON
file next to it, so no pattern or path is ever pasted into a shell.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodigy.app.run import start_run
from prodigy.app.session.merge import ReadLine
from prodigy.app.session.options import RunOptions
from prodigy.core.errors import UsageError
from prodigy.core.exec_plan import batch_items, batch_workflow, exec_workflow
from prodigy.core.progress import Note, Reporter
from prodigy.runtime import git


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecRequest:
    command: str
    retry: int = 1  # attempts in total
    timeout: int | None = None  # seconds per attempt
    repo: Path | None = None  # -p; default: the current directory
    agent: str | None = None
    verbosity: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchRequest:
    pattern: str
    command: str
    parallel: int = 5
    retry: int = 1
    timeout: int | None = None
    repo: Path | None = None
    yes: bool = False
    agent: str | None = None
    verbosity: int = 0


async def run_exec(
    request: ExecRequest, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """Run one command in a session worktree and merge it back (always `-y`)."""
    workflow = exec_workflow(request.command, retry=request.retry, timeout=request.timeout)
    reporter.emit(Note("info", f"Executing command: {request.command}"))
    if request.retry > 1:
        reporter.emit(Note("info", f"  with up to {request.retry} attempts"))
    if request.timeout is not None:
        reporter.emit(Note("info", f"  with a timeout of {request.timeout} s"))
    return await _run_generated(
        workflow,
        lambda path: RunOptions(
            workflow=path,
            repo=request.repo,
            yes=True,
            agent=request.agent,
            verbosity=request.verbosity,
        ),
        reporter,
        env,
        read_line,
    )


async def run_batch(
    request: BatchRequest, reporter: Reporter, env: Mapping[str, str], read_line: ReadLine
) -> int:
    """Run COMMAND once per matching file, as the map phase of a MapReduce job."""
    base = (request.repo or Path.cwd()).expanduser().resolve()
    root = await git.repo_root(base)
    matches = match_files(base, root, request.pattern)
    tracked = set((await git.git(root, "ls-files", "-z")).stdout.split("\0"))
    files = [path for path in matches if path in tracked]
    skipped = [path for path in matches if path not in tracked]
    if skipped:
        shown = ", ".join(skipped[:5]) + (
            f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        )
        reporter.emit(
            Note(
                "warn",
                f"skipped {len(skipped)} file(s) not committed, which agents cannot see: {shown}",
            )
        )
    if not files:
        raise UsageError(
            f"no committed file matches {request.pattern!r} under {base}; "
            "check the pattern (a pattern without '/' matches file names at any depth)"
        )
    reporter.emit(Note("info", f"Batch: {len(files)} file(s), up to {request.parallel} at a time"))
    # validated before anything is written: a bad --parallel/--retry is a usage error
    batch_workflow(request.command, "-", parallel=request.parallel, retry=request.retry)

    def workflow_for(items: Path) -> dict[str, Any]:
        return batch_workflow(
            request.command,
            str(items),
            parallel=request.parallel,
            retry=request.retry,
            timeout=request.timeout,
        )

    return await _run_generated(
        workflow_for,
        lambda path: RunOptions(
            workflow=path,
            repo=root,
            yes=request.yes,
            agent=request.agent,
            verbosity=request.verbosity,
        ),
        reporter,
        env,
        read_line,
        items=batch_items(files),
    )


def match_files(base: Path, root: Path, pattern: str) -> list[str]:
    """Files matching `pattern` under `base`, as paths relative to the repository root.

    A pattern without '/' matches file names at any depth (what prodigy's `find -name` did);
    one with '/' is a path pattern from `base`, where `**` spans directories.
    """
    if not pattern.strip():
        raise UsageError("the file pattern is empty; example: prodigy batch 'src/**/*.py' ...")
    if Path(pattern).is_absolute():
        raise UsageError(f"{pattern!r}: give a pattern relative to {base}, not an absolute path")
    found = base.rglob(pattern) if "/" not in pattern else base.glob(pattern)
    out: set[str] = set()
    for path in found:
        resolved = path.resolve()
        if not resolved.is_file():
            continue
        if resolved != root and root not in resolved.parents:
            raise UsageError(f"{pattern!r} matches {path}, outside the repository {root}")
        relative = resolved.relative_to(root)
        if ".git" not in relative.parts:
            out.add(relative.as_posix())
    return sorted(out)


async def _run_generated(
    workflow: dict[str, Any] | Callable[[Path], dict[str, Any]],
    options: Callable[[Path], RunOptions],
    reporter: Reporter,
    env: Mapping[str, str],
    read_line: ReadLine,
    *,
    items: list[dict[str, str]] | None = None,
) -> int:
    folder = Path(tempfile.mkdtemp(prefix="prodigy-generated-"))
    try:
        items_file = folder / "items.json"
        if items is not None:
            items_file.write_text(json.dumps(items, indent=2), encoding="utf-8")
        data = workflow(items_file) if callable(workflow) else workflow
        path = folder / "workflow.yml"
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return await start_run(options(path), reporter, env, read_line)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
