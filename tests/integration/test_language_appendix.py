"""The spec's Appendix A one-liners for the step language run (not only load) as written."""

from __future__ import annotations

import json

from tests.support.repos import git
from tests.support.scenario import Scenario


def test_standard_workflow_examples(sc: Scenario) -> None:
    (sc.repo / "check.sh").write_text("#!/bin/sh\necho '{\"completion_percentage\": 95}'\n")
    (sc.repo / "check.sh").chmod(0o755)
    (sc.repo / "v.json").write_text('{"completion_percentage": 100, "status": "complete"}\n')
    (sc.repo / ".env").write_text("FROM_FILE=1\n")
    (sc.repo / "bin").mkdir()
    (sc.repo / "bin" / "tool").write_text("#!/bin/sh\n")
    (sc.repo / "bin" / "tool").chmod(0o755)
    git(sc.repo, "add", "-A")
    git(sc.repo, "commit", "-qm", "fixtures")
    sc.env["GH_TOKEN"] = "token-value-1234"
    sc.rules([{"match": "^/flaky$", "exit": 1, "stderr": "flaky", "times": 1}])
    wf = sc.workflow(
        "appendix",
        """
        name: appendix
        env: {NODE_ENV: production}
        secrets: {TOKEN: GH_TOKEN}
        env_files: [.env]
        profiles: {dev: {DEBUG: "1"}}
        commands:
          - foreach: {foreach: [a, b], parallel: 2, do: [{shell: "echo ${item}"}]}
          - {shell: deploy, when: "${ok} == true"}
          - {claude: "/flaky", retry: {attempts: 4, backoff: fibonacci, initial_delay: "2s"}}
          - {claude: "/impl", validate: {shell: "./check.sh", threshold: 90}}
          - claude: "/impl2"
            validate: {claude: "/v", result_file: v.json, on_incomplete: {claude: "/complete ${validation.gaps}"}}
          - {shell: install, step_validate: "test -x bin/tool"}
          - shell: 'echo "$NODE_ENV $TOKEN $FROM_FILE $DEBUG ${validation.completion}" > seen.txt'
          - shell: git add seen.txt && git commit -qm seen
        """,
    )
    (sc.bin / "install").write_text("#!/bin/sh\nexit 0\n")
    (sc.bin / "install").chmod(0o755)
    run = sc.run(wf, "--profile", "dev")
    assert run.code == 0, run
    assert sc.cat("master:seen.txt") == "production token-value-1234 1 1 100.0\n"
    prompts = sc.prompts()
    assert prompts.count("/flaky") == 2
    assert "/v" in prompts and not any(p.startswith("/complete") for p in prompts)
    assert "token-value-1234" not in run.output


def test_write_file_of_map_results_in_reduce(sc: Scenario) -> None:
    (sc.repo / "i.json").write_text(json.dumps([{"id": 1}, {"id": 2}]))
    git(sc.repo, "add", "i.json")
    git(sc.repo, "commit", "-qm", "items")
    wf = sc.workflow(
        "mr",
        """
        name: j
        mode: mapreduce
        map:
          input: i.json
          agent_template: [{shell: "echo ${item.id}"}]
        reduce:
          - write_file: {path: out.json, content: "${map.results}", format: json}
          - shell: git add out.json && git commit -qm results
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    results = json.loads(sc.cat("master:out.json"))
    assert isinstance(results, list) and len(results) == 2
    assert sc.cat("master:out.json").startswith("[\n  {")
