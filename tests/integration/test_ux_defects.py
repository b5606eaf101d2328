"""Issue 19 defects through the real CLI: job leftovers, merge blocks that do not merge,
the map input's exit code, PRODIGY_NO_COMMIT_VALIDATION, `${NAME}` in secret env values,
and the merge prompt with nothing to merge."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.cli import CliResult, run_prodigy
from tests.support.mapreduce import MapReduceRepo

MAP = """
name: small-map
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  agent_template:
    - shell: echo "${item.name}" > "out-${item.name}.txt" && git add -A && git commit -qm "${item.name}"
"""
NOT_MERGING = """
name: custom-merge
steps:
  - shell: echo made > made.txt && git add made.txt && git commit -qm made
merge:
  commands:
    - shell: echo "Merging changes for the project"
"""


def test_a_finished_job_leaves_no_directory_and_no_orphan(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    mr.items([{"name": "a"}, {"name": "b"}])
    done = mr.run(MAP)
    assert done.returncode == 0, done.stderr
    job = mr.job_id()
    leftovers = list((mr.home / ".prodigy" / "worktrees").rglob(job))
    assert leftovers == []
    listed = mr.prodigy("worktree", "ls")
    assert job not in listed.stdout
    assert "git does not know" not in listed.stdout


def test_a_merge_block_that_does_not_merge_says_so_and_offers_the_default_merge(
    tmp_path: Path,
) -> None:
    mr = MapReduceRepo(tmp_path)
    done = mr.run(NOT_MERGING)
    assert done.returncode == 1
    assert "merge: steps ran without error but did not merge" in done.stderr
    assert "must merge the branch themselves" in done.stderr
    session = str(mr.query("SELECT id FROM sessions")[0]["id"])
    assert f"prodigy worktree merge {session} --default" in done.stderr
    listed = mr.prodigy("sessions", "ls")
    row = next(line for line in listed.stdout.splitlines() if session in line)
    assert " unmerged " in row
    assert "completed" not in row
    shown = mr.prodigy("sessions", "show", session)
    assert "Status:    unmerged" in shown.stdout
    worktrees = mr.prodigy("worktree", "ls")
    assert "Orphans" not in worktrees.stdout  # unmerged work is not an orphan
    again = mr.prodigy("worktree", "merge", session[:14])
    assert again.returncode == 1  # the same block, the same refusal
    merged = mr.prodigy("worktree", "merge", session[:14], "--default")
    assert merged.returncode == 0, merged.stderr
    assert "made.txt" in mr.tree()
    after = mr.prodigy("sessions", "ls", "--all")
    assert " completed " in next(line for line in after.stdout.splitlines() if session in line)


def test_a_missing_map_input_is_a_workflow_failure_exit_1(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    done = mr.run(MAP.replace("items.json", "missing.json"))
    assert done.returncode == 1  # docs/mapreduce.md and the README: 1 = the workflow failed
    assert "missing.json" in done.stderr
    assert "not found" in done.stderr
    bad = MapReduceRepo(tmp_path / "bad")
    bad.items("{not json")  # type: ignore[arg-type]
    (bad.repo / "items.json").write_text("{not json")
    bad.git("commit", "-qam", "broken items")
    broken = bad.run(MAP)
    assert broken.returncode == 1
    assert "is not valid JSON" in broken.stderr


def test_no_commit_validation_switch_lets_commit_required_pass_and_says_so_once(
    tmp_path: Path,
) -> None:
    mr = MapReduceRepo(tmp_path)
    workflow = """
        name: no-commits
        steps:
          - shell: echo nothing to commit
            commit_required: true
          - shell: echo still nothing
            commit_required: true
    """
    refused = mr.run(workflow)
    assert refused.returncode == 1
    assert "commit_required=true but no commits were created" in refused.stderr
    allowed = mr.run(workflow, env={"PRODIGY_NO_COMMIT_VALIDATION": "true"})
    assert allowed.returncode == 0, allowed.stderr
    output = allowed.stdout + allowed.stderr
    assert output.count("PRODIGY_NO_COMMIT_VALIDATION=true") == 1


SECRET_ENV = """
name: secret-env
env:
  API_TOKEN:
    secret: true
    value: "${GITHUB_TOKEN}"
steps:
  - shell: test "$API_TOKEN" = "$GITHUB_TOKEN" && test "${#API_TOKEN}" = 7 && echo "token ok"
"""


def _validate(mr: MapReduceRepo, text: str, env: dict[str, str]) -> CliResult:
    path = mr.root / "wf" / "validate.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return mr.prodigy("validate", str(path), env=env)


def test_a_bare_name_in_a_secret_env_value_is_read_from_the_environment(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    done = mr.run(SECRET_ENV, "-v", env={"GITHUB_TOKEN": "tok-123"})
    assert done.returncode == 0, done.stderr
    assert "tok-123" not in done.stdout + done.stderr  # still a secret: masked
    unset = mr.run(SECRET_ENV)
    assert unset.returncode == 1
    assert "${GITHUB_TOKEN} is not set in the environment" in unset.stderr
    checked = _validate(mr, SECRET_ENV, {})
    assert checked.returncode == 0
    assert "env.API_TOKEN" in checked.stderr and "GITHUB_TOKEN" in checked.stderr
    quiet = _validate(mr, SECRET_ENV, {"GITHUB_TOKEN": "x"})
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_no_merge_prompt_when_there_is_nothing_to_merge(tmp_path: Path) -> None:
    mr = MapReduceRepo(tmp_path)
    path = mr.root / "wf" / "noop.yml"
    path.write_text("name: noop\nsteps:\n  - shell: echo hello\n")
    done = run_prodigy("run", path, cwd=mr.repo, env=mr.env, stdin="n\n")
    assert done.returncode == 0, done.stderr
    assert "[Y/n]" not in done.stdout
    assert "No changes to merge" in done.stdout


def test_a_secret_written_as_in_prodigys_book_reads_the_named_variable(tmp_path: Path) -> None:
    """`secrets: {API_KEY: "${env:SECRET_API_KEY}"}` (prodigy's environment-example.yml):
    the variable is SECRET_API_KEY, and an unset one is named as such."""
    mr = MapReduceRepo(tmp_path)
    workflow = """
        name: book-secret
        secrets:
          API_KEY: "${env:SECRET_API_KEY}"
        steps:
          - shell: test "$API_KEY" = "$SECRET_API_KEY" && test -n "$API_KEY"
    """
    done = mr.run(workflow, env={"SECRET_API_KEY": "s3cr3t-value"})
    assert done.returncode == 0, done.stderr
    unset = mr.run(workflow)
    assert unset.returncode == 2
    assert "environment variable SECRET_API_KEY is not set" in unset.stderr


def test_a_missing_working_dir_fails_the_step_not_the_session(tmp_path: Path) -> None:
    """prodigy's environment-example.yml: `working_dir: ./frontend` that does not exist
    left the session `crashed`; it is a failed, resumable step."""
    mr = MapReduceRepo(tmp_path)
    done = mr.run(
        """
        name: missing-dir
        steps:
          - name: Build frontend
            shell: echo building
            working_dir: ./frontend
        """
    )
    assert done.returncode == 1
    assert "working_dir ./frontend does not exist in the worktree" in done.stderr
    listed = mr.prodigy("sessions", "ls")
    assert " failed " in listed.stdout and "crashed" not in listed.stdout
