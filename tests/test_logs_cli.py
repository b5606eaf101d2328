"""`prodigy logs`: listing and rendering the stream-json logs of real sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prodigy.app.inspect.logs import follow, render_lines, summarize
from prodigy.app.paths import logs_dir
from prodigy.core.records import RunStatus, UsageRecord
from prodigy.core.usage import Usage
from prodigy.store import open_store
from tests.support.cli import run_cli, run_json
from tests.support.sessions import (
    Made,
    make_session,
    new_repo,
    prodigy_home,
    running,
)

INIT = {"type": "system", "subtype": "init", "session_id": "c-1", "model": "claude-x", "cwd": "/w"}
ASSISTANT = {
    "type": "assistant",
    "message": {
        "content": [
            {"type": "text", "text": "I will run the tests.\nThen fix them."},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "make test"}},
        ]
    },
}
TOOL_RESULT = {
    "type": "user",
    "message": {
        "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "3 failed\nline2\nline3"}
        ]
    },
}
RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "result": "Fixed the 3 failing tests.",
    "num_turns": 4,
    "duration_ms": 2500,
    "total_cost_usd": 0.0321,
    "usage": {"input_tokens": 1000, "output_tokens": 200},
}


def _write_log(
    made: Made, name: str, records: list[dict[str, object]], item: str | None = None
) -> Path:
    folder = logs_dir(prodigy_home()) / made.session.repo_key / made.session.id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with open_store(prodigy_home()) as store:
        store.usage.record(
            UsageRecord(
                session_id=made.session.id,
                step_id=f"claude: /{name}",
                usage=Usage(input_tokens=1000, output_tokens=200, cost_usd=0.0321),
                job_id="job-1" if item else None,
                item_id=item,
                log_path=str(path),
            )
        )
    return path


@pytest.fixture
def session_with_logs(tmp_path: Path) -> Made:
    made = make_session(new_repo(tmp_path), status=RunStatus.FAILED, worktree=False)
    _write_log(made, "001-claude-fix.jsonl", [INIT, ASSISTANT, TOOL_RESULT, RESULT])
    time.sleep(0.01)  # distinct modification times, as real steps have
    _write_log(made, "002-claude-review.jsonl", [INIT, {**RESULT, "result": "Looks good."}])
    return made


def test_lists_a_sessions_logs_with_step_and_cost(
    session_with_logs: Made, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = session_with_logs.session.id
    code, out, _ = run_cli(capsys, "logs", sid)
    assert code == 0
    assert "001-claude-fix.jsonl" in out and "002-claude-review.jsonl" in out
    assert "$0.0321" in out and "claude: /001-claude-fix.jsonl" in out
    assert out.index("001-claude-fix") < out.index("002-claude-review")
    code, out_default, _ = run_cli(capsys, "logs")
    assert code == 0 and "001-claude-fix.jsonl" in out_default
    data = run_json(capsys, "logs", sid, "--json")
    assert isinstance(data, list)
    assert [row["name"] for row in data] == ["001-claude-fix.jsonl", "002-claude-review.jsonl"]


def test_renders_a_log_readably(
    session_with_logs: Made, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "logs", session_with_logs.session.id, "1")
    assert code == 0
    assert "[init] model claude-x" in out
    assert "assistant: I will run the tests." in out and "Then fix them." in out
    assert "→ Bash: make test" in out
    assert "← result: 3 failed (+2 lines)" in out
    assert "[result] success · 4 turn(s) · 2.5 s · 1,000 in / 200 out tokens" in out
    assert "$0.0321" in out and "Fixed the 3 failing tests." in out
    assert '{"type"' not in out


def test_latest_shows_the_newest_log(
    session_with_logs: Made, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "logs", session_with_logs.session.id, "--latest")
    assert code == 0
    assert "Looks good." in out and "make test" not in out


def test_summary_and_item_filter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    made = make_session(new_repo(tmp_path), worktree=False)
    _write_log(made, "001-agent.jsonl", [INIT, ASSISTANT, RESULT], item="item-7")
    _write_log(made, "002-agent.jsonl", [INIT, RESULT], item="item-8")
    code, out, _ = run_cli(capsys, "logs", made.session.id, "--item", "item-7", "--summary")
    assert code == 0
    assert "001-agent.jsonl" in out and "outcome: success" in out
    assert "1 assistant message(s), 1 tool call(s)" in out
    assert "1,200 tokens" in out
    code, out, _ = run_cli(capsys, "logs", made.session.id, "--item", "nope")
    assert code == 0
    assert "No logs for work item 'nope'" in out


def test_unknown_log_and_session_are_usage_errors(
    session_with_logs: Made, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "logs", session_with_logs.session.id, "9")
    assert code == 2
    assert "no log '9'" in err and "it has: 1, 2" in err
    code, _, err = run_cli(capsys, "logs", "session-unknown")
    assert code == 2
    assert "prodigy sessions ls --all" in err


def test_no_logs_anywhere_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "logs")
    assert code == 2
    assert "no session has logs yet" in err


def test_non_json_lines_are_shown_raw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text("warning: something odd\n" + json.dumps(RESULT) + "\n")
    code, out, _ = run_cli(capsys, "logs", str(path))
    assert code == 0
    assert "| warning: something odd" in out and "[result] success" in out


def test_tail_follows_a_growing_log_until_its_result(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), worktree=False)
    path = _write_log(made, "001-claude-live.jsonl", [INIT])
    proc = subprocess.Popen(
        [sys.executable, "-m", "prodigy", "logs", made.session.id, "--tail"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    assert "[init] model claude-x" in _read_until(proc, "[init]")
    with path.open("a") as log:
        log.write(json.dumps(ASSISTANT)[:40])  # half a line: not shown until complete
        log.flush()
        time.sleep(0.3)
        log.write(json.dumps(ASSISTANT)[40:] + "\n")
        log.flush()
        assert "→ Bash: make test" in _read_until(proc, "→ Bash")
        assert proc.poll() is None  # still following: no result yet
        log.write(json.dumps(RESULT) + "\n")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "[result] success" in out


def _read_until(proc: subprocess.Popen[str], marker: str) -> str:
    assert proc.stdout is not None
    seen = ""
    while marker not in seen:
        line = proc.stdout.readline()
        assert line, f"prodigy logs --tail ended before {marker!r}: {seen}"
        seen += line
    return seen


def test_tail_of_a_running_session_waits_for_its_first_log(tmp_path: Path) -> None:
    made = make_session(new_repo(tmp_path), status=RunStatus.RUNNING, worktree=False)
    with running(made.session.id):
        proc = subprocess.Popen(
            [sys.executable, "-m", "prodigy", "logs", made.session.id, "--tail"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        assert "Waiting for the first agent log" in _read_until(proc, "Waiting")
        _write_log(made, "001-claude-first.jsonl", [INIT, RESULT])
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "001-claude-first.jsonl" in out and "[result] success" in out


@pytest.mark.parametrize("name", ["codex-commit.jsonl", "gemini-commit.jsonl"])
def test_following_a_codex_or_gemini_log_ends_at_its_final_event(tmp_path: Path, name: str) -> None:
    recorded = Path(__file__).parent / "fixtures" / "agents" / name
    path = tmp_path / name
    path.write_text(recorded.read_text() + '{"type": "after the end"}\n')

    lines = list(follow(path, sleep=lambda _: pytest.fail("waited for more lines")))

    assert lines == recorded.read_text().splitlines(keepends=True)


def test_codex_and_gemini_logs_read_as_well_as_claude_ones() -> None:
    fixtures = Path(__file__).parent / "fixtures" / "agents"
    codex = list(render_lines((fixtures / "codex-commit.jsonl").read_text().splitlines()))
    gemini = list(render_lines((fixtures / "gemini-commit.jsonl").read_text().splitlines()))

    assert codex[0].startswith("[init] codex thread ")
    assert "assistant: greeting added" in codex
    assert codex[-1].startswith("[result] success · 29,228 in / 146 out tokens")
    assert "  → write_file: /tmp/prodigy-fixture/repo/hello.txt" in gemini
    assert gemini[-1].startswith("[result] success · 37,031 in / 128 out tokens")

    failed = summarize(fixtures / "codex-usage-limit.jsonl")
    assert failed.summary.is_error
    assert failed.summary.result_text.startswith("You’ve hit your usage limit")
    done = summarize(fixtures / "gemini-commit.jsonl")
    assert not done.summary.is_error
    assert (done.tool_calls, done.usage.cost_source) == (2, "estimated")
    assert done.usage.model == "gemini-2.5-flash"
