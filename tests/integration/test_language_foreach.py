"""S16 and foreach options through `prodigy run`: order, worktree, command input, parallel."""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_s16_static_list_in_order_in_the_session_worktree(sc: Scenario) -> None:
    wf = sc.workflow(
        "s16",
        """
        name: s16-foreach
        commands:
          - foreach:
              foreach: ["a", "b c", "d"]
              do:
                - shell: echo '${item}|${index}|${total}' >> f.txt
          - shell: git add f.txt && git commit -qm foreach
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:f.txt") == "a|0|3\nb c|1|3\nd|2|3\n"
    assert sc.status() == ""


def test_command_input_max_items_and_capture(sc: Scenario) -> None:
    wf = sc.workflow(
        "cmd",
        """
        name: cmd
        commands:
          - foreach:
              foreach: "printf 'x\\n\\ny\\nz\\n'"
              max_items: 2
              do:
                - shell: echo ${item} >> items.txt
            capture_output: summary
          - shell: echo "${summary}" > summary.txt && git add items.txt summary.txt && git commit -qm s
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:items.txt") == "x\ny\n"
    assert sc.cat("master:summary.txt") == "Foreach completed: 2 total, 2 successful, 0 failed\n\n"


def test_failing_item_stops_the_run_unless_continue_on_error(sc: Scenario) -> None:
    stop = sc.workflow(
        "stop",
        """
        name: stop
        commands:
          - foreach:
              foreach: ["1", "2", "3"]
              do:
                - shell: echo ${item} >> ${HOME}/seen; test ${item} != 2
        """,
    )
    run = sc.run(stop)
    assert run.code == 1, run
    assert (sc.home / "seen").read_text() == "1\n2\n"
    assert "1 of 3 foreach items failed; first: item 1 (2)" in run.output
    (sc.home / "seen").unlink()
    keep = sc.workflow(
        "keep",
        """
        name: keep
        commands:
          - foreach:
              foreach: ["1", "2", "3"]
              continue_on_error: true
              do:
                - shell: echo ${item} >> ${HOME}/seen; test ${item} != 2
        """,
    )
    run = sc.run(keep)
    assert run.code == 0, run
    assert (sc.home / "seen").read_text() == "1\n2\n3\n"


def test_parallel_items_overlap(sc: Scenario) -> None:
    """Each item waits until all four have started: only concurrent items get past."""
    wf = sc.workflow(
        "par",
        """
        name: par
        commands:
          - foreach:
              foreach: ["a", "b", "c", "d"]
              parallel: 4
              do:
                - shell: |
                    touch ${HOME}/started-${item}
                    for i in $(seq 100); do [ $(ls ${HOME} | grep -c started-) -eq 4 ] && break; sleep 0.1; done
                    [ $(ls ${HOME} | grep -c started-) -eq 4 ] && echo ${item} > out-${item}.txt
          - shell: git add -A && git commit -qm par
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert {"out-a.txt", "out-b.txt", "out-c.txt", "out-d.txt"} <= set(sc.tree())
