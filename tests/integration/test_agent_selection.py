"""`agent:` in a workflow or on one step picks the scripted agent without --agent."""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_workflow_agent_runs_claude_steps_with_the_scripted_agent(sc: Scenario) -> None:
    wf = sc.workflow(
        "wf-agent",
        """
        agent: scripted
        commands:
          - claude: |
              @write notes.md hello
              @commit add notes
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:notes.md") == "hello\n"
    assert sc.calls() == []  # the fake claude on PATH was never started


def test_a_step_agent_overrides_the_run_agent(sc: Scenario) -> None:
    wf = sc.workflow(
        "step-agent",
        """
        commands:
          - claude: "/fake-write-commit a.txt from-claude"
          - claude: |
              @write b.txt from-scripted
              @commit add b
            agent: scripted
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:a.txt") == "from-claude\n"
    assert sc.cat("master:b.txt") == "from-scripted\n"
    assert len(sc.calls()) == 1
