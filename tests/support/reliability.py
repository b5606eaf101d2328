"""The reliability harness (design/reliability.md §4): crash runs and `check_job`.

`check_job` is the one invariant checker every crash, fault and security test ends with:

- exactly once: every item of the job is either landed (one `Prodigy-Item: <job>/<item>`
  trailer on a merge commit of the parent branch) or in the DLQ, never both, never neither,
  and the store agrees (merged / dead_lettered);
- git health: `git fsck` clean, no `MERGE_HEAD` in any worktree, no `*.lock` under the git
  directories, `git status` clean in the main checkout and the parent worktree;
- no leftovers: no worktree, branch or process of the job (the branch and worktree of a
  dead-lettered item may stay: they are kept for inspection);
- readable records: the database passes `PRAGMA integrity_check`, every event payload parses.

Crash points: `PRODIGY_CRASH_AT=<point>:<n>` (see src/prodigy/runtime/crashpoints.py) makes
the orchestrator `os._exit(137)` at the n-th pass of a named point; `CRASH_EXIT` is that code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.cli import CliResult, start_prodigy
from tests.support.mapreduce import MapReduceRepo
from tests.support.scenario import wait_for

CRASH_EXIT = 137
TRAILER = "Prodigy-Item"
CRASH_POINTS = (
    "after-agent-commit",
    "before-merge",
    "after-merge-before-journal",
    "mid-dlq-add",
    "during-worktree-add",
)  # plus after-setup-step-<k> and reduce-step-<k>


def _git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {repo}:\n{done.stderr}")
    return done.stdout


@dataclass
class JobCheck:
    """What check_job found; `problems` is empty when every invariant holds."""

    job_id: str
    landed: dict[str, list[str]] = field(default_factory=dict)  # item -> merge commits
    dlq: set[str] = field(default_factory=set)
    items: dict[str, str] = field(default_factory=dict)  # item -> store state
    problems: list[str] = field(default_factory=list)

    def fail(self, text: str) -> None:
        self.problems.append(text)


def _db(state_home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{state_home / 'prodigy.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _job_row(conn: sqlite3.Connection, job_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert row is not None, f"no job {job_id} in the store"
    return row


def _trailers(repo: Path, ref: str, job_id: str) -> dict[str, list[str]]:
    """item -> commits carrying its trailer, over everything reachable from `ref`."""
    fmt = f"%H%x01%P%x01%(trailers:key={TRAILER},valueonly,separator=%x02)%x00"
    out = _git(repo, "log", f"--format={fmt}", ref, "--")
    found: dict[str, list[str]] = {}
    for record in out.split("\0"):
        if not record.strip():
            continue
        sha, parents, values = record.strip("\n").split("\x01")
        for value in values.split("\x02"):
            job, _, item = value.strip().partition("/")
            if job == job_id and item:
                found.setdefault(item, []).append(f"{sha}:{len(parents.split())}")
    return found


def _first_parent(repo: Path, ref: str) -> set[str]:
    return set(_git(repo, "rev-list", "--first-parent", ref).split())


def _landing_ref(repo: Path, job: sqlite3.Row, session: sqlite3.Row | None) -> tuple[str, bool]:
    """The parent branch while it exists, else the branch the session merged into."""
    parent = job["parent_branch"]
    if parent and _git(repo, "branch", "--list", parent).strip():
        return parent, True
    target = session["target_branch"] if session is not None else None
    return target or "HEAD", False


def check_job(
    repo: Path,
    state_home: Path,
    job_id: str,
    *,
    expect_items: Iterable[str] | None = None,
    expect_files: Mapping[str, str] | None = None,
    keep_dlq_leftovers: bool = True,
    raise_on_failure: bool = True,
) -> JobCheck:
    """Check every invariant of §4 for `job_id`; raises AssertionError listing all problems."""
    check = JobCheck(job_id)
    with contextlib.closing(_db(state_home)) as conn:
        job = _job_row(conn, job_id)
        session = conn.execute(
            "SELECT * FROM sessions WHERE id = ?", (job["session_id"],)
        ).fetchone()
        check.items = {
            r["item_id"]: r["state"]
            for r in conn.execute("SELECT item_id, state FROM items WHERE job_id = ?", (job_id,))
        }
        check.dlq = {
            r["item_id"]
            for r in conn.execute("SELECT item_id FROM dlq WHERE job_id = ?", (job_id,))
        }
        _check_records(conn, check)
    ref, is_parent = _landing_ref(repo, job, session)
    _check_exactly_once(repo, ref, is_parent, check, expect_items)
    if expect_files:
        for path, content in expect_files.items():
            shown = _git(repo, "show", f"{ref}:{path}", check=False)
            if shown != content:
                check.fail(f"{ref}:{path} is {shown!r}, expected {content!r}")
    _check_git_health(repo, job, check)
    _check_leftovers(repo, job_id, check, keep_dlq_leftovers)
    if raise_on_failure and check.problems:
        raise AssertionError(f"check_job({job_id}) failed:\n- " + "\n- ".join(check.problems))
    return check


def _check_records(conn: sqlite3.Connection, check: JobCheck) -> None:
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        check.fail(f"database integrity_check: {integrity}")
    for row in conn.execute("SELECT seq, payload FROM events WHERE job_id = ?", (check.job_id,)):
        try:
            json.loads(row["payload"])
        except ValueError:
            check.fail(f"event {row['seq']} payload does not parse")


def _check_exactly_once(
    repo: Path,
    ref: str,
    is_parent: bool,
    check: JobCheck,
    expect_items: Iterable[str] | None,
) -> None:
    trailers = _trailers(repo, ref, check.job_id)
    chain = _first_parent(repo, ref) if is_parent else set()
    for item, commits in trailers.items():
        check.landed[item] = [c.split(":")[0] for c in commits]
        if len(commits) != 1:
            check.fail(f"{item} landed {len(commits)} times: {check.landed[item]}")
        for entry in commits:
            sha, parents = entry.split(":")
            if parents != "2":
                check.fail(f"{item}: trailer commit {sha} is not a merge ({parents} parents)")
            if is_parent and sha not in chain:
                check.fail(f"{item}: merge {sha} is not on the first-parent chain of {ref}")
    all_items = set(check.items)
    if expect_items is not None and set(expect_items) != all_items:
        check.fail(f"the job has items {sorted(all_items)}, expected {sorted(expect_items)}")
    landed, dlq = set(check.landed), check.dlq
    # an agent that committed nothing is done without a merge: the store says merged
    quiet = {i for i, s in check.items.items() if s == "merged" and i not in landed}
    for item in sorted(landed & dlq):
        check.fail(f"{item} is both landed and in the DLQ")
    for item in sorted(all_items - landed - dlq - quiet):
        check.fail(f"{item} is neither landed nor in the DLQ (store: {check.items[item]})")
    for item in sorted(landed - all_items):
        check.fail(f"{item} landed but is not an item of the job")
    for item in sorted(landed):
        if check.items.get(item) != "merged":
            check.fail(f"{item} landed but the store says {check.items.get(item)}")
    for item in sorted(dlq):
        if check.items.get(item) != "dead_lettered":
            check.fail(f"{item} is in the DLQ but the store says {check.items.get(item)}")


def _git_dirs(repo: Path) -> list[Path]:
    common = Path(_git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    return [common]


def _worktrees(repo: Path) -> list[dict[str, str]]:
    out = _git(repo, "worktree", "list", "--porcelain")
    entries: list[dict[str, str]] = []
    for block in out.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(" ")
            fields[name] = value
        if fields:
            entries.append(fields)
    return entries


def _check_git_health(repo: Path, job: sqlite3.Row, check: JobCheck) -> None:
    fsck = subprocess.run(
        ["git", "fsck", "--no-dangling", "--no-progress"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if fsck.returncode != 0 or fsck.stdout.strip():
        check.fail(f"git fsck: {fsck.stdout}{fsck.stderr}".strip())
    for common in _git_dirs(repo):
        locks = [p for p in common.rglob("*.lock") if p.is_file()]
        if locks:
            check.fail(f"lock files left: {[str(p) for p in locks]}")
    places = [repo]
    parent = job["parent_worktree"]
    if parent and Path(parent).is_dir():
        places.append(Path(parent))
    for entry in _worktrees(repo):
        path = Path(entry["worktree"])
        if path.is_dir():
            merge_head = _git(
                path, "rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD"
            )
            if Path(merge_head.strip()).exists():
                check.fail(f"a merge is in progress in {path}")
    for place in places:
        status = _git(place, "status", "--porcelain", "--untracked-files=no")
        if status.strip():
            check.fail(f"`git status` in {place} is not clean:\n{status}")


def _check_leftovers(repo: Path, job_id: str, check: JobCheck, keep_dlq: bool) -> None:
    kept = {f"-{i.removeprefix('item_')}" for i in check.dlq} if keep_dlq else set()

    def allowed(name: str) -> bool:
        return any(name.endswith(suffix) for suffix in kept)

    for entry in _worktrees(repo):
        path = entry["worktree"]
        if "prunable" in entry or ("locked" in entry and job_id in path):
            check.fail(f"worktree {path} is prunable or locked: {entry}")
        if job_id in path and not allowed(path):
            check.fail(f"worktree {path} of the job is left")
    for branch in _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split():
        if job_id in branch and not allowed(branch):
            check.fail(f"branch {branch} of the job is left")
    # a process killed just before prodigy exited is gone once the kernel has run its exit
    deadline = time.monotonic() + 30
    while (pids := tagged_processes(job_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pids:
        check.fail(f"processes of the job still run: {pids}")


def tagged_processes(job_id: str) -> list[int]:
    """Live processes whose environment carries PRODIGY_JOB_ID=<job_id> (agents and children)."""
    tag = f"PRODIGY_JOB_ID={job_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if tag in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


# --- driving crash runs ----------------------------------------------------------------

ITEM_STEP = """\
    - shell: |
        echo run >> "$HOME/invocations/${item.id}"
        mkdir -p out && printf '%s\\n' "${item.id}" > "out/${item.id}.txt"
        git add out && git commit -qm "item ${item.id}"
      commit_required: true
"""


def item_workflow(
    *,
    max_parallel: int = 2,
    extra_agent: str = "",
    setup: str = "",
    reduce: str = "",
    name: str = "crash",
) -> str:
    """A MapReduce workflow over items.json whose agents write and commit out/<id>.txt.

    Each agent run appends a line to $HOME/invocations/<id>, so tests can count attempts.
    """
    text = f"name: {name}\nmode: mapreduce\n"
    if setup:
        text += "setup:\n" + textwrap.indent(textwrap.dedent(setup).strip("\n"), "  ") + "\n"
    text += (
        "map:\n  input: items.json\n"
        f"  max_parallel: {max_parallel}\n  agent_template:\n"
        + textwrap.indent(textwrap.dedent(extra_agent) + textwrap.dedent(ITEM_STEP), "    ")
    )
    if reduce:
        text += "reduce:\n" + textwrap.indent(textwrap.dedent(reduce).strip("\n"), "  ") + "\n"
    return text


class CrashRepo(MapReduceRepo):
    """MapReduceRepo plus crash runs, resume and invocation counts."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        (self.home / "invocations").mkdir(parents=True, exist_ok=True)
        self.workflow_path = root / "wf" / "wf.yml"

    @property
    def state_home(self) -> Path:
        return self.home / ".prodigy"

    def numbered(self, count: int, start: int = 1) -> list[dict[str, Any]]:
        items = [{"id": f"k{n:03d}"} for n in range(start, start + count)]
        self.items(items)
        return items

    def write_workflow(self, text: str) -> Path:
        self.workflow_path.write_text(text)
        return self.workflow_path

    def call(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 90
    ) -> CliResult:
        return self.prodigy(*args, env=dict(env or {}), timeout=timeout)

    def crash_run(self, point: str, n: int, **kw: Any) -> CliResult:
        """`prodigy run -y` with PRODIGY_CRASH_AT=<point>:<n>."""
        return self.call(
            "run", str(self.workflow_path), "-y", env={"PRODIGY_CRASH_AT": f"{point}:{n}"}, **kw
        )

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """`prodigy ARGS` in the background, in its own session (kill the group to crash it)."""
        return start_prodigy(
            *args, cwd=self.repo, env={**self.env, **(env or {})}, new_session=True
        )

    def session_id(self) -> str:
        rows = self.query("SELECT session_id FROM jobs ORDER BY created_at DESC")
        assert rows, "no MapReduce job in the store"
        return str(rows[0]["session_id"])

    def sequential_session_id(self) -> str:
        """The newest session (of a sequential run: no job row)."""
        rows = self.query("SELECT id FROM sessions ORDER BY started_at DESC")
        assert rows, "no session in the store"
        return str(rows[0]["id"])

    def outputs(self, *commands: tuple[str, ...]) -> dict[str, str]:
        """`prodigy ARGS` for each command: "ARGS" -> stdout + stderr."""
        texts = {}
        for args in commands:
            done = self.call(*args)
            texts[" ".join(args)] = done.stdout + done.stderr
        return texts

    def resume(self, *extra: str, **kw: Any) -> CliResult:
        """`prodigy resume-job <job> -y`-like: `prodigy resume <session> -y`."""
        return self.call("resume", self.session_id(), "-y", *extra, **kw)

    def invocations(self, item: str) -> int:
        path = self.home / "invocations" / item
        return len(path.read_text().splitlines()) if path.exists() else 0

    def check(self, **kw: Any) -> JobCheck:
        return check_job(self.repo, self.state_home, self.job_id(), **kw)


def kill_group(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    """Signal the whole process group of a background prodigy (its agents included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=10)


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    """`wait_for` with the longer default the crash tests need."""
    return wait_for(check, timeout)
