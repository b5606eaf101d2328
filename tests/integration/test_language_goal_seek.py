"""goal_seek through `prodigy run`: the loop, ${validation.*} in attempts, failure, bad config."""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_loops_until_the_score_reaches_the_threshold(sc: Scenario) -> None:
    wf = sc.workflow(
        "goal",
        """
        name: goal
        commands:
          - goal_seek:
              goal: "three lines"
              claude: "/fake-append lines.txt after=${validation.completion:-none}"
              validate: "echo checking; echo score: $(( $(wc -l < lines.txt) * 30 ))"
              threshold: 90
              max_attempts: 5
          - shell: git add lines.txt && git commit -qm lines
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:lines.txt") == "after=none\nafter=30.0\nafter=60.0\n"
    assert "Goal achieved: three lines (score 90 >= 90) after 3 attempt(s)" in run.output


def test_fails_when_the_goal_is_not_reached(sc: Scenario) -> None:
    wf = sc.workflow(
        "never",
        """
        name: never
        commands:
          - goal_seek:
              goal: "impossible"
              shell: "echo try >> ${HOME}/tries"
              validate: "echo '{\\"completion_percentage\\": 10}'"
              threshold: 50
              max_attempts: 2
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert (sc.home / "tries").read_text() == "try\ntry\n"
    assert "Goal not reached: impossible (best score 10 < 50 after 2 attempt(s))" in run.output


def test_fail_on_incomplete_false_continues(sc: Scenario) -> None:
    wf = sc.workflow(
        "soft",
        """
        name: soft
        commands:
          - goal_seek:
              goal: "soft"
              shell: "true"
              validate: "echo not a score"
              max_attempts: 1
              fail_on_incomplete: false
          - shell: echo after > after.txt && git add after.txt && git commit -qm after
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert "after.txt" in sc.tree()


def test_bad_goal_seek_is_refused_before_starting(sc: Scenario) -> None:
    wf = sc.workflow(
        "bad",
        """
        name: bad
        commands:
          - goal_seek: {goal: x, shell: "true"}
        """,
    )
    run = sc.run(wf)
    assert run.code == 2, run
    assert "goal_seek needs `validate:`" in run.output
    assert sc.session_worktrees() == []
