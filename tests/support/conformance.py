"""MapReduce scenario workflows of the conformance suite (docs/testing.md) that several test
files run to make a job: M01 (fan out, reduce, merge back), M07 (a dead-lettered item), M11
(two agents writing one file: a merge conflict)."""

from __future__ import annotations

M01 = """
name: m01-basic
mode: mapreduce
setup:
  - shell: test -f items.json
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - claude: "/fake-write-commit out/${item.id}.txt ${item.name}"
      commit_required: true
reduce:
"""
PEOPLE = [{"id": 1, "name": "alice"}, {"id": 2, "name": "bob"}, {"id": 3, "name": "carol"}]

M07 = """
name: m07-dlq
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 3
  agent_template:
    - claude: "/${item.pre}"
    - claude: "/fake-write-commit out/${item.id}.txt ok"
      commit_required: true
reduce:
  - shell: echo ${map.successful}/${map.failed}/${map.total} > summary.txt && git add summary.txt && git commit -qm summary
"""
M07_ITEMS = [
    {"id": 1, "pre": "fake-noop"},
    {"id": 2, "pre": "fake-fail 3 boom-2"},
    {"id": 3, "pre": "fake-noop"},
]
NOOP_ITEMS = [{"id": n, "pre": "fake-noop"} for n in (1, 2, 3)]

M11 = """
name: m11-conflict
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  max_parallel: 2
  agent_template:
    - shell: sleep ${item.delay}
    - claude: "/fake-write-commit shared.txt ${item.text}"
      commit_required: true
"""
M11_ITEMS = [{"id": 1, "delay": 0, "text": "A"}, {"id": 2, "delay": 1.5, "text": "B"}]
