"""Small async wrappers around the `git` CLI, all through run_process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodigy.core.errors import GitError
from prodigy.runtime.process import ProcessRequest, ProcessResult, run_process

# Variables a parent git (a hook, `git rebase -x`) sets that would point our git at the wrong
# repository; the rest of GIT_* is configuration the user wants kept (see pre-commit no_git_env).
_KEEP_GIT_VARS = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "GIT_EXEC_PATH",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSL_CAINFO",
        "GIT_SSL_NO_VERIFY",
        "GIT_ASKPASS",
        "GIT_ALLOW_PROTOCOL",
        "GIT_HTTP_PROXY_AUTHMETHOD",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
    }
)

ITEM_TRAILER = "Prodigy-Item"


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    ok: bool
    conflicted_paths: tuple[str, ...] = ()
    output: str = ""


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: our environment) without repository-redirecting GIT_* variables."""
    source = os.environ if base is None else base
    env = {
        key: value
        for key, value in source.items()
        if not key.startswith("GIT_")
        or key in _KEEP_GIT_VARS
        or key.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password nobody will type
    env["LC_ALL"] = "C"  # stable messages in error tails
    return env


async def git(
    repo: Path,
    *args: str,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,  # noqa: ASYNC109 - run_process kills git's group at it
) -> ProcessResult:
    """Run `git ARGS` in `repo`; with check, a failure raises GitError with the output tail."""
    request = ProcessRequest(("git", *args), cwd=repo, env=git_env(env), timeout=timeout)
    result = await run_process(request)
    if check and not result.ok:
        raise GitError(_failure(repo, args, result))
    return result


def _failure(repo: Path, args: tuple[str, ...], result: ProcessResult) -> str:
    how = "timed out" if result.timed_out else f"failed (exit {result.returncode})"
    return f"`git {' '.join(args)}` {how} in {repo}:\n{result.tail()}"


async def _line(repo: Path, *args: str) -> str:
    return (await git(repo, *args)).stdout.strip()


async def repo_root(path: Path) -> Path:
    """The top of the working tree containing `path` (a linked worktree's own root)."""
    result = await git(path, "rev-parse", "--show-toplevel", check=False)
    if not result.ok:
        raise GitError(
            f"{path} is not inside a git repository; run prodigy in a git checkout "
            f"(or create one with `git init`).\n{result.tail()}"
        )
    return Path(result.stdout.strip())


# A repository's common dir never changes: asked once per path and process, not per item
# (it keys the worktree lock, taken for every agent's add and remove).
_COMMON_DIRS: dict[Path, Path] = {}


async def common_dir(repo: Path) -> Path:
    """The repository's shared .git directory, the same for every linked worktree."""
    known = _COMMON_DIRS.get(repo)
    if known is not None and known.is_dir():
        return known
    out = Path(await _line(repo, "rev-parse", "--path-format=absolute", "--git-common-dir"))
    _COMMON_DIRS[repo] = out
    return out


async def git_path(repo: Path, name: str) -> Path:
    """Where git keeps `name` for this worktree (MERGE_HEAD, index.lock), as an absolute path."""
    out = await _line(repo, "rev-parse", "--path-format=absolute", "--git-path", name)
    return Path(out)


async def current_branch(repo: Path) -> str:
    result = await git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if result.returncode == 1:
        raise GitError(
            f"HEAD is detached in {repo}; prodigy merges back into a branch, so check one "
            "out first (`git switch <branch>`)"
        )
    if not result.ok:
        raise GitError(_failure(repo, ("symbolic-ref", "HEAD"), result))
    return result.stdout.strip()


async def head_sha(repo: Path) -> str:
    result = await git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    if not result.ok:
        raise GitError(f"{repo} has no commits yet; make a first commit, then run prodigy again")
    return result.stdout.strip()


async def is_dirty(repo: Path, *, include_untracked: bool = True) -> bool:
    untracked = "--untracked-files=normal" if include_untracked else "--untracked-files=no"
    return bool((await git(repo, "status", "--porcelain", untracked)).stdout.strip())


async def rev_list(repo: Path, base: str, tip: str) -> list[str]:
    """Commits reachable from `tip` but not `base`, oldest first."""
    out = await _line(repo, "rev-list", "--reverse", f"{base}..{tip}")
    return out.split()


async def commit_count(repo: Path, base: str, tip: str) -> int:
    return int(await _line(repo, "rev-list", "--count", f"{base}..{tip}"))


async def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """True when `ancestor` is in the history of `descendant` (the proof a merge landed)."""
    result = await git(repo, "merge-base", "--is-ancestor", ancestor, descendant, check=False)
    if result.returncode not in (0, 1):
        raise GitError(
            _failure(repo, ("merge-base", "--is-ancestor", ancestor, descendant), result)
        )
    return result.returncode == 0


async def refs_under(repo: Path, prefix: str) -> list[str]:
    """Every ref whose name starts with `prefix` (a whole path, ending in `/`), in one
    process: asking `branch_exists` once per name costs one git process each."""
    listed = await git(repo, "for-each-ref", "--format=%(refname)", prefix)
    return listed.stdout.split()


async def branch_exists(repo: Path, branch: str) -> bool:
    result = await git(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    return result.ok


async def delete_branch(repo: Path, branch: str, *, force: bool = False) -> bool:
    """Delete `branch`; False when it did not exist. Without force, git refuses unmerged ones."""
    args = ("branch", "-D" if force else "-d", "--", branch)
    result = await git(repo, *args, check=False)
    if result.ok:
        return True
    # git says so itself (messages are in the C locale): no `show-ref` first
    if f"branch '{branch}' not found" in result.stderr:
        return False
    raise GitError(_failure(repo, args, result))


async def merge_no_ff(repo: Path, branch: str, message: str) -> MergeOutcome:
    """`git merge --no-ff` of `branch` into the checkout at `repo`.

    A conflict leaves the merge in progress (abort_merge or resolve it); any other failure,
    such as local changes in the way, raises GitError and leaves nothing behind.
    """
    result = await git(repo, "merge", "--no-ff", "--no-edit", "-m", message, branch, check=False)
    if result.ok:
        return MergeOutcome(ok=True, output=result.tail())
    if not await is_merge_in_progress(repo):
        raise GitError(_failure(repo, ("merge", "--no-ff", branch), result))
    return MergeOutcome(
        ok=False, conflicted_paths=await conflicted_paths(repo), output=result.tail()
    )


async def conflicted_paths(repo: Path) -> tuple[str, ...]:
    out = (await git(repo, "diff", "--name-only", "--diff-filter=U", "-z")).stdout
    return tuple(sorted({p for p in out.split("\0") if p}))


async def abort_merge(repo: Path) -> bool:
    """Abort a merge in progress; False when there was none."""
    if not await is_merge_in_progress(repo):
        return False
    await git(repo, "merge", "--abort")
    return True


async def is_merge_in_progress(repo: Path) -> bool:
    own = own_git_dir(repo)
    if own is not None:
        return (own / "MERGE_HEAD").exists()
    # In a linked worktree .git is a file, so ask git where MERGE_HEAD lives.
    return (await git_path(repo, "MERGE_HEAD")).exists()


def own_git_dir(repo: Path) -> Path | None:
    """The git directory of the worktree whose top is `repo`, read from its `.git` as git
    does (a directory, or a file `gitdir: PATH`); None when `repo` has no `.git` of its own
    (a subdirectory: ask git). Per-worktree files such as MERGE_HEAD live there; reading
    it here saves a `git rev-parse` per merge."""
    dot = repo / ".git"
    try:
        if dot.is_dir():
            return dot
        text = dot.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir: "):
        return None
    gitdir = Path(text.removeprefix("gitdir: ").strip())
    gitdir = gitdir if gitdir.is_absolute() else repo / gitdir
    return gitdir if gitdir.is_dir() else None


async def trailers(
    repo: Path,
    revision: str,
    *,
    key: str = ITEM_TRAILER,
    base: str | None = None,
    first_parent: bool = False,
) -> list[str]:
    """Values of trailer `key` on commits of `revision` (not in `base`), oldest first."""
    args = ["log", "--reverse", f"--format=%(trailers:key={key},valueonly,separator=%x00)%x00"]
    if first_parent:
        args.append("--first-parent")
    args.append(revision if base is None else f"{base}..{revision}")
    out = (await git(repo, *args, "--")).stdout
    return [value.strip() for value in out.split("\0") if value.strip()]
