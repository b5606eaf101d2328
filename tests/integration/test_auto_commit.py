"""`auto_commit:` commits what a step leaves behind, with or without commit_required."""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_auto_commit_alone_commits_the_steps_changes(sc: Scenario) -> None:
    wf = sc.workflow(
        "auto",
        """
        commands:
          - shell: echo formatted > style.txt
            auto_commit: true
          - shell: echo plain > plain.txt
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:style.txt") == "formatted\n"
    assert "Auto-commit: shell: echo formatted > style.txt" in sc.subjects("master")
    assert "plain.txt" not in sc.tree("master")


def test_commit_required_is_met_by_auto_commit_with_a_template(sc: Scenario) -> None:
    wf = sc.workflow(
        "auto-template",
        """
        commands:
          - shell: echo x > x.txt
            name: make-x
            commit_required: true
            auto_commit: true
            commit_config:
              message_template: "chore: ${step.name}"
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "chore: make-x" in sc.subjects("master")
