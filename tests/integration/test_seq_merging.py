"""Sequential runs against the real `prodigy` CLI (issue 3): the merge back, its conflict
fallback, concurrent sessions, paths that leave the worktree.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.scenario import Scenario, wait_for


def conflicting_workflow(sc: Scenario) -> Path:
    """The session edits README.md while a step commits a different edit on master."""
    return sc.workflow(
        "conflict",
        f"""
        commands:
          - shell: printf '# demo\\nsession\\n' > README.md && git commit -qam session-side
            commit_required: true
          - shell: printf '# demo\\nuser\\n' > {sc.repo}/README.md && git -C {sc.repo} commit -qam user-side
        """,
    )


def test_init_then_a_merge_conflict_falls_back_to_prodigy_merge_worktree(sc: Scenario) -> None:
    init = sc.prodigy("init")
    assert init.code == 0, init
    assert (sc.repo / ".claude" / "commands" / "prodigy-merge-worktree.md").is_file()
    sc.git("add", ".claude")
    sc.git("commit", "-qm", "prodigy init")
    run = sc.run(conflicting_workflow(sc))
    assert run.code == 0, run
    session = run.session_id()
    # the fake's union resolution: master's side, then the session's
    assert sc.cat("master:README.md") == "# demo\nuser\n# demo\nsession\n"
    assert {"session-side", "user-side"} <= set(sc.subjects("master"))
    calls = sc.calls()
    # Claude merges into a scratch branch in a scratch worktree, never in the user's checkout
    scratch = f"prodigy-merge-{session}"
    assert [c["prompt"] for c in calls] == [f"/prodigy-merge-worktree prodigy-{session} {scratch}"]
    assert Path(calls[0]["cwd"]).name == f"merge-{session}"
    # what lands is one merge commit: the user's tip first, the session's tip second
    first, second = sc.parents("master")
    assert sc.git("log", "-1", "--format=%s", first).strip() == "user-side"
    assert sc.git("log", "-1", "--format=%s", second).strip() == "session-side"
    assert sc.subjects("master")[0] == f"Merge {session} into master"
    assert scratch not in sc.branches()
    assert sc.status() == ""
    assert "<<<<<<<" not in (sc.repo / "README.md").read_text()
    assert sc.session_worktrees() == []


def test_a_failed_merge_fallback_leaves_both_sides_clean_and_says_what_to_run(
    sc: Scenario,
) -> None:
    sc.rules([{"match": "^/prodigy-merge-worktree ", "exit": 1, "stderr": "cannot resolve"}])
    run = sc.run(conflicting_workflow(sc))
    assert run.code == 1, run
    session = run.session_id()
    assert sc.subjects("master")[0] == "user-side"
    assert not (sc.repo / ".git" / "MERGE_HEAD").exists()
    assert sc.status() == ""
    (worktree,) = sc.session_worktrees()
    assert sc.status(cwd=worktree) == ""
    assert "README.md" in run.output
    assert session in run.output[run.output.index("Merge failed") :]


def test_concurrent_sessions_merge_one_after_the_other(sc: Scenario) -> None:
    # A git hook holds the first merge open until released, so the second session
    # reaches its merge while the first is still inside `git merge`.
    hook = sc.repo / ".git" / "hooks" / "pre-merge-commit"
    hook.write_text(
        '#!/bin/sh\nif mkdir "$HOME/first-merge" 2>/dev/null; then\n'
        '  while [ ! -e "$HOME/release" ]; do sleep 0.05; done\nfi\n'
    )
    hook.chmod(0o755)
    first = sc.workflow(
        "a", "commands:\n  - shell: echo a > a.txt && git add a.txt && git commit -qm a\n"
    )
    second = sc.workflow(
        "b",
        "commands:\n  - shell: echo b > b.txt && git add b.txt && git commit -qm b\n"
        "  - shell: touch ${HOME}/b-done\n",
    )
    proc_a = sc.start("run", first, "-y")
    wait_for((sc.home / "first-merge").exists)
    proc_b = sc.start("run", second, "-y")
    wait_for((sc.home / "b-done").exists)
    time.sleep(2)  # the second session's merge is now due
    (sc.home / "release").touch()
    run_a, run_b = sc.finish(proc_a), sc.finish(proc_b)
    assert run_a.code == 0, run_a
    assert sc.status() == "", "the user's checkout was left dirty"
    assert run_b.code == 0, run_b
    assert {"a.txt", "b.txt"} <= set(sc.tree("master"))
    assert sc.session_worktrees() == []


@pytest.mark.parametrize("option", ["working_dir: ../..", "output_file: ../../escape.txt"])
def test_a_path_leaving_the_worktree_fails_the_step_like_any_failure(
    sc: Scenario, option: str
) -> None:
    wf = sc.workflow("escape", f"commands:\n  - shell: pwd\n    {option}\n")
    run = sc.run(wf)
    assert run.code == 1, run
    session = run.session_id()
    assert "leaves the worktree" in run.output
    assert not list(sc.root.rglob("escape.txt"))
    assert sc.session_status(session) == "failed"
    assert run.output.rstrip().endswith(f"prodigy resume {session}")
