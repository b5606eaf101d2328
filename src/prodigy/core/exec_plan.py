"""The workflows `prodigy exec` and `prodigy batch` generate, as plain YAML-ready data.

They are written to a file and loaded like any other workflow, so the one loader checks
them and `--retry`/`--timeout` become the ordinary `retry:`/`timeout:` step options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prodigy.core.errors import UsageError

RETRY_DELAY = "1s"  # between attempts of --retry; fixed, so N attempts take a predictable time
BATCH_REDUCE = 'echo "Batch complete: ${map.successful} of ${map.total} files processed"'
# Agents' changes land only when committed; a command that edits without committing
# (most Claude commands) would otherwise lose its work with the agent's worktree.
BATCH_COMMIT = (
    'git add -A && { git diff --cached --quiet || git commit -qm "batch: ${item.path}"; }'
)


def parse_command(text: str) -> dict[str, Any]:
    """`claude: X` and `/X` are Claude steps; `shell: X` and anything else run in the shell."""
    stripped = text.strip()
    for kind in ("claude", "shell"):
        prefix = f"{kind}:"
        if stripped.startswith(prefix):
            body = stripped[len(prefix) :].strip()
            if not body:
                raise UsageError(f"{text!r}: nothing after '{prefix}'; example: '{kind}: ...'")
            return {kind: body}
    if not stripped:
        raise UsageError("the command is empty; example: prodigy exec 'claude: /lint'")
    return {"claude": stripped} if stripped.startswith("/") else {"shell": stripped}


def command_step(text: str, *, retry: int = 1, timeout: int | None = None) -> dict[str, Any]:
    """The step for COMMAND with `--retry` (attempts in total) and `--timeout` (seconds)."""
    if retry < 1:
        raise UsageError(f"--retry {retry}: give the number of attempts in total, at least 1")
    if timeout is not None and timeout < 1:
        raise UsageError(f"--timeout {timeout}: give a number of seconds, at least 1")
    step = parse_command(text)
    if retry > 1:
        step["retry"] = {"attempts": retry, "backoff": "fixed", "initial_delay": RETRY_DELAY}
    if timeout is not None:
        step["timeout"] = timeout
    return step


def exec_workflow(text: str, *, retry: int = 1, timeout: int | None = None) -> dict[str, Any]:
    """A standard workflow of one step."""
    return {"name": "exec", "commands": [command_step(text, retry=retry, timeout=timeout)]}


def batch_items(paths: Sequence[str]) -> list[dict[str, str]]:
    """One work item per file: `${item.item}` (prodigy's name) and `${item.path}` alike."""
    return [{"item": path, "path": path} for path in paths]


def batch_workflow(
    text: str,
    items_file: str,
    *,
    parallel: int = 5,
    retry: int = 1,
    timeout: int | None = None,
) -> dict[str, Any]:
    """A MapReduce workflow running COMMAND once per item of `items_file` (a JSON list)."""
    if parallel < 1:
        raise UsageError(f"--parallel {parallel}: at least one agent must run at a time")
    return {
        "name": "batch",
        "mode": "mapreduce",
        "map": {
            "input": items_file,
            "json_path": "$[*]",
            "max_parallel": parallel,
            "agent_template": [
                command_step(text, retry=retry, timeout=timeout),
                {"shell": BATCH_COMMIT},
            ],
        },
        "reduce": [{"shell": BATCH_REDUCE}],
    }
