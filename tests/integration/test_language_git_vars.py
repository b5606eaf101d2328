"""`${step.*}` and `${workflow.*}` git context variables with filters and formats."""

from __future__ import annotations

import json

from tests.support.scenario import Scenario


def test_step_and_workflow_changes_with_modifiers(sc: Scenario) -> None:
    wf = sc.workflow(
        "git",
        """
        name: git
        commands:
          - shell: |
              mkdir -p docs src/a && echo one > docs/x.md && echo two > src/a/y.rs
              echo three > notes.txt && git rm -q README.md
              git add -A && git commit -qm first
          - claude: "/fake-write-commit docs/z.md added"
          - write_file:
              path: report.json
              content: |
                {"step_added": "${step.files_added}",
                 "step_commits": ${step.commit_count},
                 "wf_added_md": ${workflow.files_added:*.md:json},
                 "wf_src": ${workflow.files_changed:src/**:json},
                 "wf_deleted": "${workflow.files_deleted}",
                 "wf_commits": ${workflow.commit_count},
                 "wf_insertions": ${workflow.insertions},
                 "wf_deletions": ${workflow.deletions}}
              format: json
          - shell: |
              printf '%s\\n' "${workflow.files_added:lines}" > lines.txt
              echo "${workflow.files_added:csv}" > csv.txt
              git add -A && git commit -qm report
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    report = json.loads(sc.cat("master:report.json"))
    assert report == {
        "step_added": "docs/z.md",
        "step_commits": 1,
        "wf_added_md": ["docs/x.md", "docs/z.md"],
        "wf_src": ["src/a/y.rs"],
        "wf_deleted": "README.md",
        "wf_commits": 2,
        "wf_insertions": 4,
        "wf_deletions": 1,
    }
    assert sc.cat("master:lines.txt") == "docs/x.md\ndocs/z.md\nnotes.txt\nsrc/a/y.rs\n"
    assert sc.cat("master:csv.txt") == "docs/x.md,docs/z.md,notes.txt,src/a/y.rs\n"


def test_a_step_without_commits_has_empty_step_changes(sc: Scenario) -> None:
    wf = sc.workflow(
        "nochange",
        """
        name: nochange
        commands:
          - shell: echo hi > a.txt && git add a.txt && git commit -qm a
          - shell: "true"
          - shell: |
              echo "[${step.files_changed}] ${step.commit_count} ${workflow.files_changed}" > out.txt
              git add out.txt && git commit -qm out
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out.txt") == "[] 0 a.txt\n"
