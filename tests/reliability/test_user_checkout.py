"""The user's checkout during the merge back (issue 12, items 1 and 5).

prodigy never aborts, resets or cleans an operation the user started in their checkout, and
the final merge is all or nothing from the user's point of view: interrupted or killed at
any moment, their branch and checkout are either untouched or hold the whole merge, and
`prodigy resume` finishes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.scenario import Scenario, wait_for


def committing_workflow(sc: Scenario, extra: str = "") -> Path:
    return sc.workflow(
        "commit",
        "commands:\n"
        "  - shell: echo session > session.txt && git add session.txt && git commit -qm session\n"
        + extra,
    )


def git_path(sc: Scenario, name: str) -> Path:
    return Path(sc.git("rev-parse", "--path-format=absolute", "--git-path", name).strip())


def sh(sc: Scenario, script: str) -> None:
    subprocess.run(["bash", "-c", script], cwd=sc.repo, check=False, capture_output=True)


def mid_merge(sc: Scenario) -> None:
    """A conflicting merge, resolved and staged, plus a staged new file: MERGE_HEAD present."""
    sh(
        sc,
        "git checkout -qb feature && echo theirs > README.md && git commit -qam theirs"
        " && git checkout -q master && echo ours > README.md && git commit -qam ours"
        " && git merge -q feature; echo resolved > README.md && echo new > new.txt"
        " && git add README.md new.txt",
    )
    assert git_path(sc, "MERGE_HEAD").exists()


def mid_cherry_pick(sc: Scenario) -> None:
    sh(
        sc,
        "git checkout -qb other && echo theirs > README.md && git commit -qam theirs"
        " && git checkout -q master && echo ours > README.md && git commit -qam ours"
        " && git cherry-pick other",
    )
    assert git_path(sc, "CHERRY_PICK_HEAD").exists()


def mid_revert(sc: Scenario) -> None:
    sh(
        sc,
        "echo one > README.md && git commit -qam one && echo two > README.md"
        " && git commit -qam two && git revert --no-edit HEAD~1",
    )
    assert git_path(sc, "REVERT_HEAD").exists()


def mid_rebase(sc: Scenario) -> None:
    sh(
        sc,
        "git checkout -qb topic && echo theirs > README.md && git commit -qam theirs"
        " && git checkout -q master && echo ours > README.md && git commit -qam ours"
        " && git checkout -q topic && git rebase master",
    )
    assert git_path(sc, "rebase-merge").exists()


def mid_bisect(sc: Scenario) -> None:
    sh(sc, "echo two > README.md && git commit -qam two && git bisect start HEAD HEAD~1")
    assert git_path(sc, "BISECT_LOG").exists()


def unmerged_index(sc: Scenario) -> None:
    """A conflicting `git stash pop`: unmerged index entries and no *_HEAD marker."""
    sh(
        sc,
        "echo stashed > README.md && git stash -q && echo committed > README.md"
        " && git commit -qam committed && git stash pop",
    )
    assert sc.git("ls-files", "--unmerged").strip()


USER_OPERATIONS: dict[str, Callable[[Scenario], None]] = {
    "merge": mid_merge,
    "cherry-pick": mid_cherry_pick,
    "revert": mid_revert,
    "rebase": mid_rebase,
    "bisect": mid_bisect,
    "unmerged-index": unmerged_index,
}


def snapshot(sc: Scenario) -> tuple[str, str, str, dict[str, str]]:
    """HEAD, the index, the status and every marker file of the user's checkout."""
    markers = {}
    for name in ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "BISECT_LOG", "ORIG_HEAD"):
        path = git_path(sc, name)
        markers[name] = path.read_text() if path.exists() else ""
    rebase = git_path(sc, "rebase-merge")
    markers["rebase-merge"] = "yes" if rebase.exists() else ""
    head = sc.git("rev-parse", "HEAD").strip()
    return head, sc.git("ls-files", "-s", "--unmerged", "--cached"), sc.status(), markers


@pytest.mark.parametrize("operation", sorted(USER_OPERATIONS))
def test_an_operation_in_progress_in_the_users_checkout_is_refused_up_front(
    sc: Scenario, operation: str
) -> None:
    USER_OPERATIONS[operation](sc)
    before = snapshot(sc)
    run = sc.run(committing_workflow(sc))
    assert run.code != 0, run
    [error] = [line for line in run.stderr.splitlines() if line.strip()]  # one line
    assert "in progress" in error or "unresolved conflicts" in error, run
    assert "never aborts or resets" in error
    assert snapshot(sc) == before
    assert sc.session_ids() == []
    assert sc.session_worktrees() == []


def test_a_merge_the_user_starts_during_the_run_is_kept_and_the_final_merge_refused(
    sc: Scenario,
) -> None:
    # the step leaves the user's checkout mid-merge (resolved, staged) while prodigy works
    wf = committing_workflow(
        sc,
        f"  - shell: cd {sc.repo} && git checkout -qb feature && echo theirs > README.md"
        " && git commit -qam theirs && git checkout -q master && echo ours > README.md"
        " && git commit -qam ours && { git merge -q feature || true; }"
        " && echo resolved > README.md && echo new > new.txt && git add README.md new.txt\n",
    )
    run = sc.run(wf)
    assert run.code == 1, run
    session = run.session_id()
    assert "Merge failed" in run.output and "a merge is in progress" in run.output
    assert git_path(sc, "MERGE_HEAD").exists()
    assert (sc.repo / "README.md").read_text() == "resolved\n"
    assert sc.git("diff", "--cached", "--name-only").split() == ["README.md", "new.txt"]
    assert sc.session_status(session) == "completed"
    # once the user has finished their merge, the kept session merges
    sc.git("commit", "-qm", "the user's merge")
    merged = sc.prodigy("worktree", "merge", session)
    assert merged.code == 0, merged
    assert sc.cat("master:session.txt") == "session\n"
    assert sc.status() == ""


def held_merge_hook(sc: Scenario) -> None:
    """A pre-merge-commit hook that waits while $HOME/hold exists (writing its group id),
    so a signal can arrive in the middle of the final merge."""
    hook = sc.repo / ".git" / "hooks" / "pre-merge-commit"
    hook.write_text(
        "#!/bin/sh\n"
        'if [ -e "$HOME/hold" ]; then\n'
        '  ps -o pgid= $$ | tr -d " " > "$HOME/hook-pgid.tmp" && mv "$HOME/hook-pgid.tmp"'
        ' "$HOME/hook-pgid"\n'
        '  while [ -e "$HOME/hold" ]; do sleep 0.05; done\n'
        "fi\n"
    )
    hook.chmod(0o755)
    (sc.home / "hold").touch()


def assert_untouched(sc: Scenario, head: str) -> None:
    assert sc.head("master") == head
    assert sc.status() == ""
    assert not git_path(sc, "MERGE_HEAD").exists()


def assert_resume_merges(sc: Scenario, session: str) -> None:
    resumed = sc.prodigy("resume", session, "-y")
    assert resumed.code == 0, resumed
    assert sc.cat("master:session.txt") == "session\n"
    assert (sc.repo / "session.txt").read_text() == "session\n"
    assert sc.status() == ""
    assert sc.subjects("master")[0] == f"Merge {session} into master"
    assert sc.session_status(session) == "completed"
    assert sc.session_worktrees() == []
    assert sc.branches() == ["master"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_final_merge_changes_nothing_and_resume_finishes_it(
    sc: Scenario, sig: signal.Signals
) -> None:
    held_merge_hook(sc)
    head = sc.head("master")
    sc.env["PRODIGY_GRACE_PERIOD"] = "1"
    proc = sc.start("run", committing_workflow(sc), "-y")
    wait_for((sc.home / "hook-pgid").exists)
    proc.send_signal(sig)
    run = sc.finish(proc)
    assert run.code == (130 if sig == signal.SIGINT else 143), run
    session = run.session_id()
    assert f"resume with: prodigy resume {session}" in run.output
    assert_untouched(sc, head)
    assert sc.session_status(session) == "merging"
    (sc.home / "hold").unlink()
    assert_resume_merges(sc, session)


def test_sigkill_during_the_final_merge_changes_nothing_and_resume_finishes_it(
    sc: Scenario,
) -> None:
    held_merge_hook(sc)
    head = sc.head("master")
    proc = sc.start("run", committing_workflow(sc), "-y")
    wait_for((sc.home / "hook-pgid").exists)
    proc.kill()  # prodigy, then its git merge: everything dies mid-merge
    run = sc.finish(proc)
    os.killpg(int((sc.home / "hook-pgid").read_text()), signal.SIGKILL)
    session = run.session_id()
    assert_untouched(sc, head)
    assert sc.session_status(session) == "merging"
    listed = sc.prodigy("sessions", "ls")
    assert "merging" in listed.output, listed
    (sc.home / "hold").unlink()
    assert_resume_merges(sc, session)


def test_a_kill_after_the_branch_moved_is_repaired_by_resume(sc: Scenario) -> None:
    """The one window left: the branch moved, the checkout has not followed yet."""
    sc.env["PRODIGY_CRASH_AT"] = "after-branch-move:1"
    run = sc.run(committing_workflow(sc))
    assert run.code == 137, run
    session = run.session_id()
    assert sc.cat("master:session.txt") == "session\n"  # the branch holds the whole merge
    assert sc.status() != ""  # and the checkout is behind it
    assert sc.session_status(session) == "merging"
    del sc.env["PRODIGY_CRASH_AT"]
    assert_resume_merges(sc, session)
    assert sc.git("log", "--format=%s", "master").count(f"Merge {session} into master") == 1


def test_local_changes_in_the_way_keep_the_branch_and_the_changes(sc: Scenario) -> None:
    wf = committing_workflow(sc, f"  - shell: echo mine > {sc.repo}/session.txt\n")
    head = sc.head("master")
    run = sc.run(wf)
    assert run.code == 1, run
    session = run.session_id()
    assert "local changes the merge would overwrite" in run.output, run
    assert sc.head("master") == head
    assert (sc.repo / "session.txt").read_text() == "mine\n"
    assert f"prodigy worktree merge {session}" in run.output
    assert sc.session_status(session) == "completed"
    (sc.repo / "session.txt").unlink()
    merged = sc.prodigy("worktree", "merge", session)
    assert merged.code == 0, merged
    assert (sc.repo / "session.txt").read_text() == "session\n"


def test_a_merge_the_user_starts_while_prodigy_merges_is_never_touched(sc: Scenario) -> None:
    """Checked again after the merge was computed, right before the branch moves."""
    sh(
        sc,
        "git checkout -qb feature && echo f > feature.txt && git add feature.txt"
        " && git commit -qm feature && git checkout -q master",
    )
    head = sc.head("master")
    # runs inside prodigy's scratch merge: the user starts a merge of their own meanwhile
    hook = sc.repo / ".git" / "hooks" / "pre-merge-commit"
    hook.write_text(
        "#!/bin/sh\n"
        "unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE\n"
        f"git -C {sc.repo} merge -q --no-commit --no-ff feature\n"
    )
    hook.chmod(0o755)
    run = sc.run(committing_workflow(sc))
    assert run.code == 1, run
    assert "Merge failed" in run.output and "a merge is in progress" in run.output, run
    assert sc.head("master") == head
    assert git_path(sc, "MERGE_HEAD").exists()
    assert sc.git("diff", "--cached", "--name-only").split() == ["feature.txt"]
    assert not (sc.repo / "session.txt").exists()
    assert sc.session_status(run.session_id()) == "completed"
