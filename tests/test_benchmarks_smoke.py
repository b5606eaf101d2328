"""The benchmark command runs on tiny sizes and writes results a reader and a script can use.

Benchmarks are never timed assertions; this only checks that the command works end to end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmarks_write_a_markdown_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--only",
            "planning",
            "--only",
            "events",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((out / "results.json").read_text())
    assert document["meta"]["runs"] == 1
    assert len(document["meta"]["load_before"]) == 3
    results = document["results"]
    assert {r["benchmark"] for r in results} == {"2. planning", "4. events"}
    for row in results:
        assert row["median"] is not None, row
        assert row["min"] <= row["median"] <= row["max"]
    planning = results[0]
    if shutil.which("jq"):  # else the command installs it, or reports jq as unavailable
        assert planning["baseline"]["name"] == "jq"
        assert planning["ratio"] == planning["median"] / planning["baseline"]["median"]
        assert "jq selects the same items" in planning["note"]
    table = (out / "results.md").read_text().splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("| benchmark |"))
    rows = [line for line in table[header + 2 :] if line.startswith("| ")]
    assert len(rows) == len(results)
    assert all(line.count(" | ") == 8 for line in rows)
