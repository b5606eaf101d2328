"""S14 and retry_defaults through `prodigy run` with real git and processes."""

from __future__ import annotations

from tests.support.scenario import Scenario


def test_s14_step_retry_block(sc: Scenario) -> None:
    wf = sc.workflow(
        "s14",
        """
        name: s14-retry
        commands:
          - shell: n=$(cat ${HOME}/s14-count 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${HOME}/s14-count; test $n -ge 3
            retry:
              attempts: 3
              backoff: fixed
              initial_delay: 200ms
          - shell: echo done > r.txt && git add r.txt && git commit -qm retried
            commit_required: true
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert (sc.home / "s14-count").read_text() == "3\n"
    assert sc.cat("master:r.txt") == "done\n"
    assert run.seconds >= 0.4
    assert "attempt 1/3 failed" in run.output


def test_retry_defaults_apply_and_exhaustion_fails_the_run(sc: Scenario) -> None:
    wf = sc.workflow(
        "defaults",
        """
        name: retry-defaults
        retry_defaults: {attempts: 2, backoff: fixed, initial_delay: 0s}
        commands:
          - shell: echo x >> ${HOME}/tries; exit 3
        """,
    )
    run = sc.run(wf)
    assert run.code == 1, run
    assert (sc.home / "tries").read_text() == "x\nx\n"
    assert "failed after 2 attempts" in run.output
    assert sc.head("master") == sc.init_sha
