"""The user's commit identity, handed to agents as GIT_AUTHOR_* / GIT_COMMITTER_* variables.

Gemini CLI runs its shell commands with `GIT_CONFIG_GLOBAL=/dev/null`, so an agent's
`git commit` does not see `user.name`/`user.email` from `~/.gitconfig` and fails (or, with
a repository-level identity missing, commits under a made-up one). The variables win over
any config file, so prodigy reads the identity git would use in the worktree and passes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from prodigy.runtime.process import ExecutableNotFoundError, ProcessRequest, run_process

_VARIABLES = {
    "user.name": ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"),
    "user.email": ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"),
}


async def with_git_identity(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """`env` plus the identity variables it lacks, from `git config` as seen in `cwd`."""
    result = dict(env)
    for key, names in _VARIABLES.items():
        if all(result.get(name) for name in names):
            continue  # the caller chose an identity already
        request = ProcessRequest(argv=("git", "config", "--get", key), cwd=cwd, env=env)
        try:
            outcome = await run_process(request)
        except ExecutableNotFoundError:
            return result  # no git: the agent's own commit attempt will say so
        value = outcome.stdout.strip()
        if outcome.returncode == 0 and value:
            for name in names:
                result.setdefault(name, value)
    return result
